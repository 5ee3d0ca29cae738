/* payments_jobs.c - the module's background work: closing expired orders,
 * asking channels about orders awaiting confirmation and sending approved
 * refunds (the daily reconciliation is in payments_reconcile.c).
 *
 * Channel calls are made OUTSIDE database transactions (a slow channel
 * must not hold row locks); what they answer is applied in a short
 * transaction afterwards, through the same code as notifications. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/pay_http.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_jobs.h"
#include "modules/payments/payments_sql.h"
#include "server/audit.h"
#include "server/config.h"

static const pay_actor SYSTEM_ACTOR = {NULL, "job", "local"};

static int tx_attempts(void)
{
    return (int)server_conf.db.tx_attempts;
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
    pay_order_ref *o = NULL;
    int n = 0, rc = -1;

    *count = 0;
    if (pay_sql_orders_expired(ctx->db, &o, &n) != 0)
        goto fail;
    for (int i = 0; i < n; i++) {
        end_arg a = {o[i].id, "expired", "ttl", true, false};
        if (db_tx(ctx->db, end_tx, &a, tx_attempts(), NULL) != 0)
            goto fail;
        *count += a.done ? 1 : 0;
    }
    rc = 0;
fail:
    free(o);
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
    pay_http_opts opts;
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
    opts = payments_http_opts();
    if (pay_http_request(&opts, &(pay_http_req){"GET", url, NULL, NULL, 0, true}, &resp) != 0) {
        app_log(1, "payments", "msg=\"trade query failed\" channel=%s order_no=%s error=\"%s\"", channel,
                order_no, resp.error);
        goto fail;
    }
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
    pay_order_ref *o = NULL;
    pay_order cur;
    int64_t max_age = payments_conf.awaiting_max_s;
    bool found = false;
    int n = 0, rc = -1;

    memset(&cur, 0, sizeof cur);
    *count = 0;
    if (pay_sql_orders_awaiting(ctx->db, &o, &n) != 0)
        goto fail;
    for (int i = 0; i < n; i++) {
        int64_t id = o[i].id;
        if (pay_query_order(ctx->db, id, o[i].order_no, o[i].channel) == 0)
            (*count)++;
        pay_order_clear(&cur);
        if (pay_sql_order_by_id(ctx->db, id, false, &cur, &found) != 0)
            goto fail;
        if (found && strcmp(cur.state, "awaiting_confirmation") == 0 && cur.returned_age_s > max_age) {
            end_arg a = {id, "expired", "confirmation_timeout", false, false};
            if (db_tx(ctx->db, end_tx, &a, tx_attempts(), NULL) != 0)
                goto fail;
        }
    }
    rc = 0;
fail:
    free(o);
    pay_order_clear(&cur);
    return rc;
}

/* ---- refunds ---------------------------------------------------------- */

/* Attempts of one refund, and the delay before each retry: 1, 2, 4 ...
 * minutes, at most 6 hours apart, about three days in all - a channel
 * outage of a day still ends in a refund. Every retry reuses the refund's
 * out_refund_no, on which every channel deduplicates, so a call whose
 * answer was lost cannot refund twice. */
#define REFUND_MAX_ATTEMPTS 20
#define REFUND_RETRY_BASE_S 60
#define REFUND_RETRY_MAX_S 21600

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
    return pay_sql_refund_attempt(c, *(int64_t *)arg, REFUND_RETRY_BASE_S, REFUND_RETRY_MAX_S);
}

typedef struct unanswered_arg {
    int64_t id;
    const char *error;
} unanswered_arg;

/* The channel gave no usable answer: keep why, and when that was the last
 * attempt, tell an operator (once: the job no longer picks it up). */
static int unanswered_tx(db_conn *c, void *arg)
{
    unanswered_arg *a = arg;
    pay_refund f;
    bool found = false;
    char detail[128];
    int rc = -1;

    memset(&f, 0, sizeof f);
    if (pay_sql_refund_error(c, a->id, a->error) != 0 || pay_sql_refund_get(c, a->id, false, &f, &found) != 0)
        goto fail;
    if (found && strcmp(f.state, "approved") == 0 && f.attempts >= REFUND_MAX_ATTEMPTS) {
        snprintf(detail, sizeof detail, "refund %s not answered after %d attempts: %s", f.out_refund_no,
                 REFUND_MAX_ATTEMPTS, a->error);
        if (pay_sql_alert_insert(c, "refund_stuck", f.channel, f.order_no, a->id, detail) != 0)
            goto fail;
    }
    rc = 0;
fail:
    pay_refund_clear(&f);
    return rc;
}

int pay_refund_send(db_conn *c, const pay_actor *actor, int64_t refund_id)
{
    pay_refund f;
    bool found = false;
    const pay_channel_conf *cf;
    pay_http_resp resp;
    pay_http_opts opts;
    static const char *const json_headers[] = {"Content-Type: application/json", NULL};
    json_t *req = NULL, *ans = NULL;
    char *body = NULL, error[40];
    finish_arg fa = {refund_id, NULL, NULL, NULL};
    unanswered_arg ua = {refund_id, error};
    int rc = -1;

    (void)actor;
    memset(&resp, 0, sizeof resp);
    if (pay_sql_refund_get(c, refund_id, false, &f, &found) != 0 || !found ||
        strcmp(f.state, "approved") != 0)
        goto fail;
    cf = payments_conf_channel(f.channel);
    if (cf == NULL || cf->refund_url == NULL)
        goto fail;
    /* Counted (and the next attempt scheduled) before the call, so a crash
     * during it still moves the refund towards its retry limit. */
    if (db_tx(c, attempt_tx, &refund_id, tx_attempts(), NULL) != 0)
        goto fail;
    req = json_pack("{sssssssI}", "out_refund_no", f.out_refund_no, "order_no", f.order_no,
                    "trade_no", f.trade_no, "amount_fen", (json_int_t)f.amount_fen);
    body = json_dumps(req, JSON_COMPACT);
    opts = payments_http_opts();
    /* Not retried here: the refunds job retries it later, with the same
     * out_refund_no. */
    if (pay_http_request(&opts, &(pay_http_req){"POST", cf->refund_url, json_headers, body, strlen(body), false},
                         &resp) != 0) {
        app_log(1, "payments", "msg=\"refund call failed\" channel=%s refund_id=%lld error=\"%s\"", f.channel,
                (long long)refund_id, resp.error);
        snprintf(error, sizeof error, "channel_unreachable");
        (void)db_tx(c, unanswered_tx, &ua, tx_attempts(), NULL);
        goto fail; /* no answer: stays approved, retried by the job */
    }
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
        snprintf(error, sizeof error, "channel_status_%d", resp.status);
        (void)db_tx(c, unanswered_tx, &ua, tx_attempts(), NULL);
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
    pay_refund_clear(&f);
    return rc;
}

int payments_job_refunds(app_job_ctx *ctx, int64_t *count)
{
    pay_id_row *ids = NULL;
    int n = 0;

    *count = 0;
    if (pay_sql_refunds_to_send(ctx->db, REFUND_MAX_ATTEMPTS, &ids, &n) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (pay_refund_send(ctx->db, &SYSTEM_ACTOR, ids[i].id) == 0)
            (*count)++;
    free(ids);
    return 0;
}

