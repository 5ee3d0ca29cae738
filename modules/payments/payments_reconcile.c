/* payments_reconcile.c - comparing a channel's daily statement with what
 * we recorded (payments received, refunds that succeeded), for the daily
 * job, the payments-reconcile command and the API.
 *
 * The statement is fetched OUTSIDE any transaction (a slow channel must not
 * hold row locks); the comparison and the report are written in one
 * transaction. A malformed line is reported, never fatal: one bad line must
 * not leave a channel's whole day unreconciled and unalerted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel_client.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_jobs.h"
#include "modules/payments/payments_sql.h"
#include "server/audit.h"
#include "server/config.h"
#include "server/date.h"

/* Line numbers named in the malformed-lines alert (the report has them all). */
#define ALERT_LINE_NOS 10

int pay_statement_fetch(const char *channel, const char *date, pay_stmt *s, const char **why)
{
    const pay_channel_conf *cf = payments_conf_channel(channel);
    char error[256];
    int32_t d;

    memset(s, 0, sizeof *s);
    if (pay_channel_find(channel) == NULL || cf == NULL) {
        *why = "unknown_channel";
        return -1;
    }
    if (date_parse(date, &d) != 0) {
        *why = "bad_date";
        return -1;
    }
    if ((strcmp(channel, "alipay") == 0 || strcmp(channel, "wechatpay") == 0) ? cf->gateway_url == NULL
                                                                               : cf->statement_url == NULL) {
        *why = "no_statement_url";
        return -1;
    }
    if (pay_client_statement(cf, date, s, error, sizeof error) != 0) {
        app_log(1, "payments", "msg=\"statement fetch failed\" channel=%s date=%s error=\"%s\"", channel, date,
                error);
        pay_stmt_free(s);
        *why = "statement_unavailable";
        return -1;
    }
    return 0;
}

/* ---- matching ---------------------------------------------------------- */

typedef struct recon {
    db_conn *c;
    const char *channel, *date;
    int64_t report_id;
    pay_report_totals t;
} recon;

/* Stores one report line; every kind but matched also raises an alert. */
static int add_line(recon *r, const pay_line_row *l)
{
    char detail[200];

    if (pay_sql_line_insert(r->c, r->report_id, l) != 0)
        return -1;
    if (strcmp(l->kind, "matched") == 0)
        return 0;
    snprintf(detail, sizeof detail, "reconciliation %s %s: %s %s", r->date, l->kind, l->entry_type,
             l->trade_no ? l->trade_no : "");
    return pay_sql_alert_insert(r->c, "reconciliation_mismatch", r->channel, l->order_no, r->report_id, detail);
}

/* Statement lines ordered by (type, trade number, line number), so each
 * ledger entry finds its line by binary search: statements of a busy day
 * are large. */
static int cmp_line(const void *x, const void *y)
{
    const pay_stmt_line *a = *(const pay_stmt_line *const *)x, *b = *(const pay_stmt_line *const *)y;
    int k = strcmp(a->type, b->type);
    if (k == 0)
        k = strcmp(a->trade_no, b->trade_no);
    return k ? k : (a->line_no > b->line_no) - (a->line_no < b->line_no);
}

/* The first unused line of this type and trade number, or NULL. */
static pay_stmt_line *find_line(pay_stmt_line **idx, int n, const char *type, const char *trade)
{
    int lo = 0, hi = n;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int k = strcmp(idx[mid]->type, type);
        if (k == 0)
            k = strcmp(idx[mid]->trade_no, trade);
        if (k < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && strcmp(idx[lo]->type, type) == 0 && strcmp(idx[lo]->trade_no, trade) == 0; lo++)
        if (!idx[lo]->used)
            return idx[lo];
    return NULL;
}

/* Ledger entries of one type against the statement. A surplus payment and
 * an automatic refund say so in the line's reason, so a day with a double
 * payment reads as explained, not as a mystery. */
