/* payments_jobs.c - the module's background work: closing expired orders,
 * asking channels about orders awaiting confirmation, sending approved
 * refunds and the daily reconciliation (also a CLI command).
 *
 * Channel calls are made OUTSIDE database transactions (a slow channel
 * must not hold row locks); what they answer is applied in a short
 * transaction afterwards, through the same code as notifications. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/money.h"
#include "modules/payments/pay_http.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_jobs.h"
#include "modules/payments/payments_sql.h"
#include "server/audit.h"
#include "server/date.h"

static const pay_actor SYSTEM_ACTOR = {NULL, "job", "local"};

static int tx_attempts(void)
{
    return (int)app_config_int("db.tx_attempts");
}

/* ---- expire ----------------------------------------------------------- */

typedef struct end_arg {
    int64_t id;
    const char *to, *reason;
    bool only_past_expiry, done;
} end_arg;

static int end_tx(db_conn *c, void *arg)
{
    end_arg *a = arg;
    return pay_order_end(c, &SYSTEM_ACTOR, a->id, a->to, a->reason, a->only_past_expiry, &a->done);
}

int payments_job_expire(app_job_ctx *ctx, int64_t *count)
{
    db_rows *o = NULL;
    int rc = -1;

    *count = 0;
    if (pay_sql_orders_expired(ctx->db, &o) != 0)
        goto fail;
    for (int i = 0; i < o->nrows; i++) {
        end_arg a = {db_cell_i64(o, i, 0), "expired", "ttl", true, false};
        if (db_tx(ctx->db, end_tx, &a, tx_attempts(), NULL) != 0)
            goto fail;
        *count += a.done ? 1 : 0;
    }
    rc = 0;
fail:
    db_rows_free(o);
    return rc;
}

/* ---- query awaiting orders ------------------------------------------- */

typedef struct query_arg {
    const char *channel;
    bool verified;
    pay_notice n;
    const char *why;
    pay_raw raw;
    pay_apply_result res;
} query_arg;

static int query_tx(db_conn *c, void *arg)
{
    query_arg *a = arg;
    return pay_apply_notice(c, &SYSTEM_ACTOR, a->channel, a->verified, &a->n, a->why, &a->raw, &a->res);
}

static int queried_tx(db_conn *c, void *arg)
{
    return pay_sql_order_queried(c, *(int64_t *)arg);
}

int pay_query_order(db_conn *c, int64_t order_id, const char *order_no, const char *channel)
{
    const pay_channel *ch = pay_channel_find(channel);
    const pay_channel_conf *cf = payments_conf_channel(channel);
    pay_http_resp resp;
    query_arg *a = NULL;
    char *url = NULL;
    size_t ul;
    int rc = -1;

    if (ch == NULL || cf == NULL || cf->query_url == NULL)
        return -1;
    ul = strlen(cf->query_url) + strlen(order_no) + 16;
    url = app_malloc(ul);
    /* Order numbers are [A-Z0-9]: no escaping needed. */
    snprintf(url, ul, "%s%sorder_no=%s", cf->query_url, strchr(cf->query_url, '?') ? "&" : "?", order_no);
    if (pay_http_request("GET", url, NULL, NULL, 0, (int)app_config_int("payments.http_timeout_s"), &resp) != 0)
        goto fail;
    (void)db_tx(c, queried_tx, &order_id, tx_attempts(), NULL);
    if (resp.status == 200) {
        pay_input in = {resp.body, resp.body_len, pay_http_resp_header, &resp, time(NULL)};
        a = app_calloc(1, sizeof *a);
        a->channel = channel;
        a->verified = ch->verify(cf, &in, &a->n, &a->why) == 0;
        /* The answer must be about the order we asked for. */
        if (a->verified && strcmp(a->n.order_no, order_no) != 0) {
            a->verified = false;
            a->why = "query_order_mismatch";
        }
        a->raw = (pay_raw){"query", resp.body, resp.body_len, NULL};
        if (db_tx(c, query_tx, a, tx_attempts(), NULL) != 0)
            goto fail;
    }
    /* 404 = the channel has no trade (yet): keep waiting; the age check
     * below ends the wait. */
    rc = 0;
fail:
    free(a);
    free(url);
    pay_http_resp_free(&resp);
    return rc;
}

