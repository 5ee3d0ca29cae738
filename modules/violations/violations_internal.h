/* violations_internal.h - helpers shared by the module's handler files. */
#ifndef ONETRIP_VIOLATIONS_INTERNAL_H
#define ONETRIP_VIOLATIONS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/violations/violations.h"
#include "server/app.h"

/* A path parameter as a positive id; false (reply 404 yourself) otherwise. */
bool violations_param_id(const app_req *r, int i, int64_t *out);

/* The JSON of a violation with its amount due on today (a Shanghai day).
 * staff adds the internal links (vehicle, licence, handler, case). New
 * reference for the caller. */
json_t *violations_to_json(const violations_row *v, int32_t today, bool staff);

/* Handlers (violations_http.c, violations_bindings_http.c). */
void violations_on_intake(app_req *r);
void violations_on_record_window(app_req *r);
void violations_on_list_mine(app_req *r);
void violations_on_search(app_req *r);
void violations_on_handle(app_req *r);
void violations_on_handle_window(app_req *r);
void violations_on_cancel(app_req *r);
void violations_on_binding_create(app_req *r);
void violations_on_bindings_list(app_req *r);
void violations_on_binding_requests(app_req *r);
void violations_on_binding_consent(app_req *r);
void violations_on_binding_delete(app_req *r);

#endif
