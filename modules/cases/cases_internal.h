/* cases_internal.h - shared between the cases module's files. */
#ifndef ONETRIP_CASES_INTERNAL_H
#define ONETRIP_CASES_INTERNAL_H

#include <stdint.h>

#include "db/db.h"
#include "modules/cases/cases_sql.h"
#include "server/app.h"
#include "modules/cases/workdays.h"

/* This module's configuration ("cases.supply_days" is
 * cases_conf.supply_days), bound and checked at start-up (cases_module.c). */
typedef struct cases_settings {
    const char *holidays, *makeup_workdays;
    int64_t supply_days, supply_grace_days, rectification_hours, rollup_days;
} cases_settings;
extern cases_settings cases_conf;

/* Builds the calendar from cases.holidays / cases.makeup_workdays (module
 * init). -1 when the configuration is invalid (logged). */
int cases_calendar_load(void);
/* The calendar loaded at start-up (NULL before: plain Monday..Friday). */
const cases_calendar *cases_calendar_current(void);

/* cases_set_state with a reason and an actor for the history ("op:12"). */
int cases_move(db_conn *c, int64_t case_id, const char *state, const char *reason,
               const char *actor, const char **why);

/* ---- business functions (cases_actions.c) ----
 * Inside the caller's transaction; block (database). Return 0, or -1 with
 * *why set to a reason code of the module's error table (the database
 * untouched by the refusal) or *why NULL and a database error left in c. */

/* The kind of outlet a caller stands for, as a catalog channel (a rating
 * comes from it, a visit happens at it); NULL if none. */
const char *cases_caller_channel(const app_principal *who);
/* who rates case k (score 1..5 and comment checked by the route). A score
 * of CASES_RECTIFY_MAX_SCORE or less opens a rectification: *rect_id, else
 * 0. why: not_your_outlet, case_not_completed, already_rated. */
int cases_rate(db_conn *c, const app_principal *who, const cases_case *k, int score,
               const char *comment, int64_t *rect_id, const char **why);
/* A supervisor answers rectification id; *out is the answered ticket (the
 * caller clears it, also on failure). why: rectification_not_found,
 * already_answered. */
int cases_rect_answer(db_conn *c, const app_principal *who, int64_t id, const char *answer,
                      cases_rect_row *out, const char **why);

/* A refusal that needs more than a code: the problem's detail (NULL: the
 * table's), the offending field, extra members, and whether the refusal is
 * itself a decision to record (a refused check-in is audited and
 * committed). code NULL: a database error left in the connection. */
typedef struct cases_refusal {
    const char *code, *detail, *field;
    json_t *extra; /* owned; cases_refusal_clear frees it */
    bool recorded;
} cases_refusal;
void cases_refusal_clear(cases_refusal *f);

/* A JSON array stored as text (missing or committed materials); an empty
 * array for NULL or bad text. The caller owns the result. */
json_t *cases_json_list(const char *text);

/* A check-in: the visit who records for case k, with the applicant's query
 * code (NULL if none; the first visit of a case filed online needs it).
 * Decided on the locked row (cases_trip_refusal); the first visit of an
 * online case assigns the caller's outlet to it. A visit already recorded
 * (same outlet, same bureau day) is not counted again (out->counted false).
 * Refusals: cases_trip_refusal's reasons (recorded; case_closed with the
 * state as extra), case_not_found, other_outlet, internal. */
typedef struct cases_trip_out {
    int64_t trips;           /* the case's trips after this visit */
    char visit_day[16];      /* the bureau day, YYYY-MM-DD */
    bool counted, assigned;  /* a new visit; the case got the caller's outlet */
} cases_trip_out;
int cases_check_in(db_conn *c, const app_principal *who, const cases_case *k, const char *code,
                   cases_trip_out *out, cases_refusal *f);

/* An operator moves case k (to: accepted, in_progress, completed,
 * rejected, cancelled; the reason a rejection needs is checked by the
 * caller). missing and commitment are JSON arrays of material names (NULL
 * when absent): on acceptance, what is missing (non-key materials, where
 * the item allows it; due in cases.supply_days working days) and what the
 * applicant commits to supply; on completion, a commitment covering what
 * is still missing. *committed: a commitment was recorded at completion.
 * Refusals: other_outlet, materials_only_on_accept, the material checks
 * (field missing or commitment), nothing_missing, not_missing,
 * materials_missing (extra: missing, commitment_possible), bad_transition
 * (field to), case_not_found, internal. */
typedef struct cases_transition_in {
    const char *to, *reason;
    const json_t *missing, *commitment;
} cases_transition_in;
int cases_transition(db_conn *c, const app_principal *who, const cases_case *k,
                     const cases_transition_in *in, bool *committed, cases_refusal *f);

/* An operator records the materials the applicant supplied for case k
 * (given: a non-empty JSON array of names, each outstanding). *left is
 * what is still missing (owned by the caller; NULL on failure) and
 * supply_state the case's supply state now. Refusals: other_outlet,
 * case_not_found, case_closed (extra: state), nothing_missing, not_missing
 * (field materials). */
int cases_supply(db_conn *c, const app_principal *who, const cases_case *k, const json_t *given,
                 json_t **left, char supply_state[16], cases_refusal *f);

#endif
