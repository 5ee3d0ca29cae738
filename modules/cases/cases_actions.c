/* cases_actions.c - what callers do to a case, as business functions:
 * (db, caller, input) -> a result, or a reason code of the module's error
 * table (cases_module.c). No HTTP here: the handlers in cases_http.c
 * translate a reason with app_fail and write the audit record. All run
 * inside the caller's transaction (app_tx) and block (database). */
#include <string.h>

#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_sql.h"

const char *cases_caller_channel(const app_principal *who)
{
    static const struct { unsigned bit; const char *channel; } partners[] = {
        {PARTNER_POST, "post"}, {PARTNER_INSURER, "insurer"}, {PARTNER_HOSPITAL, "hospital"},
        {PARTNER_COURT, "court"}, {PARTNER_DEALER, "dealer"}, {PARTNER_STATION, "station"},
    };
    if (who->kind == CALLER_CITIZEN)
        return "app";
    if (who->kind == CALLER_OPERATOR)
        return (who->roles & ROLE_INSPECTOR) && !(who->roles & ROLE_WINDOW) ? "station" : "window";
    if (who->kind == CALLER_PARTNER)
        for (size_t i = 0; i < sizeof partners / sizeof partners[0]; i++)
            if (who->partner_type & partners[i].bit)
                return partners[i].channel;
    return NULL;
}

/* Sets the reason, returns -1. */
static int refuse(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

int cases_rate(db_conn *c, const app_principal *who, const cases_case *k, int score,
               const char *comment, int64_t *rect_id, const char **why)
{
    const char *channel = "app";
    cases_rating_row ra = {0};
    bool rated = false, found = false;
    char st[16];
    int rc = -1;

    *rect_id = 0;
    *why = NULL;
    /* From any channel: the applicant in the app, or on a terminal at the
     * window or partner outlet that handled the case (staff there submit
     * the applicant's own score; anywhere else they may not). */
    if (who->kind != CALLER_CITIZEN) {
        channel = cases_caller_channel(who);
        if (channel == NULL || !k->has_outlet_id || k->outlet_id != who->outlet_id)
            return refuse(why, "not_your_outlet");
    }
    /* The case row lock serialises two ratings of one case; the second
     * answers 409 (found below, or refused by the primary key when this
     * transaction's snapshot predates the first one's commit). */
    if (cases_sql_lock_state(c, k->id, st, &found) != 0)
        goto done;
    if (strcmp(st, "completed") != 0) {
        rc = refuse(why, "case_not_completed");
        goto done;
    }
    if (cases_sql_rating_get(c, k->id, &ra, &rated) != 0)
        goto done;
    if (rated) {
        rc = refuse(why, "already_rated");
        goto done;
    }
    if (cases_sql_rating_insert(c, k->id, k->applicant_id, channel,
                                who->kind == CALLER_OPERATOR ? "operator"
                                : who->kind == CALLER_PARTNER ? "partner" : NULL,
                                who->id, score, comment ? comment : "") != 0) {
        /* The check above reads the transaction's snapshot, which may
         * predate a concurrent rating; the primary key decides. */
        if (db_error(c) == DB_ERR_DUP) {
            db_error_clear(c);
            rc = refuse(why, "already_rated");
        }
        goto done;
    }
    if (score <= CASES_RECTIFY_MAX_SCORE &&
        cases_sql_rect_insert(c, k->id, k->outlet_id, score, (int)cases_conf.rectification_hours,
                              rect_id) != 0)
        goto done;
    /* The figures count satisfaction by completion day: that day's rollup
     * is now stale. */
    if (k->has_completed_day && cases_sql_mark_dirty(c, k->completed_day) != 0)
        goto done;
    rc = 0;
done:
    cases_rating_row_clear(&ra);
    return rc;
}

int cases_rect_answer(db_conn *c, const app_principal *who, int64_t id, const char *answer,
                      cases_rect_row *out, const char **why)
{
    bool done = false, found = false;

    *why = NULL;
    if (cases_sql_rect_lock(c, id, out, &found) != 0)
        return -1;
    if (!found)
        return refuse(why, "rectification_not_found");
    if (strcmp(out->state, "open") != 0)
        return refuse(why, "already_answered");
    if (cases_sql_rect_answer(c, id, answer, who->id, &done) != 0)
        return -1;
    if (!done)
        return refuse(why, "already_answered");
    if (cases_sql_event(c, out->case_id, "rectification_answered", NULL, NULL, who->name, NULL) != 0)
        return -1;
    cases_rect_row_clear(out);
    return cases_sql_rect_lock(c, id, out, NULL);
}
