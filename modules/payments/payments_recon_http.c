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
#include "server/parse.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100

/* A path id: digits only, at least 1. */
static int path_id(const app_req *r, int64_t *out)
{
    long long v = 0;
    if (app_parse_digits(app_param(r, 0), 1, INT64_MAX, &v) != 0)
        return -1;
    *out = v;
    return 0;
}

/* The list filters every list route here shares: limit, before (cursor),
 * date, channel. Sets a 400 problem and returns -1 on a bad value. */
typedef struct list_args {
    long long limit, before;
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
    if (lim && app_parse_digits(lim, 1, PAGE_MAX, &a->limit) != 0) {
        app_problem(r, 400, "bad_limit", "Invalid limit", "limit is a whole number, 1..100.", "limit");
        return -1;
    }
    if (before && app_parse_digits(before, 1, INT64_MAX, &a->before) != 0) {
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

/* {items, next_before}: the cursor is the last id when the page is full. */
static void reply_page(app_req *r, json_t *items, const db_rows *rows, long long limit)
{
    app_reply_json(r, 200,
                   json_pack("{soso}", "items", items, "next_before",
                             rows->nrows == limit && rows->nrows > 0
                                 ? json_integer(db_cell_i64(rows, rows->nrows - 1, 0))
                                 : json_null()));
}

/* ---- GET /v1/reconciliation/reports ------------------------------------ */

void payments_on_reports(app_req *r)
{
    list_args a;
    db_rows *rep = NULL;
    json_t *items;

    if (list_args_parse(r, &a) != 0)
        return;
    if (pay_sql_reports(r->db, a.date, a.channel, a.before, (int)a.limit, &rep) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < rep->nrows; i++)
        json_array_append_new(items, pay_report_json(rep, i, NULL));
    reply_page(r, items, rep, a.limit);
    db_rows_free(rep);
}

/* ---- GET /v1/reconciliation/reports/{id} ------------------------------- */

void payments_on_report_get(app_req *r)
{
    db_rows *rep = NULL, *l = NULL;
    int64_t id;

    if (path_id(r, &id) != 0) {
        app_problem(r, 404, "report_not_found", "Report not found", NULL, NULL);
        goto done;
    }
    if (pay_sql_report_by_id(r->db, id, &rep) != 0 || pay_sql_report_lines(r->db, id, &l) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (rep->nrows != 1) {
        app_problem(r, 404, "report_not_found", "Report not found",
                    "No report with this id (re-running a day replaces its report).", NULL);
        goto done;
    }
    app_reply_json(r, 200, pay_report_json(rep, 0, l));
done:
    db_rows_free(rep);
    db_rows_free(l);
}

/* ---- GET /v1/reconciliation/reports/{id}/csv --------------------------- */

void payments_on_report_csv(app_req *r)
{
    static const char *const HEAD[] = {"channel", "date", "kind", "entry_type", "order_no", "trade_no",
                                       "ledger_fen", "statement_fen", "line_no", "reason", "text"};
    db_rows *rep = NULL, *l = NULL;
    int64_t id;
    pay_csv csv;

    pay_csv_init(&csv);
    if (path_id(r, &id) != 0) {
        app_problem(r, 404, "report_not_found", "Report not found", NULL, NULL);
        goto done;
    }
    if (pay_sql_report_by_id(r->db, id, &rep) != 0 || pay_sql_report_lines(r->db, id, &l) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (rep->nrows != 1) {
        app_problem(r, 404, "report_not_found", "Report not found", NULL, NULL);
        goto done;
    }
    for (size_t k = 0; k < sizeof HEAD / sizeof HEAD[0]; k++)
        pay_csv_field(&csv, HEAD[k], true);
    pay_csv_end_row(&csv);
    for (int i = 0; i < l->nrows; i++) {
        /* Order and trade numbers of not_recorded lines, and the text of
         * malformed ones, come from the channel's statement: every field is
         * quoted as RFC 4180 needs and text is guarded against spreadsheet
         * formulas. */
        pay_csv_field(&csv, db_cell(rep, 0, 1), true);
        pay_csv_field(&csv, db_cell(rep, 0, 2), true);
        pay_csv_field(&csv, db_cell(l, i, 0), true);
        pay_csv_field(&csv, db_cell(l, i, 1), true);
        pay_csv_field(&csv, db_cell(l, i, 2), true);
        pay_csv_field(&csv, db_cell(l, i, 3), true);
        pay_csv_field(&csv, db_cell(l, i, 4), false);
        pay_csv_field(&csv, db_cell(l, i, 5), false);
        pay_csv_field(&csv, db_cell(l, i, 6), false);
        pay_csv_field(&csv, db_cell(l, i, 7), true);
        pay_csv_field(&csv, db_cell(l, i, 8), true);
        pay_csv_end_row(&csv);
    }
    app_add_header(r, "Content-Disposition", "attachment; filename=\"reconciliation.csv\"");
    app_reply_bytes(r, 200, "text/csv; charset=utf-8", csv.buf, csv.len);
done:
    pay_csv_free(&csv);
    db_rows_free(rep);
    db_rows_free(l);
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
    db_rows *rep = NULL, *l = NULL;
    int64_t id = 0;
    int rc = -1;

    if (pay_reconcile_apply(r->db, &act, a->channel, a->date, &a->s, &id) != 0 ||
        pay_sql_report_by_id(r->db, id, &rep) != 0 || pay_sql_report_lines(r->db, id, &l) != 0)
        goto fail;
    app_reply_json(r, 201, pay_report_json(rep, 0, l));
    rc = 0;
fail:
    db_rows_free(rep);
    db_rows_free(l);
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
    db_rows *al = NULL;
    json_t *items;

    if (list_args_parse(r, &a) != 0)
        return;
    if (kind && (kind[0] == '\0' || strlen(kind) > 48)) {
        app_problem(r, 400, "bad_kind", "Invalid kind", "kind is an alert kind, at most 48 characters.", "kind");
        return;
    }
    if (pay_sql_alerts(r->db, a.date, a.channel, kind, a.before, (int)a.limit, &al) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < al->nrows; i++)
        json_array_append_new(items, pay_alert_json(al, i));
    reply_page(r, items, al, a.limit);
    db_rows_free(al);
}

/* ---- GET /v1/payments/alerts/{id} -------------------------------------- */

void payments_on_alert_get(app_req *r)
{
    db_rows *al = NULL;
    int64_t id;

    if (path_id(r, &id) != 0) {
        app_problem(r, 404, "alert_not_found", "Alert not found", NULL, NULL);
        return;
    }
    if (pay_sql_alert_by_id(r->db, id, &al) != 0) {
        app_problem_db(r);
        return;
    }
    if (al->nrows != 1)
        app_problem(r, 404, "alert_not_found", "Alert not found", NULL, NULL);
    else
        app_reply_json(r, 200, pay_alert_json(al, 0));
    db_rows_free(al);
}
