/* cases_internal.h - shared between the cases module's files. */
#ifndef ONETRIP_CASES_INTERNAL_H
#define ONETRIP_CASES_INTERNAL_H

#include <stdint.h>

#include "db/db.h"
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

#endif