int payments_job_query(app_job_ctx *ctx, int64_t *count)
{
    db_rows *o = NULL, *cur = NULL;
    int64_t max_age = app_config_int("payments.awaiting_max_s");
    int rc = -1;

    *count = 0;
    if (pay_sql_orders_awaiting(ctx->db, &o) != 0)
        goto fail;
    for (int i = 0; i < o->nrows; i++) {
        int64_t id = db_cell_i64(o, i, 0);
        if (pay_query_order(ctx->db, id, db_cell(o, i, 1), db_cell(o, i, 2)) == 0)
            (*count)++;
        db_rows_free(cur);
        cur = NULL;
        if (pay_sql_order_by_id(ctx->db, id, false, &cur) != 0)
            goto fail;
        if (cur->nrows == 1 && strcmp(db_cell(cur, 0, 6), "awaiting_confirmation") == 0 &&
            db_cell_i64(cur, 0, 14) > max_age) {
            end_arg a = {id, "expired", "confirmation_timeout", false, false};
            if (db_tx(ctx->db, end_tx, &a, tx_attempts(), NULL) != 0)
                goto fail;
        }
    }
    rc = 0;
fail:
    db_rows_free(o);
    db_rows_free(cur);
    return rc;
}

/* ---- refunds ---------------------------------------------------------- */

typedef struct finish_arg {
    int64_t id;
    const char *state, *channel_no, *failure;
} finish_arg;

static int finish_tx(db_conn *c, void *arg)
{
    finish_arg *a = arg;
    uint64_t affected = 0;
    char target[32];

    if (pay_sql_refund_finish(c, a->id, a->state, a->channel_no, a->failure, &affected) != 0)
        return -1;
    if (affected == 0)
        return 0;
    snprintf(target, sizeof target, "%lld", (long long)a->id);
    if (strcmp(a->state, "failed") == 0 &&
        pay_sql_alert_insert(c, "refund_failed", NULL, NULL, a->id, a->failure ? a->failure : "failed") != 0)
        return -1;
    return audit_write_sys(c, NULL, "job", "local", "payments.refund_sent", "refund", target, a->state, NULL);
}

static int attempt_tx(db_conn *c, void *arg)
{
    return pay_sql_refund_attempt(c, *(int64_t *)arg);
}

int pay_refund_send(db_conn *c, const pay_actor *actor, int64_t refund_id)
{
    db_rows *f = NULL;
    const pay_channel_conf *cf;
    pay_http_resp resp;
    json_t *req = NULL, *ans = NULL;
    char *body = NULL;
    finish_arg fa = {refund_id, NULL, NULL, NULL};
    int rc = -1;

    (void)actor;
    memset(&resp, 0, sizeof resp);
    if (pay_sql_refund_get(c, refund_id, false, &f) != 0 || f->nrows != 1 ||
        strcmp(db_cell(f, 0, 7), "approved") != 0)
        goto fail;
    cf = payments_conf_channel(db_cell(f, 0, 3));
    if (cf == NULL || cf->refund_url == NULL)
        goto fail;
    (void)db_tx(c, attempt_tx, &refund_id, tx_attempts(), NULL);
    req = json_pack("{sssssssI}", "out_refund_no", db_cell(f, 0, 1), "order_no", db_cell(f, 0, 2),
                    "trade_no", db_cell(f, 0, 15), "amount_fen", (json_int_t)db_cell_i64(f, 0, 4));
    body = json_dumps(req, JSON_COMPACT);
    if (pay_http_request("POST", cf->refund_url, "application/json", body, strlen(body),
                         (int)app_config_int("payments.http_timeout_s"), &resp) != 0)
        goto fail; /* no answer: stays approved, retried by the job */
    ans = json_loadb(resp.body, resp.body_len, 0, NULL);
    if (resp.status == 200 && json_is_string(json_object_get(ans, "status")) &&
        strcmp(json_string_value(json_object_get(ans, "status")), "SUCCESS") == 0) {
        fa.state = "succeeded";
        fa.channel_no = json_string_value(json_object_get(ans, "refund_no"));
    } else if (resp.status >= 400 && resp.status < 500) {
        fa.state = "failed";
        fa.failure = json_is_string(json_object_get(ans, "reason")) ? json_string_value(json_object_get(ans, "reason"))
                                                                    : "channel_refused";
    } else {
        goto fail; /* 5xx or unknown: retry later */
    }
    if (db_tx(c, finish_tx, &fa, tx_attempts(), NULL) != 0)
        goto fail;
    rc = 0;
fail:
    json_decref(ans);
    json_decref(req);
    free(body);
    pay_http_resp_free(&resp);
    db_rows_free(f);
    return rc;
}

