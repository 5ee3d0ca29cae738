/* payments_apply.c - applying a channel's word about an order, exactly once.
 *
 * Everything runs in the caller's transaction and starts by locking the
 * order row (SELECT ... FOR UPDATE), so resends of one notification, a
 * trade-query answer and a late notification queue up behind each other;
 * the unique keys on payments (order_id; channel + trade_no) are the last
 * line if anything slipped past. Rejections are recorded and alerted but
 * never change an order or a violation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cases/cases.h"
#include "modules/payments/money.h"
#include "modules/payments/payments.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"
#include "modules/violations/violations.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"
#include "server/ratelimit.h"

void pay_new_number(const char *prefix, bool dated, int hexlen, char *out, size_t cap)
{
    char hex[65], day[DATE_STR_SIZE] = "", ymd[9] = "";

    if (crypto_random_hex((size_t)hexlen / 2, hex) != 0)
        abort(); /* no randomness: nothing safe to do */
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    if (dated) {
        date_format(date_shanghai_today(time(NULL)), day);
        snprintf(ymd, sizeof ymd, "%.4s%.2s%.2s", day, day + 5, day + 8);
    }
    snprintf(out, cap, "%s%s%s", prefix, ymd, hex);
}

/* Untrusted strings go to the database and the audit log as printable
 * ASCII only (order numbers and trade numbers are ASCII in every channel). */
void pay_clean_ascii(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in && in[i] && j + 1 < cap; i++)
        out[j++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
    out[j] = '\0';
}

static int audit(db_conn *c, const pay_actor *a, const char *action, const char *target,
                 const char *outcome, json_t *detail)
{
    int rc = audit_write_sys(c, a->who, a->request_id, a->peer, action, "payment_order", target,
                             outcome, detail);
    json_decref(detail);
    return rc;
}

int pay_order_end(db_conn *c, const pay_actor *a, int64_t order_id, const char *to,
                  const char *reason, bool only_past_expiry, bool *done)
{
    uint64_t affected = 0;
    char id[32];

    *done = false;
    if (pay_sql_order_end(c, order_id, to, reason, only_past_expiry, &affected) != 0)
        return -1;
    if (affected == 0)
        return 0;
    if (pay_sql_items_release(c, order_id) != 0)
        return -1;
    snprintf(id, sizeof id, "%lld", (long long)order_id);
    if (audit(c, a, "payments.order_end", id, to, json_pack("{ss}", "reason", reason)) != 0)
        return -1;
    *done = true;
    return 0;
}

int payments_violation_cancel(db_conn *c, const app_principal *who, const char *request_id,
                              const char *peer, int64_t violation_id, bool *order_closed,
                              bool *pending, char *order_no, size_t cap)
{
    pay_actor a = {who, request_id, peer};
    pay_live live;
    pay_order o;
    int64_t oid;
    bool found = false, done = false;
    int rc = -1;

    memset(&o, 0, sizeof o);
    *order_closed = *pending = false;
    if (cap)
        order_no[0] = '\0';
    /* Locks the item and its order: no notification moves the order
     * (open -> awaiting / paid) between this read and the end below. */
    if (pay_sql_live_item(c, violation_id, &live, &found) != 0)
        goto fail;
    if (!found) {
        rc = 0;
        goto fail;
    }
    oid = live.order_id;
    if (pay_sql_order_by_id(c, oid, false, &o, &found) != 0)
        goto fail;
    if (found && cap)
        snprintf(order_no, cap, "%s", o.order_no);
    if (strcmp(live.state, "open") != 0) {
        *pending = true; /* awaiting_confirmation */
        rc = 0;
        goto fail;
    }
    if (pay_order_end(c, &a, oid, "closed", "violation_cancelled", false, &done) != 0)
        goto fail;
    if (!done) {
        /* Locked and open a moment ago: someone bypassed the lock. */
        app_log(0, "payments", "msg=\"order changed under lock\" order_id=%lld", (long long)oid);
        goto fail;
    }
    *order_closed = true;
    rc = 0;
fail:
    pay_order_clear(&o);
    return rc;
}

/* Receipt: number, verification code, masked payer, items, amount. */
static int issue_receipt(db_conn *c, const pay_order *o, const char *channel, const char *trade_no)
{
    pay_order_item *items = NULL;
    json_t *arr = NULL;
    char number[32], code[16], name[PAY_NAME_SIZE], *masked = NULL, *items_s = NULL;
    int nitems = 0, rc = -1;

    if (pay_sql_order_items(c, o->id, &items, &nitems) != 0 ||
        pay_sql_citizen_name(c, o->citizen_id, name) != 0)
        goto fail;
    arr = pay_items_json(items, nitems);
    items_s = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
    masked = crypto_mask_name(name);
    pay_new_number("R", true, 12, number, sizeof number);
    pay_new_number("", false, 8, code, sizeof code);
    if (pay_sql_receipt_insert(c, number, code, o->id, o->citizen_id, masked, items_s, o->amount_fen,
                               channel, trade_no) != 0)
        goto fail;
    rc = 0;
fail:
    free(masked);
    free(items_s);
    json_decref(arr);
    free(items);
    return rc;
}

