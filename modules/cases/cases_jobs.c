/* cases_jobs.c - the cases module's jobs:
 *   cases_time_limits  flags open cases at 80% of their promised time,
 *                      raises an alert for overdue ones and for
 *                      rectification tickets not answered in time;
 *   cases_supply       reminds applicants of materials to supply (the day
 *                      before they are due) and escalates to the outlet
 *                      and supervision once the grace period is over;
 *   cases_rollup       keeps the daily figures rollup current.
 * Each step is one autocommit statement guarded by a condition (INSERT
 * IGNORE on a unique key, UPDATE ... WHERE flag = 0), so a job interrupted
 * half way, or run twice, leaves nothing duplicated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cases/cases.h"
#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_jobs.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_sql.h"
#include "server/app.h"
#include "server/date.h"

#define BATCH 500

static int32_t day_of(const char *s)
{
    int32_t d = 0;
    return s && date_parse(s, &d) == 0 ? d : 0;
}

int cases_job_time_limits(app_job_ctx *ctx, int64_t *count)
{
    const cases_calendar *cal = cases_calendar_current();
    int32_t today = date_shanghai_today((time_t)ctx->now_unix);
    int64_t after = 0;
    cases_open_row *rows = NULL;
    cases_rect_due_row *due = NULL;
    int rc = -1, n = 0;

    *count = 0;
    for (;;) {
        if (cases_sql_open_batch(ctx->db, after, BATCH, &rows, &n) != 0)
            goto done;
        for (int i = 0; i < n; i++) {
            int64_t id = rows[i].id, outlet = rows[i].outlet_id;
            int what = cases_time_check(cal, day_of(rows[i].submitted_day),
                                        day_of(rows[i].deadline), (int)rows[i].promised_days,
                                        today, rows[i].warned);
            after = id;
            /* Alert first, flag second: a crash in between re-runs both,
             * and the alert's unique key makes the repeat a no-op. */
            if (what == CASES_TIME_OVERDUE) {
                if (cases_sql_alert(ctx->db, id, outlet, "overdue") != 0 ||
                    cases_sql_flag_overdue(ctx->db, id) != 0)
                    goto done;
                (*count)++;
            } else if (what == CASES_TIME_WARN) {
                if (cases_sql_alert(ctx->db, id, outlet, "time_warning") != 0 ||
                    cases_sql_flag_warned(ctx->db, id) != 0)
                    goto done;
                (*count)++;
            }
        }
        if (n < BATCH)
            break;
        free(rows);
        rows = NULL;
    }
    free(rows);
    rows = NULL;
    if (cases_sql_rect_overdue(ctx->db, ctx->now_unix, &due, &n) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        if (cases_sql_alert(ctx->db, due[i].case_id, due[i].outlet_id, "rectification_overdue") != 0)
            goto done;
        (*count)++;
    }
    rc = 0;
done:
    free(due);
    free(rows);
    return rc;
}

int cases_job_supply(app_job_ctx *ctx, int64_t *count)
{
    const cases_calendar *cal = cases_calendar_current();
    int32_t today = date_shanghai_today((time_t)ctx->now_unix);
    int grace = (int)cases_conf.supply_grace_days;
    char horizon[DATE_STR_SIZE];
    int64_t after = 0;
    cases_supply_row *rows = NULL;
    int rc = -1, n = 0;

    *count = 0;
    /* Nothing due later than the next working day can need a reminder. */
    date_format(cases_add_workdays(cal, today, 1), horizon);
    for (;;) {
        if (cases_sql_supply_batch(ctx->db, horizon, after, BATCH, &rows, &n) != 0)
            goto done;
        for (int i = 0; i < n; i++) {
            int64_t id = rows[i].id, outlet = rows[i].outlet_id;
            const char *st = rows[i].supply_state;
            int what = cases_supply_check(cal, day_of(rows[i].supply_due), today, grace, st);
            bool done = false;
            after = id;
            if (what == CASES_SUPPLY_NONE)
                continue;
            if (cases_sql_supply_move(ctx->db, id, st,
                                      what == CASES_SUPPLY_REMIND ? "reminded" : "escalated", &done) != 0)
                goto done;
            if (!done)
                continue; /* supplied meanwhile */
            /* The reminder is a notice in the applicant's case history; an
             * escalation also reaches the outlet and supervision. */
            if (cases_sql_event(ctx->db, id, what == CASES_SUPPLY_REMIND ? "supply_reminder" : "supply_escalated",
                                NULL, NULL, "system", NULL) != 0 ||
                cases_sql_alert(ctx->db, id, outlet,
                                what == CASES_SUPPLY_REMIND ? "supply_reminder" : "supply_escalated") != 0)
                goto done;
            (*count)++;
        }
        if (n < BATCH)
            break;
        free(rows);
        rows = NULL;
    }
    rc = 0;
done:
    free(rows);
    return rc;
}