int payments_job_refunds(app_job_ctx *ctx, int64_t *count)
{
    db_rows *ids = NULL;
    *count = 0;
    if (pay_sql_refunds_to_send(ctx->db, &ids) != 0)
        return -1;
    for (int i = 0; i < ids->nrows; i++)
        if (pay_refund_send(ctx->db, &SYSTEM_ACTOR, db_cell_i64(ids, i, 0)) == 0)
            (*count)++;
    db_rows_free(ids);
    return 0;
}

/* ---- reconciliation -------------------------------------------------- */

typedef struct stmt_line {
    char type[12];
    char order_no[65];
    char trade_no[65];
    int64_t amount;
    bool used;
} stmt_line;

/* Statement CSV: header "type,order_no,trade_no,amount", then one line per
 * entry (type payment|refund; amount yuan for Alipay, fen otherwise).
 * Returns the number of lines or -1 when malformed. */
static int parse_statement(const char *body, bool yuan, stmt_line **out)
{
    stmt_line *v = NULL;
    int n = 0, cap = 0, lineno = 0;
    const char *p = body;

    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[300], *f[4], *save = NULL, amount[40];
        int nf = 0;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        lineno++;
        if (len == 0 || len >= sizeof line)
            goto next;
        memcpy(line, p, len);
        line[len] = '\0';
        if (lineno == 1 && strncmp(line, "type,", 5) == 0)
            goto next;
        for (char *t = strtok_r(line, ",", &save); t && nf < 4; t = strtok_r(NULL, ",", &save))
            f[nf++] = t;
        if (nf != 4 || (strcmp(f[0], "payment") != 0 && strcmp(f[0], "refund") != 0))
            goto bad;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            v = realloc(v, (size_t)cap * sizeof *v);
            if (v == NULL)
                abort();
        }
        memset(&v[n], 0, sizeof v[n]);
        snprintf(v[n].type, sizeof v[n].type, "%s", f[0]);
        /* The statement's numbers reach the report, alerts and its CSV. */
        pay_clean_ascii(f[1], v[n].order_no, sizeof v[n].order_no);
        pay_clean_ascii(f[2], v[n].trade_no, sizeof v[n].trade_no);
        snprintf(amount, sizeof amount, "%s", f[3]);
        if (yuan) {
            if (money_parse_yuan(amount, &v[n].amount, NULL) != 0)
                goto bad;
        } else {
            char *end = NULL;
            long long a = strtoll(amount, &end, 10);
            if (end == amount || *end || a < 0 || a > MONEY_MAX_FEN)
                goto bad;
            v[n].amount = a;
        }
        n++;
    next:
        p += e ? (size_t)(e - p) + 1 : strlen(p);
    }
    *out = v;
    return n;
bad:
    free(v);
    return -1;
}

typedef struct recon_arg {
    const char *channel, *date;
    stmt_line *s;
    int ns;
    int64_t report_id;
} recon_arg;

static int line(db_conn *c, recon_arg *a, const char *kind, const char *type, const char *order_no,
                const char *trade_no, int64_t ledger, int64_t stmt)
{
    char detail[200];
    if (pay_sql_line_insert(c, a->report_id, kind, type, order_no, trade_no, ledger, stmt) != 0)
        return -1;
    if (strcmp(kind, "matched") == 0)
        return 0;
    snprintf(detail, sizeof detail, "reconciliation %s %s: %s %s", a->date, kind, type, trade_no ? trade_no : "");
    return pay_sql_alert_insert(c, "reconciliation_mismatch", a->channel, order_no, a->report_id, detail);
}