/* Closes every other live order that holds one of these violations: they
 * were just paid through this (expired) order. */
static int close_competitors(db_conn *c, const pay_actor *a, const pay_order_violation *viol, int n,
                             int64_t self)
{
    for (int i = 0; i < n; i++) {
        pay_live live;
        bool found = false, done;
        if (pay_sql_live_item(c, viol[i].id, &live, &found) != 0)
            return -1;
        if (found && live.order_id != self &&
            pay_order_end(c, a, live.order_id, "closed", "paid_by_other_order", false, &done) != 0)
            return -1;
    }
    return 0;
}

/* Paying a fine is a service item (VIO-PAY) like any other: it becomes a
 * case, completed at once with no trip. A catalog without the item must
 * not stop money from being recorded, so that case is skipped with a log. */
static int file_case(db_conn *c, const pay_order *o)
{
    cases_new cn;
    int64_t case_id = 0;
    char number[32], query_code[16];
    const char *why = NULL;

    memset(&cn, 0, sizeof cn);
    cn.item_code = "VIO-PAY";
    cn.applicant_id = o->citizen_id;
    cn.channel = "app";
    cn.ref_type = "payment_order";
    cn.ref_id = o->order_no;
    if (cases_create(c, &cn, &case_id, number, query_code, &why) != 0 ||
        cases_set_state(c, case_id, "completed", &why) != 0) {
        if (why == NULL)
            return -1;
        app_log(1, "payments", "msg=\"no case for the payment\" why=%s", why);
    }
    return 0;
}

/* Money we hold without an obligation for it (a second trade for an order
 * already paid, or a payment for violations another order paid): record it
 * as a surplus payment and, in the same transaction, the automatic refund
 * that gives it back. The refund needs no second approver: it returns money
 * that was never owed to the payer who sent it, through the channel it came
 * by, for exactly the amount received - there is nothing to decide, and
 * waiting for an operator would only keep the payer's money longer. The
 * channel call itself is made by the payments_refunds job, outside any
 * transaction. The unique keys (channel, trade_no) and auto_payment_id make
 * a trade recorded at most once and refunded at most once. */
static int record_surplus(db_conn *c, const pay_actor *a, const char *channel, const pay_notice *n,
                          int64_t oid, const char *why, const char *text, pay_apply_result *res)
{
    uint64_t pid = 0, rid = 0;
    char target[32], out_no[40];

    snprintf(target, sizeof target, "%lld", (long long)oid);
    if (pay_sql_payment_insert(c, oid, channel, n->trade_no, n->amount_fen, n->notify_id, "duplicate", &pid) != 0)
        return -1;
    pay_new_number("RF", false, 16, out_no, sizeof out_no);
    if (pay_sql_refund_insert(c, out_no, oid, (int64_t)pid, channel, n->amount_fen, text, "duplicate_payment",
                              "approved", 0, &rid) != 0)
        return -1;
    if (pay_sql_alert_insert(c, "duplicate_payment", channel, n->order_no, oid, text) != 0)
        return -1;
    res->outcome = "duplicate_payment";
    res->reason = why;
    res->ack = true; /* recorded: the channel must stop resending */
    return audit(c, a, "payments.duplicate_payment", target, "refund_created",
                 json_pack("{sssssIssss}", "channel", channel, "trade_no", n->trade_no, "amount_fen",
                           (json_int_t)n->amount_fen, "reason", why, "out_refund_no", out_no));
}

