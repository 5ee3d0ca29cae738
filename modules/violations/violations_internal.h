/* violations_internal.h - helpers shared by the module's handler files. */
#ifndef ONETRIP_VIOLATIONS_INTERNAL_H
#define ONETRIP_VIOLATIONS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/violations/violations.h"
#include "modules/violations/violations_sql.h"
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

/* ---- business functions (violations_actions.c) ----
 * Inside the caller's transaction, each writing its audit records as a;
 * block (database). 0, or -1 with *f set (a code of the module's error
 * table; f->recorded: the refused attempt's audit record is to commit) or
 * f->code NULL and a database error left in c. */

/* Handling a violation: the citizen's (online; decision_no: the decision
 * in hand, finds a violation, ties nothing) or at a window (licence_id
 * named by the operator, the documents checked: VIOLATIONS_DOC_* and as
 * given, compact JSON or NULL). */
typedef struct violations_handle_in {
    int64_t violation_id;
    int64_t licence_id;
    const char *decision_no;
    unsigned documents;
    const char *documents_json;
    bool window;
} violations_handle_in;
typedef struct violations_handled {
    violations_row v;          /* as it is now */
    int licence_points;
    char licence_status[16];
    bool full_score_study;
    int64_t case_id;
    char case_number[32], query_code[16];
    const char *tie;           /* static string */
} violations_handled;
/* Refusals: licence_not_found (field licence_id), not_found, no_licence,
 * no_tie_to_vehicle (recorded), already_handled, violation_cancelled,
 * documents_required (field documents), the licence and class checks,
 * points_would_reach_12, service_not_configured, internal. */
int violations_handle(db_conn *c, const app_actor *a, const violations_handle_in *in,
                      violations_handled *out, app_refusal *f);
/* An operator cancels violation id (reason checked): an open payment order
 * is closed, handled points go back into their cycle, the case is
 * cancelled. *out is the violation as it is now. Refusals: not_found,
 * not_cancellable (extra state), payment_pending (recorded; extra
 * order_no). */
int violations_cancel(db_conn *c, const app_actor *a, int64_t id, const char *reason,
                      violations_row *out, app_refusal *f);

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