typedef struct rollup_arg {
    const char *day;
} rollup_arg;

static int rollup_tx(db_conn *c, void *arg)
{
    return cases_sql_rollup_day(c, ((rollup_arg *)arg)->day);
}

int cases_rollup_day(db_conn *c, int32_t day)
{
    char s[DATE_STR_SIZE];
    rollup_arg a = {s};
    date_format(day, s);
    /* Delete and re-insert in one transaction: readers see the old rows or
     * the new ones, never none. */
    return db_tx(c, rollup_tx, &a, 5, NULL);
}

/* The rollup answers the figures for every day before today (today is
 * computed live from cases). Each run recomputes the last
 * cases.rollup_days days, which catches completions around midnight and
 * late changes, plus the days a late rating marked dirty. Recomputing one
 * day reads only that day's completions (index on completed_day), so a
 * run costs O(recent cases), however many million cases are stored. */
int cases_job_rollup(app_job_ctx *ctx, int64_t *count)
{
    int32_t today = date_shanghai_today((time_t)ctx->now_unix);
    int days = (int)cases_conf.rollup_days;
    cases_day_row *rows = NULL;
    int rc = -1, n = 0;

    *count = 0;
    if (cases_sql_dirty_days(ctx->db, &rows, &n) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        /* Clear first, then recompute: a rating committed after the clear
         * marks the day again, so none is lost. */
        if (cases_sql_dirty_clear(ctx->db, rows[i].day) != 0 ||
            cases_rollup_day(ctx->db, day_of(rows[i].day)) != 0)
            goto done;
        (*count)++;
    }
    for (int d = 1; d <= days; d++) {
        if (cases_rollup_day(ctx->db, today - d) != 0)
            goto done;
        (*count)++;
    }
    rc = 0;
done:
    free(rows);
    return rc;
}

/* onetripd cases-rollup FROM TO: rebuild the rollup of a range of days
 * (after a data import or a change of the figures' definitions). */
int cases_cmd_rollup(db_conn *c, int argc, char **argv)
{
    int32_t from, to;
    if (argc != 2 || date_parse(argv[0], &from) != 0 || date_parse(argv[1], &to) != 0 || from > to ||
        to - from > 3660) {
        fprintf(stderr, "usage: onetripd cases-rollup FROM TO (YYYY-MM-DD, at most ten years)\n");
        return 2;
    }
    for (int32_t d = from; d <= to; d++)
        if (cases_rollup_day(c, d) != 0) {
            fprintf(stderr, "onetripd cases-rollup: database error: %s\n", db_errmsg(c));
            return 1;
        }
    printf("cases-rollup: %d days recomputed\n", (int)(to - from + 1));
    return 0;
}

typedef struct file_arg {
    cases_new n;
    int64_t id;
    char number[32], code[16];
    const char *why;
} file_arg;

static int file_tx(db_conn *c, void *arg)
{
    file_arg *f = arg;
    return cases_create(c, &f->n, &f->id, f->number, f->code, &f->why);
}

/* onetripd cases-file ITEM CITIZEN_ID CHANNEL [OUTLET_ID]: files a case
 * through cases_create, as a business module would (demo data, tests). */
int cases_cmd_file(db_conn *c, int argc, char **argv)
{
    file_arg f;
    memset(&f, 0, sizeof f);
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: onetripd cases-file ITEM CITIZEN_ID CHANNEL [OUTLET_ID]\n");
        return 2;
    }
    f.n.item_code = argv[0];
    f.n.applicant_id = strtoll(argv[1], NULL, 10);
    f.n.channel = argv[2];
    f.n.outlet_id = argc == 4 ? strtoll(argv[3], NULL, 10) : 0;
    f.n.ref_type = "cli";
    if (db_tx(c, file_tx, &f, 5, NULL) != 0) {
        fprintf(stderr, "onetripd cases-file: %s\n", f.why ? f.why : db_errmsg(c));
        return 1;
    }
    printf("%s %s\n", f.number, f.code);
    return 0;
}