static int apply_success(db_conn *c, const pay_actor *a, const char *channel, const pay_notice *n,
                         const pay_order *o, pay_apply_result *res)
{
    int64_t oid = o->id;
    pay_payment *pay = NULL;
    pay_order_violation *viol = NULL;
    uint64_t pid = 0, affected = 0;
    bool all_payable = true, other = false;
    char target[32];
    int npay = 0, nviol = 0, rc = -1;

    snprintf(target, sizeof target, "%lld", (long long)oid);
    /* Lock order: the order row (locked by the caller), then its payments,
     * then - only when this trade pays it - its violations. */
    if (pay_sql_payments_of_order(c, oid, &pay, &npay) != 0)
        goto fail;
    for (int i = 0; i < npay; i++)
        if (strcmp(pay[i].trade_no, n->trade_no) == 0) {
            res->outcome = "duplicate"; /* a resend: already recorded */
            res->ack = true;
            rc = 0;
            goto fail;
        }
    if (pay_sql_payment_by_trade(c, channel, n->trade_no, &other) != 0)
        goto fail;
    if (other) {
        res->outcome = "rejected";
        res->reason = "trade_no_reused";
        res->ack = false;
        if (pay_sql_alert_insert(c, "notification_rejected", channel, n->order_no, oid,
                                 "trade number already recorded for another order") != 0)
            goto fail;
        rc = 0;
        goto fail;
    }
    if (npay > 0) {
        /* The payer paid the same order twice at the channel (another trade
         * number): the order keeps its first payment, this one goes back. */
        if (record_surplus(c, a, channel, n, oid, "second_trade_for_order",
                           "duplicate payment: second trade for an order already paid", res) != 0)
            goto fail;
        rc = 0;
        goto fail;
    }
    if (pay_sql_order_violations_lock(c, oid, &viol, &nviol) != 0)
        goto fail;
    for (int i = 0; i < nviol; i++)
        if (strcmp(viol[i].state, "handled") != 0)
            all_payable = false;
    if (nviol == 0)
        all_payable = false;

    if (all_payable) {
        if (pay_sql_payment_insert(c, oid, channel, n->trade_no, n->amount_fen, n->notify_id, "applied",
                                   &pid) != 0)
            goto fail;
        for (int i = 0; i < nviol; i++) {
            if (violations_mark_paid(c, viol[i].id, &affected) != 0)
                goto fail;
            /* The rows are locked and were 'handled' a moment ago; anything
             * else means someone bypassed the lock: roll everything back. */
            if (affected != 1) {
                app_log(0, "payments", "msg=\"violation changed under lock\" order_id=%lld", (long long)oid);
                goto fail;
            }
        }
        /* Competitors first, while this order's own items still hold the
         * violations' keys: the locking reads then meet existing entries of
         * uq_payment_items_open (record locks), not gaps (issue 12). */
        if (close_competitors(c, a, viol, nviol, oid) != 0)
            goto fail;
        if (pay_sql_order_paid(c, oid, n->trade_no, &affected) != 0 || pay_sql_items_release(c, oid) != 0)
            goto fail;
        if (issue_receipt(c, o, channel, n->trade_no) != 0 || file_case(c, o) != 0)
            goto fail;
        res->outcome = "applied";
        res->ack = true;
        if (audit(c, a, "payments.paid", target, "ok",
                  json_pack("{sssssIss}", "channel", channel, "trade_no", n->trade_no, "amount_fen",
                            (json_int_t)n->amount_fen, "previous_state", o->state)) != 0)
            goto fail;
    } else {
        /* The violations were paid by another order (or cancelled) while
         * this one was expired: keep the money on record and give it back. */
        if (pay_sql_order_close_any(c, oid, "duplicate_payment") != 0 || pay_sql_items_release(c, oid) != 0)
            goto fail;
        if (record_surplus(c, a, channel, n, oid, "violations_already_paid",
                           "duplicate payment: violations already paid", res) != 0)
            goto fail;
    }
    rc = 0;
fail:
    free(pay);
    free(viol);
    return rc;
}

/* Anyone can POST to the notify endpoint, up to http.max_body. A
 * notification whose signature did not verify therefore costs at most a
 * digest (size, SHA-256, the first payments.unverified_keep_bytes bytes,
 * reason, source) and one more count on the alert of its source, channel
 * and bureau day, which the first one opens (audited once, not per
 * request: every audit record takes the chain's head lock). Past
 * payments.unverified_digests_per_alert digests only the count grows, so
 * what one source can make us store per day is bounded whatever its rate.
 * rec holds the parsed fields; its body members are set here. */
int pay_record_unauthenticated(db_conn *c, const pay_actor *a, const char *channel, pay_notif_row *rec,
                               const pay_raw *raw, const char *reason)
{
    char source[80], day[DATE_STR_SIZE], fold[160], detail[200], sha[65], id[32];
    size_t keep = (size_t)payments_conf.unverified_keep_bytes;
    pay_alert_folded f;

    /* IPv6 sources by /64, like the rate limit: one subscriber, one alert. */
    ratelimit_addr_key(a->peer ? a->peer : "", source, sizeof source);
    date_format(date_shanghai_today(time(NULL)), day);
    snprintf(fold, sizeof fold, "unverified|%s|%s|%s", channel, source, day);
    snprintf(detail, sizeof detail, "unauthenticated notifications from %s; last reason: %s", source,
             reason);
    if (pay_sql_alert_fold(c, "notification_unverified", channel, source, fold, detail, &f) != 0)
        return -1;
    if (f.occurrences == 1) {
        json_t *d = json_pack("{ssss}", "channel", channel, "source", source);
        int arc;
        snprintf(id, sizeof id, "%lld", (long long)f.id);
        arc = audit_write_sys(c, a->who, a->request_id, a->peer, "payments.notification_unverified",
                              "payment_alert", id, reason, d);
        json_decref(d);
        if (arc != 0)
            return -1;
    }
    if (f.occurrences > payments_conf.unverified_digests_per_alert)
        return 0;
    crypto_sha256_hex(raw->body ? raw->body : "", raw->body_len, sha);
    rec->raw = raw->body;
    rec->raw_len = raw->body_len < keep ? raw->body_len : keep;
    rec->body_size = (int64_t)raw->body_len;
    rec->body_sha256 = sha;
    return pay_sql_notification_insert(c, rec);
}

