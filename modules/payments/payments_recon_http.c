/* payments_recon_http.c - HTTP handlers for reconciliation reports and
 * payment alerts: operators start a channel's reconciliation for a day and
 * read reports and alerts (routes and permissions in payments_module.c,
 * contracts in openapi.yaml). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/csv.h"
#include "modules/payments/payments_http.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"
#include "server/date.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100

/* A path id: digits only, at least 1. */
static int path_id(const app_req *r, int64_t *out)
{
    return app_parse_int(app_param(r, 0), 1, INT64_MAX, out);
}

/* The list filters every list route here shares: limit, before (cursor),
 * date, channel. Sets a 400 problem and returns -1 on a bad value. */
typedef struct list_args {
    int64_t limit, before;
    const char *date, *channel;
} list_args;

static int list_args_parse(app_req *r, list_args *a)
{
    const char *lim = app_query(r, "limit"), *before = app_query(r, "before");
    int32_t d;

    a->limit = PAGE_DEFAULT;
    a->before = 0;
    a->date = app_query(r, "date");
    a->channel = app_query(r, "channel");
    if (lim && app_parse_int(lim, 1, PAGE_MAX, &a->limit) != 0) {
        app_problem(r, 400, "bad_limit", "Invalid limit", "limit is a whole number, 1..100.", "limit");
        return -1;
    }
    if (before && app_parse_int(before, 1, INT64_MAX, &a->before) != 0) {
        app_problem(r, 400, "bad_cursor", "Invalid cursor", "before is the next_before of the previous page.",
                    "before");
        return -1;
    }
    if (a->date && date_parse(a->date, &d) != 0) {
        app_problem(r, 400, "bad_date", "Invalid date", "Use YYYY-MM-DD.", "date");
        return -1;
    }
    if (a->channel && pay_channel_find(a->channel) == NULL) {
        app_problem(r, 400, "unknown_channel", "Unknown channel",
                    "channel must be alipay, wechatpay, policeapp or govportal.", "channel");
        return -1;
    }
    return 0;
}

/* {items, next_before}: the cursor is the last id (last_id) when the page
 * (n rows) is full. */
static void reply_page(app_req *r, json_t *items, int n, int64_t last_id, long long limit)
{
    app_reply_json(r, 200,
                   json_pack("{soso}", "items", items, "next_before",
                             n == limit && n > 0 ? json_integer(last_id) : json_null()));
}

/* ---- GET /v1/reconciliation/reports ------------------------------------ */

void payments_on_reports(app_req *r)
{
    list_args a;
    pay_report *rep = NULL;
    json_t *items;
    int n = 0;

    if (list_args_parse(r, &a) != 0)
        return;
    if (pay_sql_reports(r->db, a.date, a.channel, a.before, (int)a.limit, &rep, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, pay_report_json(&rep[i], NULL, 0, false));
    reply_page(r, items, n, n > 0 ? rep[n - 1].id : 0, a.limit);
    pay_report_array_free(rep, n);
}

/* ---- GET /v1/reconciliation/reports/{id} ------------------------------- */

/* A report with its lines. */
typedef struct report_full {
    pay_report rep;
    pay_report_line *lines;
    int nlines;
} report_full;

static void report_full_free(report_full *f)
{
    pay_report_clear(&f->rep);
    pay_report_line_array_free(f->lines, f->nlines);
    memset(f, 0, sizeof *f);
}

/* Reads report id (the path's) with its lines on r's connection; *found
 * false when there is none. Returns -1 on a database error. */
static int report_full_read(app_req *r, int64_t id, report_full *f, bool *found)
{
    memset(f, 0, sizeof *f);
    if (pay_sql_report_by_id(r->db, id, &f->rep, found) != 0 ||
        pay_sql_report_lines(r->db, id, &f->lines, &f->nlines) != 0)
        return -1;
    return 0;
}

/* report_full_read of the path's report, answering the 404 (detail: its
 * text, or NULL) and the database problem itself. Returns 0 when found. */
static int report_full_load(app_req *r, const char *detail, report_full *f)
{
    int64_t id;
    bool found = false;

    memset(f, 0, sizeof *f);
    if (path_id(r, &id) != 0) {
        app_problem(r, 404, "report_not_found", "Report not found", NULL, NULL);
        return -1;
    }
    if (report_full_read(r, id, f, &found) != 0) {
        app_problem_db(r);
        return -1;
    }
    if (!found) {
        app_problem(r, 404, "report_not_found", "Report not found", detail, NULL);
        return -1;
    }
    return 0;
}

void payments_on_report_get(app_req *r)
{
    report_full f;

    if (report_full_load(r, "No report with this id (re-running a day replaces its report).", &f) == 0)
        app_reply_json(r, 200, pay_report_json(&f.rep, f.lines, f.nlines, true));
    report_full_free(&f);
}

/* ---- GET /v1/reconciliation/reports/{id}/csv --------------------------- */

/* A number we wrote ourselves (no formula guard); empty for NULL. */
static void csv_int(pay_csv *csv, int64_t v, bool has)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%lld", (long long)v);
    pay_csv_field(csv, has ? buf : NULL, false);
}