static int match_ledger(recon *r, const pay_ledger_entry *led, int nled, const char *type,
                        const char *auto_kind, const char *auto_reason, pay_stmt_line **idx, int n)
{
    for (int i = 0; i < nled; i++) {
        const char *trade = led[i].trade_no ? led[i].trade_no : "";
        int64_t amt = led[i].amount_fen;
        pay_stmt_line *s = find_line(idx, n, type, trade);
        pay_line_row l = {0};

        r->t.ledger_total_fen += strcmp(type, "payment") == 0 ? amt : -amt;
        l.entry_type = type;
        l.order_no = led[i].order_no;
        l.trade_no = trade;
        l.ledger_fen = amt;
        l.statement_fen = -1;
        l.reason = strcmp(led[i].kind, auto_kind) == 0 ? auto_reason : NULL;
        if (s == NULL) {
            r->t.not_in_statement++;
            l.kind = "not_in_statement";
        } else {
            s->used = true;
            l.line_no = s->line_no;
            l.statement_fen = s->amount;
            if (s->amount == amt) {
                r->t.matched++;
                l.kind = "matched";
            } else {
                r->t.amount_mismatch++;
                l.kind = "amount_mismatch";
            }
        }
        if (add_line(r, &l) != 0)
            return -1;
    }
    return 0;
}

static int report_malformed(recon *r, const pay_stmt *s)
{
    char detail[200];
    size_t len;

    for (int i = 0; i < s->nbad; i++) {
        pay_line_row l = {0};
        l.kind = "malformed";
        l.line_no = s->bad[i].line_no;
        l.reason = s->bad[i].reason;
        l.raw_line = s->bad[i].text;
        l.ledger_fen = l.statement_fen = -1;
        if (pay_sql_line_insert(r->c, r->report_id, &l) != 0)
            return -1;
    }
    if (s->nbad_total == 0)
        return 0;
    /* One alert for the statement, not one per line: a garbage file must
     * not bury the other alerts. */
    len = (size_t)snprintf(detail, sizeof detail, "reconciliation %s: %d malformed statement line%s (line",
                           r->date, s->nbad_total, s->nbad_total == 1 ? "" : "s");
    for (int i = 0; i < s->nbad && i < ALERT_LINE_NOS && len < sizeof detail; i++)
        len += (size_t)snprintf(detail + len, sizeof detail - len, "%s %d", i ? "," : "", s->bad[i].line_no);
    if (len < sizeof detail)
        snprintf(detail + len, sizeof detail - len, "%s)", s->nbad_total > ALERT_LINE_NOS ? ", ..." : "");
    return pay_sql_alert_insert(r->c, "statement_malformed", r->channel, NULL, r->report_id, detail);
}

int pay_reconcile_apply(db_conn *c, const pay_actor *a, const char *channel, const char *date,
                        pay_stmt *s, int64_t *report_id)
{
    recon r = {c, channel, date, 0, {0}};
    pay_ledger_entry *pays = NULL, *refs = NULL;
    int npays = 0, nrefs = 0;
    pay_stmt_line **idx = NULL;
    uint64_t id = 0;
    json_t *detail = NULL; /* audit_write_sys borrows it */
    char target[32];
    int mismatches, rc = -1;

    idx = app_calloc((size_t)s->n + 1, sizeof *idx);
    for (int i = 0; i < s->n; i++) {
        s->lines[i].used = false; /* a retried transaction starts over */
        idx[i] = &s->lines[i];
    }
    qsort(idx, (size_t)s->n, sizeof *idx, cmp_line);
    if (pay_sql_report_delete(c, channel, date) != 0 ||
        pay_sql_ledger_payments(c, channel, date, &pays, &npays) != 0 ||
        pay_sql_ledger_refunds(c, channel, date, &refs, &nrefs) != 0 ||
        pay_sql_report_insert(c, channel, date, &id) != 0)
        goto fail;
    r.report_id = (int64_t)id;
    if (match_ledger(&r, pays, npays, "payment", "duplicate", "surplus_payment", idx, s->n) != 0 ||
        match_ledger(&r, refs, nrefs, "refund", "duplicate_payment", "automatic_refund", idx, s->n) != 0)
        goto fail;
    /* What is left of the statement was not recorded here, in line order. */
    for (int i = 0; i < s->n; i++) {
        const pay_stmt_line *e = &s->lines[i];
        pay_line_row l = {0};
        r.t.statement_total_fen += strcmp(e->type, "payment") == 0 ? e->amount : -e->amount;
        if (e->used)
            continue;
        r.t.not_recorded++;
        l.kind = "not_recorded";
        l.entry_type = e->type;
        l.line_no = e->line_no;
        l.order_no = e->order_no;
        l.trade_no = e->trade_no;
        l.ledger_fen = -1;
        l.statement_fen = e->amount;
        if (add_line(&r, &l) != 0)
            goto fail;
    }
    if (report_malformed(&r, s) != 0)
        goto fail;
    r.t.malformed = s->nbad_total;
    r.t.statement_lines = s->n + s->nbad_total;
    if (pay_sql_report_totals(c, r.report_id, &r.t) != 0)
        goto fail;
    mismatches = r.t.not_recorded + r.t.not_in_statement + r.t.amount_mismatch + r.t.malformed;
    snprintf(target, sizeof target, "%lld", (long long)r.report_id);
    detail = json_pack("{sssssisi}", "channel", channel, "date", date, "mismatches", mismatches, "malformed",
                       r.t.malformed);
    if (audit_write_sys(c, a->who, a->request_id, a->peer, "payments.reconcile", "reconciliation_report", target,
                        mismatches ? "mismatch" : "ok", detail) != 0)
        goto fail;
    *report_id = r.report_id;
    rc = 0;
fail:
    json_decref(detail);
    free(idx);
    pay_ledger_array_free(pays, npays);
    pay_ledger_array_free(refs, nrefs);
    return rc;
}

