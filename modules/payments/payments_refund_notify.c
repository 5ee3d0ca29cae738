/* payments_refund_notify.c - applying WeChat Pay's refund callbacks
 * (REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED), exactly once.
 *
 * The refund row is locked first (SELECT ... FOR UPDATE by out_refund_no),
 * so resends (about a second apart at times) and the refunds job's own
 * answer queue up; the state change is conditional (approved -> final), so
 * whichever comes second finds the refund finished and only records it.
 * Like payment notifications, anything unauthenticated costs a digest and
 * one more count on its source's alert. */
#include <stdio.h>
#include <string.h>

#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"
#include "server/audit.h"
#include "server/crypto.h"

/* The refund's final state that a callback status means. */
static const char *final_state(const char *status)
{
    return strcmp(status, "SUCCESS") == 0 ? "succeeded" : "failed";
}

int pay_apply_refund_notice(db_conn *c, const pay_actor *a, bool verified, const pay_refund_notice *n,
                            const char *why, const pay_raw *raw, pay_apply_result *res)
{
    static const char CHANNEL[] = "wechatpay";
    pay_refund f;
    pay_notif_row rec = {0};
    char out_no[65], order_no[65], refund_id[65], notify_id[129], status[33], detail[200], sha[65];
    bool found = false, done = false;
    int rc = -1;

    memset(&f, 0, sizeof f);
    memset(res, 0, sizeof *res);
    pay_clean_ascii(n->out_refund_no, out_no, sizeof out_no);
    pay_clean_ascii(n->order_no, order_no, sizeof order_no);
    pay_clean_ascii(n->refund_id, refund_id, sizeof refund_id);
    pay_clean_ascii(n->notify_id, notify_id, sizeof notify_id);
    pay_clean_ascii(n->status, status, sizeof status);
    rec.channel = CHANNEL;
    rec.source = raw->source;
    rec.peer = a->peer;
    rec.notify_id = notify_id;
    rec.order_no = order_no;
    rec.trade_no = refund_id; /* the channel's number of what this is about: the refund */
    rec.trade_status = status;
    rec.amount_fen = n->amount_fen;
    rec.verified = verified;
    rec.headers = raw->headers;

    if (!verified && !n->authentic) {
        res->outcome = rec.outcome = "rejected";
        res->reason = rec.reason = why ? why : "rejected";
        rc = pay_record_unauthenticated(c, a, CHANNEL, &rec, raw, res->reason);
        goto fail;
    }
    if (!verified) {
        res->outcome = "rejected";
        res->reason = why ? why : "rejected";
        goto record;
    }
    if (pay_sql_refund_by_out_no_lock(c, n->out_refund_no, &f, &found) != 0)
        goto fail;
    if (!found) {
        res->outcome = "rejected";
        res->reason = "unknown_refund";
        goto record;
    }
    res->order_id = f.id; /* the alert's ref_id: the refund */
    if (strcmp(f.channel, CHANNEL) != 0) {
        res->outcome = "rejected";
        res->reason = "channel_mismatch";
        goto record;
    }
    if (n->amount_fen != f.amount_fen) {
        res->outcome = "rejected";
        res->reason = "amount_mismatch";
        goto record;
    }
    if (strcmp(f.state, "approved") == 0 || strcmp(f.state, "sent") == 0) {
        const char *to = final_state(n->status);
        if (pay_refund_finish(c, a, f.id, to, strcmp(to, "succeeded") == 0 ? refund_id : NULL,
                              strcmp(to, "failed") == 0 ? status : NULL, &done) != 0)
            goto fail;
        res->outcome = done ? (strcmp(to, "succeeded") == 0 ? "applied" : "failed") : "duplicate";
        res->ack = true;
    } else if (strcmp(f.state, final_state(n->status)) == 0) {
        res->outcome = "duplicate"; /* a resend, or the refunds job got there first */
        res->ack = true;
    } else if (strcmp(f.state, "requested") == 0) {
        /* never sent: WeChat cannot know it */
        res->outcome = "rejected";
        res->reason = "refund_not_sent";
    } else {
        /* finished the other way: the channel contradicts itself; kept
         * as it is for an operator, and acknowledged (resends would say
         * the same) */
        res->outcome = "ignored";
        res->reason = "refund_state_conflict";
        res->ack = true;
        snprintf(detail, sizeof detail, "refund %s is %s but the channel notified %s", out_no, f.state, status);
        if (pay_sql_alert_insert(c, "refund_conflict", CHANNEL, order_no, f.id, detail) != 0)
            goto fail;
    }
record:
    if (strcmp(res->outcome, "rejected") == 0) {
        res->ack = false;
        snprintf(detail, sizeof detail, "refund notification rejected: %s", res->reason);
        if (pay_sql_alert_insert(c, "notification_rejected", CHANNEL, order_no, res->order_id, detail) != 0)
            goto fail;
        {
            json_t *d = json_pack("{ssssss}", "channel", CHANNEL, "source", raw->source, "out_refund_no", out_no);
            int arc = audit_write_sys(c, a->who, a->request_id, a->peer, "payments.refund_notification_rejected",
                                      "refund", out_no[0] ? out_no : NULL, res->reason, d);
            json_decref(d);
            if (arc != 0)
                goto fail;
        }
    }
    /* authentic: kept whole, as evidence */
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
    pay_refund_clear(&f);
    return rc;
}
