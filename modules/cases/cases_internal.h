/* cases_internal.h - shared between the cases module's files. */
#ifndef ONETRIP_CASES_INTERNAL_H
#define ONETRIP_CASES_INTERNAL_H

#include <stdint.h>

#include "db/db.h"
#include "modules/cases/workdays.h"

/* Builds the calendar from cases.holidays / cases.makeup_workdays (module
 * init). -1 when the configuration is invalid (logged). */
int cases_calendar_load(void);
/* The calendar loaded at start-up (NULL before: plain Monday..Friday). */
const cases_calendar *cases_calendar_current(void);

/* cases_set_state with a reason and an actor for the history ("op:12"). */
int cases_move(db_conn *c, int64_t case_id, const char *state, const char *reason,
               const char *actor, const char **why);

#endif