typedef struct failed_arg {
    const char *channel, *date, *why;
} failed_arg;

static int failed_tx(db_conn *c, void *arg)
{
    failed_arg *f = arg;
    char detail[120];

    snprintf(detail, sizeof detail, "reconciliation %s not done: %s", f->date, f->why);
    return pay_sql_alert_insert(c, "reconciliation_failed", f->channel, NULL, 0, detail);
}

void pay_reconcile_failed(db_conn *c, const char *channel, const char *date, const char *why)
{
    /* Only a known channel and a real date reach the alert table (the
     * command line and the API check both before calling). */
    failed_arg f = {channel, date, why};
    if (db_tx(c, failed_tx, &f, (int)server_conf.db.tx_attempts, NULL) != 0)
        app_log(0, "payments", "msg=\"cannot record reconciliation failure\" channel=%s", channel);
}

typedef struct apply_arg {
    const char *channel, *date;
    pay_stmt *s;
    int64_t report_id;
} apply_arg;

static int apply_tx(db_conn *c, void *arg)
{
    static const pay_actor system = {NULL, "job", "local"};
    apply_arg *a = arg;
    return pay_reconcile_apply(c, &system, a->channel, a->date, a->s, &a->report_id);
}

int pay_reconcile(db_conn *c, const char *channel, const char *date, int64_t *report_id, const char **why)
{
    pay_stmt s;
    apply_arg a = {channel, date, &s, 0};
    int rc = -1;

    if (pay_statement_fetch(channel, date, &s, why) != 0) {
        if (strcmp(*why, "statement_unavailable") == 0)
            pay_reconcile_failed(c, channel, date, *why);
        goto fail;
    }
    if (db_tx(c, apply_tx, &a, (int)server_conf.db.tx_attempts, NULL) != 0) {
        *why = "database";
        goto fail;
    }
    *report_id = a.report_id;
    rc = 0;
fail:
    pay_stmt_free(&s);
    return rc;
}

int payments_job_reconcile(app_job_ctx *ctx, int64_t *count)
{
    static const char *chans[] = {"alipay", "wechatpay", "policeapp", "govportal"};
    char day[DATE_STR_SIZE];
    int rc = 0;

    /* Yesterday in the bureau's calendar: channels publish a day's
     * statement after it ends. Re-running replaces that day's report. */
    date_format(date_shanghai_today((time_t)ctx->now_unix) - 1, day);
    *count = 0;
    for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
        const pay_channel_conf *cf = payments_conf_channel(chans[i]);
        int64_t id = 0;
        const char *why = NULL;
        if (cf == NULL || cf->statement_url == NULL)
            continue;
        if (pay_reconcile(ctx->db, chans[i], day, &id, &why) != 0) {
            app_log(0, "payments", "msg=\"reconciliation failed\" channel=%s date=%s why=%s", chans[i], day, why);
            rc = -1;
            continue;
        }
        (*count)++;
    }
    return rc;
}

/* onetripd payments-reconcile CHANNEL YYYY-MM-DD */
int payments_cmd_reconcile(db_conn *db, int argc, char **argv)
{
    int64_t id = 0;
    const char *why = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: onetripd payments-reconcile CHANNEL YYYY-MM-DD\n");
        return 2;
    }
    if (pay_reconcile(db, argv[0], argv[1], &id, &why) != 0) {
        fprintf(stderr, "payments-reconcile: %s\n", why);
        return 1;
    }
    printf("report %lld\n", (long long)id);
    return 0;
}