void payments_on_report_csv(app_req *r)
{
    static const char *const HEAD[] = {"channel", "date", "kind", "entry_type", "order_no", "trade_no",
                                       "ledger_fen", "statement_fen", "line_no", "reason", "text"};
    report_full f;
    pay_csv csv;

    pay_csv_init(&csv);
    if (report_full_load(r, NULL, &f) != 0)
        goto done;
    for (size_t k = 0; k < sizeof HEAD / sizeof HEAD[0]; k++)
        pay_csv_field(&csv, HEAD[k], true);
    pay_csv_end_row(&csv);
    for (int i = 0; i < f.nlines; i++) {
        const pay_report_line *l = &f.lines[i];

        /* Order and trade numbers of not_recorded lines, and the text of
         * malformed ones, come from the channel's statement: every field is
         * quoted as RFC 4180 needs and text is guarded against spreadsheet
         * formulas. */
        pay_csv_field(&csv, f.rep.channel, true);
        pay_csv_field(&csv, f.rep.stmt_date, true);
        pay_csv_field(&csv, l->kind, true);
        pay_csv_field(&csv, l->entry_type, true);
        pay_csv_field(&csv, l->order_no, true);
        pay_csv_field(&csv, l->trade_no, true);
        csv_int(&csv, l->ledger_fen, l->has_ledger_fen);
        csv_int(&csv, l->statement_fen, l->has_statement_fen);
        csv_int(&csv, l->line_no, l->has_line_no);
        pay_csv_field(&csv, l->reason, true);
        pay_csv_field(&csv, l->raw_line, true);
        pay_csv_end_row(&csv);
    }
    app_add_header(r, "Content-Disposition", "attachment; filename=\"reconciliation.csv\"");
    app_reply_bytes(r, 200, "text/csv; charset=utf-8", csv.buf, csv.len);
done:
    pay_csv_free(&csv);
    report_full_free(&f);
}

/* ---- POST /v1/reconciliation/reports ----------------------------------- */

typedef struct run_arg {
    const char *channel, *date;
    pay_stmt s;
} run_arg;

static int run_tx(app_req *r, void *arg)
{
    run_arg *a = arg;
    pay_actor act = {&r->who, r->request_id, r->peer};
    report_full f;
    int64_t id = 0;
    bool found = false;
    int rc = -1;

    memset(&f, 0, sizeof f);
    if (pay_reconcile_apply(r->db, &act, a->channel, a->date, &a->s, &id) != 0 ||
        report_full_read(r, id, &f, &found) != 0 || !found)
        goto fail;
    app_reply_json(r, 201, pay_report_json(&f.rep, f.lines, f.nlines, true));
    rc = 0;
fail:
    report_full_free(&f);
    return rc;
}

void payments_on_reconcile(app_req *r)
{
    static const app_jfield fields[] = {
        {"channel", JF_STRING, true, 16},
        {"date", JF_STRING, true, 10},
    };
    run_arg a;
    const char *why = NULL;
    int32_t d;

    memset(&a, 0, sizeof a);
    if (app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    a.channel = app_json_str(r, "channel");
    a.date = app_json_str(r, "date");
    if (pay_channel_find(a.channel) == NULL) {
        app_problem(r, 400, "unknown_channel", "Unknown channel",
                    "channel must be alipay, wechatpay, policeapp or govportal.", "channel");
        return;
    }
    if (date_parse(a.date, &d) != 0) {
        app_problem(r, 400, "bad_date", "Invalid date", "Use YYYY-MM-DD.", "date");
        return;
    }
    if (d > date_shanghai_today(time(NULL))) {
        app_problem(r, 400, "date_in_future", "Date in the future",
                    "A statement exists only for today (so far) and earlier days.", "date");
        return;
    }
    /* The channel is asked on this worker, outside any transaction, before
     * the report is written in one (with the Idempotency-Key record). */
    if (pay_statement_fetch(a.channel, a.date, &a.s, &why) != 0) {
        if (strcmp(why, "no_statement_url") == 0) {
            app_problem(r, 409, "no_statement_url", "No statement for this channel",
                        "This channel has no statement address configured.", "channel");
        } else {
            pay_reconcile_failed(r->db, a.channel, a.date, why);
            app_problem(r, 502, "statement_unavailable", "Statement unavailable",
                        "The channel did not deliver its statement; try again later.", NULL);
        }
        goto done;
    }
    app_tx(r, run_tx, &a);
done:
    pay_stmt_free(&a.s);
}

/* ---- GET /v1/payments/alerts ------------------------------------------- */

void payments_on_alerts(app_req *r)
{
    const char *kind = app_query(r, "kind");
    list_args a;
    pay_alert *al = NULL;
    json_t *items;
    int n = 0;

    if (list_args_parse(r, &a) != 0)
        return;
    if (kind && (kind[0] == '\0' || strlen(kind) > 48)) {
        app_problem(r, 400, "bad_kind", "Invalid kind", "kind is an alert kind, at most 48 characters.", "kind");
        return;
    }
    if (pay_sql_alerts(r->db, a.date, a.channel, kind, a.before, (int)a.limit, &al, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, pay_alert_json(&al[i]));
    reply_page(r, items, n, n > 0 ? al[n - 1].id : 0, a.limit);
    pay_alert_array_free(al, n);
}

/* ---- GET /v1/payments/alerts/{id} -------------------------------------- */

void payments_on_alert_get(app_req *r)
{
    pay_alert al;
    bool found = false;
    int64_t id;

    if (path_id(r, &id) != 0) {
        app_problem(r, 404, "alert_not_found", "Alert not found", NULL, NULL);
        return;
    }
    if (pay_sql_alert_by_id(r->db, id, &al, &found) != 0)
        app_problem_db(r);
    else if (!found)
        app_problem(r, 404, "alert_not_found", "Alert not found", NULL, NULL);
    else
        app_reply_json(r, 200, pay_alert_json(&al));
    pay_alert_clear(&al);
}