static int recon_tx(db_conn *c, void *arg)
{
    recon_arg *a = arg;
    db_rows *led[2] = {NULL, NULL};
    static const char *types[2] = {"payment", "refund"};
    int matched = 0, not_recorded = 0, not_in_stmt = 0, mismatch = 0, rc = -1;
    int64_t stmt_total = 0, ledger_total = 0;
    uint64_t id = 0;
    char target[32];

    for (int i = 0; i < a->ns; i++)
        a->s[i].used = false;
    if (pay_sql_report_delete(c, a->channel, a->date) != 0 ||
        pay_sql_ledger_payments(c, a->channel, a->date, &led[0]) != 0 ||
        pay_sql_ledger_refunds(c, a->channel, a->date, &led[1]) != 0)
        goto fail;
    if (pay_sql_report_insert(c, a->channel, a->date, 0, 0, 0, 0, 0, 0, &id) != 0)
        goto fail;
    a->report_id = (int64_t)id;
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < led[t]->nrows; i++) {
            const char *trade = db_cell(led[t], i, 0) ? db_cell(led[t], i, 0) : "";
            int64_t amt = db_cell_i64(led[t], i, 2);
            int found = -1;
            ledger_total += t == 0 ? amt : -amt;
            for (int k = 0; k < a->ns && found < 0; k++)
                if (!a->s[k].used && strcmp(a->s[k].type, types[t]) == 0 && strcmp(a->s[k].trade_no, trade) == 0)
                    found = k;
            if (found < 0) {
                not_in_stmt++;
                if (line(c, a, "not_in_statement", types[t], db_cell(led[t], i, 1), trade, amt, -1) != 0)
                    goto fail;
                continue;
            }
            a->s[found].used = true;
            if (a->s[found].amount == amt) {
                matched++;
                if (line(c, a, "matched", types[t], db_cell(led[t], i, 1), trade, amt, amt) != 0)
                    goto fail;
            } else {
                mismatch++;
                if (line(c, a, "amount_mismatch", types[t], db_cell(led[t], i, 1), trade, amt,
                         a->s[found].amount) != 0)
                    goto fail;
            }
        }
    }
    for (int k = 0; k < a->ns; k++) {
        stmt_total += strcmp(a->s[k].type, "payment") == 0 ? a->s[k].amount : -a->s[k].amount;
        if (a->s[k].used)
            continue;
        not_recorded++;
        if (line(c, a, "not_recorded", a->s[k].type, a->s[k].order_no, a->s[k].trade_no, -1,
                 a->s[k].amount) != 0)
            goto fail;
    }
    if (pay_sql_report_totals(c, a->report_id, matched, not_recorded, not_in_stmt, mismatch, stmt_total,
                              ledger_total) != 0)
        goto fail;
    snprintf(target, sizeof target, "%lld", (long long)a->report_id);
    if (audit_write_sys(c, NULL, "job", "local", "payments.reconcile", "reconciliation_report", target,
                        (not_recorded + not_in_stmt + mismatch) ? "mismatch" : "ok", NULL) != 0)
        goto fail;
    rc = 0;
fail:
    db_rows_free(led[0]);
    db_rows_free(led[1]);
    return rc;
}

int pay_reconcile(db_conn *c, const char *channel, const char *date, int64_t *report_id, const char **why)
{
    const pay_channel *ch = pay_channel_find(channel);
    const pay_channel_conf *cf = payments_conf_channel(channel);
    pay_http_resp resp;
    recon_arg a = {channel, date, NULL, 0, 0};
    char *url = NULL;
    size_t ul;
    int32_t d;
    int rc = -1;

    memset(&resp, 0, sizeof resp);
    *why = "internal";
    if (ch == NULL || cf == NULL) {
        *why = "unknown_channel";
        goto fail;
    }
    if (date_parse(date, &d) != 0) {
        *why = "bad_date";
        goto fail;
    }
    if (cf->statement_url == NULL) {
        *why = "no_statement_url";
        goto fail;
    }
    ul = strlen(cf->statement_url) + 32;
    url = app_malloc(ul);
    snprintf(url, ul, "%s%sdate=%s", cf->statement_url, strchr(cf->statement_url, '?') ? "&" : "?", date);
    if (pay_http_request("GET", url, NULL, NULL, 0, (int)app_config_int("payments.http_timeout_s"), &resp) != 0 ||
        resp.status != 200) {
        *why = "statement_unavailable";
        goto fail;
    }
    a.ns = parse_statement(resp.body, ch->statement_yuan, &a.s);
    if (a.ns < 0) {
        *why = "statement_malformed";
        goto fail;
    }
    if (db_tx(c, recon_tx, &a, tx_attempts(), NULL) != 0) {
        *why = "database";
        goto fail;
    }
    *report_id = a.report_id;
    rc = 0;
fail:
    free(a.s);
    free(url);
    pay_http_resp_free(&resp);
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
