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

/* The list filters every list route here shares, declared in
 * payments_module.c and checked before the handler runs: limit, before
 * (cursor), date, channel. */
typedef struct list_args {
    int64_t limit, before;
    const char *date, *channel;
} list_args;

static list_args list_args_of(const app_req *r)
{
    list_args a = {app_query_int(r, "limit", PAY_PAGE_DEFAULT), app_query_int(r, "before", 0),
                   app_query(r, "date"), app_query(r, "channel")};
    return a;
}

/* ---- GET /v1/reconciliation/reports ------------------------------------ */

void payments_on_reports(app_req *r)
{
    list_args a = list_args_of(r);
    pay_report *rep = NULL;
    json_t *items;
    int n = 0;

    if (pay_sql_reports(r->db, a.date, a.channel, a.before, (int)a.limit, &rep, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, pay_report_json(&rep[i], NULL, 0, false));
    app_reply_json(r, 200, app_json_page(items, n, a.limit, n > 0 ? rep[n - 1].id : 0));
    pay_report_array_free(rep, n);
}

/* ---- GET /v1/reconciliation/reports/{id}[/csv] ----------------------- */

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

/* Reads report id with its lines on r's connection; *found false when
 * there is none. Returns -1 on a database error. */
static int report_full_read(app_req *r, int64_t id, report_full *f, bool *found)
{
    memset(f, 0, sizeof *f);
    if (pay_sql_report_by_id(r->db, id, &f->rep, found) != 0 ||
        pay_sql_report_lines(r->db, id, &f->lines, &f->nlines) != 0)
        return -1;
    return 0;
}

/* A number we wrote ourselves (no formula guard); empty for NULL. */
static void csv_int(pay_csv *csv, int64_t v, bool has)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%lld", (long long)v);
    pay_csv_field(csv, has ? buf : NULL, false);
}

/* Replies the report's lines as CSV. */
static void reply_csv(app_req *r, const report_full *f)
{
    static const char *const HEAD[] = {"channel", "date", "kind", "entry_type", "order_no", "trade_no",
                                       "ledger_fen", "statement_fen", "line_no", "reason", "text"};
    pay_csv csv;

    pay_csv_init(&csv);
    for (size_t k = 0; k < sizeof HEAD / sizeof HEAD[0]; k++)
        pay_csv_field(&csv, HEAD[k], true);
    pay_csv_end_row(&csv);
    for (int i = 0; i < f->nlines; i++) {
        const pay_report_line *l = &f->lines[i];

        /* Order and trade numbers of not_recorded lines, and the text of
         * malformed ones, come from the channel's statement: every field is
         * quoted as RFC 4180 needs and text is guarded against spreadsheet
         * formulas. */
        pay_csv_field(&csv, f->rep.channel, true);
        pay_csv_field(&csv, f->rep.stmt_date, true);
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
    pay_csv_free(&csv);
}

void payments_on_report(app_req *r)
{
    report_full f;
    bool found = false;

    if (report_full_read(r, app_path_int(r, 0), &f, &found) != 0)
        app_problem_db(r);
    else if (!found)
        app_fail(r, "report_not_found", NULL, NULL);
    else if (strcmp(app_route_data(r), "csv") == 0)
        reply_csv(r, &f);
    else
        app_reply_json(r, 200, pay_report_json(&f.rep, f.lines, f.nlines, true));
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
    /* declared: a known channel and a real day */
    run_arg a = {app_json_str(r, "channel"), app_json_str(r, "date"), {0}};
    const char *why = NULL;
    int32_t d = 0;

    if (date_parse(a.date, &d) != 0 || d > date_shanghai_today(time(NULL))) {
        app_fail(r, "date_in_future", NULL, "date");
        return;
    }
    /* The channel is asked on this worker, outside any transaction, before
     * the report is written in one (with the Idempotency-Key record). */
    if (pay_statement_fetch(a.channel, a.date, &a.s, &why) != 0) {
        if (strcmp(why, "no_statement_url") == 0) {
            app_fail(r, "no_statement_url", NULL, "channel");
        } else {
            pay_reconcile_failed(r->db, a.channel, a.date, why);
            app_fail(r, "statement_unavailable", NULL, NULL);
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
    const char *kind = app_query(r, "kind"); /* declared: 1..48 bytes */
    list_args a = list_args_of(r);
    pay_alert *al = NULL;
    json_t *items;
    int n = 0;

    if (pay_sql_alerts(r->db, a.date, a.channel, kind, a.before, (int)a.limit, &al, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, pay_alert_json(&al[i]));
    app_reply_json(r, 200, app_json_page(items, n, a.limit, n > 0 ? al[n - 1].id : 0));
    pay_alert_array_free(al, n);
}

/* ---- GET /v1/payments/alerts/{id} -------------------------------------- */

void payments_on_alert_get(app_req *r)
{
    pay_alert al;
    bool found = false;

    if (pay_sql_alert_by_id(r->db, app_path_int(r, 0), &al, &found) != 0)
        app_problem_db(r);
    else if (!found)
        app_fail(r, "alert_not_found", NULL, NULL);
    else
        app_reply_json(r, 200, pay_alert_json(&al));
    pay_alert_clear(&al);
}