int pay_apply_notice(db_conn *c, const pay_actor *a, const char *channel, bool verified,
                     const pay_notice *n, const char *why, const pay_raw *raw, pay_apply_result *res)
{
    pay_order o;
    pay_notif_row rec = {0};
    char order_no[65], trade_no[65], notify_id[129], status[33], detail[200], sha[65];
    bool found = false, done;
    int rc = -1;

    memset(&o, 0, sizeof o);
    memset(res, 0, sizeof *res);
    pay_clean_ascii(n->order_no, order_no, sizeof order_no);
    pay_clean_ascii(n->trade_no, trade_no, sizeof trade_no);
    pay_clean_ascii(n->notify_id, notify_id, sizeof notify_id);
    pay_clean_ascii(n->status, status, sizeof status);
    rec.channel = channel;
    rec.source = raw->source;
    rec.peer = a->peer;
    rec.notify_id = notify_id;
    rec.order_no = order_no;
    rec.trade_no = trade_no;
    rec.trade_status = status;
    rec.amount_fen = n->amount_fen;
    rec.verified = verified;
    rec.headers = raw->headers;

    if (!verified && !n->authentic && strcmp(raw->source, "notify") == 0) {
        res->outcome = rec.outcome = "rejected";
        res->reason = rec.reason = why ? why : "rejected";
        rc = pay_record_unauthenticated(c, a, channel, &rec, raw, res->reason);
        goto fail;
    }
    if (!verified) {
        res->outcome = "rejected";
        res->reason = why ? why : "rejected";
        goto record;
    }
    if (pay_sql_order_by_no(c, n->order_no, true, &o, &found) != 0)
        goto fail;
    if (!found) {
        res->outcome = "rejected";
        res->reason = "unknown_order";
        goto record;
    }
    res->order_id = o.id;
    if (strcmp(o.channel, channel) != 0) {
        res->outcome = "rejected";
        res->reason = "channel_mismatch";
        goto record;
    }
    if (n->amount_fen != o.amount_fen) {
        res->outcome = "rejected";
        res->reason = "amount_mismatch";
        goto record;
    }
    switch (n->st) {
    case PAY_ST_PENDING:
        res->outcome = "ignored";
        res->reason = "trade_pending";
        res->ack = true;
        break;
    case PAY_ST_CLOSED:
        if (pay_order_end(c, a, res->order_id, "failed", "channel_closed", false, &done) != 0)
            goto fail;
        res->outcome = done ? "failed" : "ignored";
        res->reason = "trade_closed";
        res->ack = true;
        break;
    case PAY_ST_SUCCESS:
        if (apply_success(c, a, channel, n, &o, res) != 0)
            goto fail;
        break;
    }
record:
    if (strcmp(res->outcome, "rejected") == 0) {
        res->ack = false;
        snprintf(detail, sizeof detail, "%s notification rejected: %s", raw->source, res->reason);
        if (pay_sql_alert_insert(c, "notification_rejected", channel, order_no, res->order_id, detail) != 0)
            goto fail;
        if (audit(c, a, "payments.notification_rejected", order_no[0] ? order_no : NULL, res->reason,
                  json_pack("{ssss}", "channel", channel, "source", raw->source)) != 0)
            goto fail;
    }
    /* From the channel itself (verified, or signed and then refused): kept
     * whole, as evidence. */
    crypto_sha256_hex(raw->body ? raw->body : "", raw->body_len, sha);
    rec.outcome = res->outcome;
    rec.reason = res->reason;
    rec.raw = raw->body;
    rec.raw_len = raw->body_len;
    rec.body_size = (int64_t)raw->body_len;
    rec.body_sha256 = sha;
    if (pay_sql_notification_insert(c, &rec) != 0)
        goto fail;
    rc = 0;
fail:
    pay_order_clear(&o);
    return rc;
}
