/* cases.h - every application is a case (the cases module's public API,
 * used by registration, violations, payments and partner modules).
 *
 * All functions run INSIDE the caller's transaction (app_tx) on its
 * connection, so the case changes commit with the business change. They
 * block (database); worker threads only. Return 0, or -1 with either a
 * database error left in c or *why set to a stable reason code (then the
 * database is untouched by the failed call). */
#ifndef ONETRIP_CASES_H
#define ONETRIP_CASES_H

#include <stdint.h>
#include "db/db.h"

typedef struct cases_new {
    const char *item_code;     /* catalog service item, e.g. "VEH-REG-NEW" */
    int64_t applicant_id;      /* citizen id */
    const char *channel;       /* "app" | "window" | "post" | "dealer" | "insurer" | "hospital" | "court" */
    int64_t outlet_id;         /* 0 when none (app) */
    const char *assisted_kind; /* NULL, "operator", "partner", "agent" */
    int64_t assisted_id;
    const char *ref_type;      /* the business object, e.g. "registration" */
    const char *ref_id;        /* its id as text */
} cases_new;

/* Creates a submitted case under the item's current catalog version with
 * its promised deadline (working days from the holiday calendar). number
 * receives the public case number and query_code the code that lets
 * anyone see its progress. why: "unknown_item", "channel_not_offered". */
int cases_create(db_conn *c, const cases_new *n, int64_t *case_id, char number[32],
                 char query_code[16], const char **why);
/* Moves the case: "accepted", "in_progress", "completed", "rejected",
 * "cancelled". why: "unknown_case", "bad_transition", "materials_missing"
 * (completion while materials are still awaited: they are supplied, or
 * replaced by a commitment over POST /v1/cases/{n}/transitions, first). */
int cases_set_state(db_conn *c, int64_t case_id, const char *state, const char **why);
/* Finds the case of a business object (0 when none). */
int cases_find_by_ref(db_conn *c, const char *ref_type, const char *ref_id, int64_t *case_id);
/* Records one physical visit (a window or outlet checked the applicant in).
 * The calling module vouches for the visit (no outlet or state rule here,
 * unlike POST /v1/cases/{n}/trips), but a visit is counted once: a second
 * call for the same case and outlet on the same bureau day is the same
 * visit and changes nothing (returns 0). -1 also for an unknown case. */
int cases_record_trip(db_conn *c, int64_t case_id, int64_t outlet_id, int64_t operator_id);
/* The same for a visit the caller can name (visit_ref, at most 64 bytes,
 * e.g. "appointment:42"): each named visit is counted once, so two
 * appointments kept at one outlet on one day are two trips. */
int cases_record_visit(db_conn *c, int64_t case_id, int64_t outlet_id, int64_t operator_id,
                       const char *visit_ref);

#endif
