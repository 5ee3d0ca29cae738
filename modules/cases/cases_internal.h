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

#endif
