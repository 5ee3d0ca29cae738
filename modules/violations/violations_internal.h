/* violations_internal.h - helpers shared by the module's handler files. */
#ifndef ONETRIP_VIOLATIONS_INTERNAL_H
#define ONETRIP_VIOLATIONS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/violations/violations.h"
#include "server/app.h"

/* A problem of the module's error table (app_fail) that also carries its
 * code as the member `reason` (and extra's members: stolen, may be NULL).
 * detail NULL: the table's. Returns -1, for "return violations_refuse(...)". */
int violations_refuse(app_req *r, const char *code, const char *detail, json_t *extra);

/* A plate refused by violations_plate_normalize: 400 with registration's
 * reason code (plate_format, plate_prefix, ...) naming field. Those codes
 * are registration's, answered there as 422, so they are in no table of
 * this module (a code means one status everywhere). Returns -1. */
int violations_bad_plate(app_req *r, const char *why, const char *field);

/* audit_write with a numeric target and a detail it takes (NULL: none). */
int violations_audit(app_req *r, const char *action, const char *type, int64_t id,
                     const char *outcome, json_t *detail);

/* The JSON of a violation with its amount due on today (a Shanghai day).
 * staff adds the internal links (vehicle, licence, handler, case). New
 * reference for the caller. */
json_t *violations_to_json(const violations_row *v, int32_t today, bool staff);

/* Handlers (violations_http.c, violations_bindings_http.c). */
void violations_on_record(app_req *r);        /* data: the recorder kind, "partner" | "operator" */
void violations_on_list_mine(app_req *r);
void violations_on_search(app_req *r);
void violations_on_handle(app_req *r);        /* data: bool, at a window */
void violations_on_cancel(app_req *r);
void violations_on_binding_create(app_req *r);
void violations_on_bindings_list(app_req *r); /* data: bool, held (else owned) */
void violations_on_binding_consent(app_req *r);
void violations_on_binding_delete(app_req *r);

#endif
