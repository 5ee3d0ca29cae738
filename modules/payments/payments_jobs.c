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

#include "modules/payments/channel_client.h"
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
    const pay_channel_conf *cf = payments_conf_channel(channel);
    pay_query_result r;
    query_arg *a = NULL;
    int rc = -1;

    memset(&r, 0, sizeof r);
    if (cf == NULL)
        return -1;
    if (pay_client_query(cf, order_no, &r) != 0) {
        app_log(1, "payments", "msg=\"trade query failed\" channel=%s order_no=%s error=\"%s\"", channel,
                order_no, r.error);
        goto fail;
    }
    (void)db_tx(c, queried_tx, &order_id, tx_attempts(), NULL);
    if (r.found) {
        a = app_calloc(1, sizeof *a);
        a->channel = channel;
        a->n = r.n;
        a->verified = r.verified;
        a->why = r.why;
        /* The answer must be about the order we asked for. */
        if (a->verified && strcmp(a->n.order_no, order_no) != 0) {
            a->verified = false;
            a->why = "query_order_mismatch";
        }
        a->raw = (pay_raw){"query", r.raw, r.raw_len, NULL};
        if (db_tx(c, query_tx, a, tx_attempts(), NULL) != 0)
            goto fail;
    }
    /* no trade (yet): keep waiting; the age check below ends the wait */
    rc = 0;
fail:
    free(a);
    free(r.raw);
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

int pay_refund_finish(db_conn *c, const pay_actor *a, int64_t id, const char *state, const char *channel_no,
                      const char *failure, bool *done)
{
    uint64_t affected = 0;
    char target[32];

    *done = false;
    if (pay_sql_refund_finish(c, id, state, channel_no, failure, &affected) != 0)
        return -1;
    if (affected == 0)
        return 0;
    *done = true;
    snprintf(target, sizeof target, "%lld", (long long)id);
    if (strcmp(state, "failed") == 0 &&
        pay_sql_alert_insert(c, "refund_failed", NULL, NULL, id, failure ? failure : "failed") != 0)
        return -1;
    return audit_write_sys(c, a->who, a->request_id, a->peer, "payments.refund_sent", "refund", target, state,
                           NULL);
}

typedef struct finish_arg {
    int64_t id;
    const char *state, *channel_no, *failure;
} finish_arg;

static int finish_tx(db_conn *c, void *arg)
{
    finish_arg *a = arg;
    bool done;

    return pay_refund_finish(c, &SYSTEM_ACTOR, a->id, a->state, a->channel_no, a->failure, &done);
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
    pay_refund_answer ans;
    char error[40];
    finish_arg fa = {refund_id, NULL, NULL, NULL};
    unanswered_arg ua = {refund_id, error};
    int rc = -1;

    (void)actor;
    if (pay_sql_refund_get(c, refund_id, false, &f, &found) != 0 || !found ||
        strcmp(f.state, "approved") != 0)
        goto fail;
    cf = payments_conf_channel(f.channel);
    if (cf == NULL)
        goto fail;
    /* Counted (and the next attempt scheduled) before the call, so a crash
     * during it still moves the refund towards its retry limit. */
    if (db_tx(c, attempt_tx, &refund_id, tx_attempts(), NULL) != 0)
        goto fail;
    /* A refund the channel took and answered "processing" is asked about,
     * not sent again (WeChat Pay's refund query API). */
    (f.last_error && strcmp(f.last_error, "channel_processing") == 0 ? pay_client_refund_query : pay_client_refund)(
        cf, &(pay_refund_call){f.out_refund_no, f.order_no, f.trade_no, f.reason, f.amount_fen, f.payment_fen},
        &ans);
    if (ans.outcome == PAY_REFUND_RETRY) {
        /* no final answer: stays approved, retried by the job with the
         * same out_refund_no */
        app_log(1, "payments", "msg=\"refund call unanswered\" channel=%s refund_id=%lld error=\"%s\"", f.channel,
                (long long)refund_id, ans.error);
        snprintf(error, sizeof error, "%s", ans.code[0] ? ans.code : "channel_unreachable");
        (void)db_tx(c, unanswered_tx, &ua, tx_attempts(), NULL);
        goto fail;
    }
    if (ans.outcome == PAY_REFUND_SUCCEEDED) {
        fa.state = "succeeded";
        fa.channel_no = ans.refund_no;
    } else {
        fa.state = "failed";
        fa.failure = ans.failure;
    }
    if (db_tx(c, finish_tx, &fa, tx_attempts(), NULL) != 0)
        goto fail;
    rc = 0;
fail:
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

