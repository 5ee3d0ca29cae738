/* payments_actions.c - what callers do to orders and refunds, as business
 * functions: (db, actor, input) -> a result, or a refusal (pay_why: a code
 * of the module's error table, payments_module.c). No HTTP here: the
 * handlers in payments_http.c translate a refusal with app_fail and reply.
 * All run inside the caller's transaction (app_tx) and write their audit
 * record in it; all block (database). */
#include <stdio.h>
#include <string.h>

#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_http.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"
#include "modules/violations/violations.h"
#include "server/audit.h"
#include "server/date.h"

/* Sets the refusal, returns -1. */
static int refuse(pay_why *why, const char *code, const char *field, const char *detail)
{
    why->code = code;
    why->field = field;
    why->detail = detail;
    return -1;
}

int pay_order_open(db_conn *c, const pay_actor *a, int64_t *ids, int n, const char *channel,
                   int64_t *order_id, pay_why *why)
{
    pay_payable v;
    pay_live live;
    bool found = false;
    int64_t fines[PAY_ORDER_MAX_ITEMS], fees[PAY_ORDER_MAX_ITEMS], fine = 0, fee = 0;
    int32_t today = date_shanghai_today(time(NULL)), served;
    char order_no[40];
    uint64_t oid = 0;

    memset(why, 0, sizeof *why);
    /* Lock violations in id order so two orders over overlapping sets
     * cannot deadlock each other; by primary key only, and all of them
     * before any plain read below, so that the transaction's snapshot
     * (taken at its first plain read) sees every committed change to them:
     * an item for a violation is only ever inserted under its lock. */
    for (int x = 1; x < n; x++)
        for (int y = x; y > 0 && ids[y - 1] > ids[y]; y--) {
            int64_t t = ids[y];
            ids[y] = ids[y - 1];
            ids[y - 1] = t;
        }
    for (int i = 0; i < n; i++)
        if (pay_sql_violation_lock(c, ids[i]) != 0)
            return -1;
    for (int i = 0; i < n; i++) {
        if (pay_sql_violation_for_payer(c, ids[i], a->who->id, &v, &found) != 0)
            return -1;
        if (!found)
            return refuse(why, "violation_not_found", "violation_ids", NULL);
        if (strcmp(v.state, "paid") == 0)
            return refuse(why, "violation_already_paid", "violation_ids", NULL);
        if (strcmp(v.state, "handled") != 0)
            return refuse(why, "violation_not_handled", "violation_ids", NULL);
        /* A live order holding it blocks a new one, unless that order is
         * merely past its expiry and the closing job has not run yet. Read
         * without a lock (a locking read of an absent key gap-locks
         * uq_payment_items_open, where the insert below then deadlocked
         * with a concurrent order, issue 12); the order found is then
         * locked by primary key and its current state decides. An item
         * committed after the snapshot is caught by the unique key. */
        if (pay_sql_live_item_read(c, ids[i], &live, &found) != 0)
            return -1;
        if (found && pay_sql_order_state_lock(c, live.order_id, live.state, &found) != 0)
            return -1;
        if (found && (strcmp(live.state, "open") == 0 || strcmp(live.state, "awaiting_confirmation") == 0)) {
            bool done = false;
            /* past_expiry is of the snapshot's state: an order never
             * returns to open, so it holds while the order is open. */
            if (strcmp(live.state, "open") == 0 && live.past_expiry &&
                pay_order_end(c, a, live.order_id, "expired", "ttl", true, &done) != 0)
                return -1;
            if (!done)
                return refuse(why, "violation_in_open_order", "violation_ids",
                              strcmp(live.state, "awaiting_confirmation") == 0
                                  ? "A payment for this violation is awaiting the channel's confirmation."
                                  : NULL);
        }
        if (date_parse(v.served_date, &served) != 0)
            return -1;
        fines[i] = v.fine_fen;
        fees[i] = violations_late_fee(fines[i], served, today);
        fine += fines[i];
        fee += fees[i];
    }
    if (fine + fee <= 0)
        return refuse(why, "nothing_to_pay", "violation_ids", NULL);
    pay_new_number("P", true, 16, order_no, sizeof order_no);
    if (pay_sql_order_insert(c, order_no, a->who->id, fine + fee, fine, fee, channel, payments_conf.order_ttl_s,
                             &oid) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (pay_sql_item_insert(c, (int64_t)oid, ids[i], fines[i], fees[i]) != 0) {
            if (db_error(c) != DB_ERR_DUP)
                return -1;
            /* Lost the race to a concurrent order for the same violation. */
            db_error_clear(c);
            return refuse(why, "violation_in_open_order", "violation_ids", NULL);
        }
    *order_id = (int64_t)oid;
    return audit_write_sys_id(c, a->who, a->request_id, a->peer, "payments.order_create", "payment_order",
                              *order_id, "ok",
                              json_pack("{sssIsi}", "channel", channel, "amount_fen",
                                        (json_int_t)(fine + fee), "items", n));
}

int pay_order_find_visible(db_conn *c, const app_principal *who, const char *order_no, bool for_update,
                           pay_order *o, pay_why *why)
{
    bool found = false;

    memset(why, 0, sizeof *why);
    if (pay_sql_order_by_no(c, order_no, for_update, o, &found) != 0)
        return -1;
    if (!found || (who->kind == CALLER_CITIZEN && o->citizen_id != who->id))
        return refuse(why, "order_not_found", NULL, NULL);
    return 0;
}

int pay_order_returned(db_conn *c, const pay_actor *a, const char *order_no, const char *trade_no,
                       pay_why *why)
{
    pay_order o;
    uint64_t affected = 0;
    int rc = -1;

    if (pay_order_find_visible(c, a->who, order_no, true, &o, why) != 0)
        goto done;
    if (strcmp(o.state, "open") == 0) {
        if (pay_sql_order_returned(c, o.id, trade_no, &affected) != 0 ||
            audit_write_sys_id(c, a->who, a->request_id, a->peer, "payments.order_returned",
                               "payment_order", o.id, "ok", NULL) != 0)
            goto done;
    } else if (strcmp(o.state, "awaiting_confirmation") != 0 && strcmp(o.state, "paid") != 0) {
        rc = refuse(why, "order_not_open", NULL, NULL);
        goto done;
    }
    rc = 0;
done:
    pay_order_clear(&o);
    return rc;
}

int pay_refund_request(db_conn *c, const pay_actor *a, const char *order_no, int64_t amount,
                       const char *reason, int64_t *refund_id, pay_why *why)
{
    pay_order o;
    pay_payment p;
    bool found = false;
    int64_t refunded = 0;
    char out_no[40];
    uint64_t id = 0;
    int rc = -1;

    memset(why, 0, sizeof *why);
    if (pay_sql_order_by_no(c, order_no, true, &o, &found) != 0)
        goto done;
    if (!found) {
        rc = refuse(why, "order_not_found", "order_no", NULL);
        goto done;
    }
    if (pay_sql_payment_by_order(c, o.id, &p, &found) != 0)
        goto done;
    if (!found) {
        rc = refuse(why, "order_not_paid", "order_no", NULL);
        goto done;
    }
    if (pay_sql_refund_total(c, p.id, &refunded) != 0)
        goto done;
    if (refunded + amount > p.amount_fen) {
        rc = refuse(why, "refund_exceeds_payment", "amount_fen", NULL);
        goto done;
    }
    pay_new_number("RF", false, 16, out_no, sizeof out_no);
    if (pay_sql_refund_insert(c, out_no, o.id, p.id, o.channel, amount, reason, "operator", "requested", a->who->id,
                              &id) != 0)
        goto done;
    *refund_id = (int64_t)id;
    rc = audit_write_sys_id(c, a->who, a->request_id, a->peer, "payments.refund_request", "refund",
                            *refund_id, "ok",
                            json_pack("{sssI}", "order_no", order_no, "amount_fen", (json_int_t)amount));
done:
    pay_order_clear(&o);
    return rc;
}

int pay_refund_approve(db_conn *c, const pay_actor *a, int64_t id, pay_why *why)
{
    pay_refund f;
    bool found = false;
    uint64_t affected = 0;
    int rc = -1;

    memset(why, 0, sizeof *why);
    if (pay_sql_refund_get(c, id, true, &f, &found) != 0)
        goto done;
    if (!found)
        rc = refuse(why, "refund_not_found", NULL, NULL);
    else if (strcmp(f.state, "requested") != 0)
        rc = refuse(why, "refund_not_pending", NULL, NULL);
    else if (f.has_requested_by && f.requested_by == a->who->id)
        rc = refuse(why, "same_operator", NULL, NULL);
    else if (pay_sql_refund_approve(c, id, a->who->id, &affected) != 0)
        rc = -1;
    else if (affected != 1)
        rc = refuse(why, "refund_not_pending", NULL, NULL);
    else
        rc = audit_write_sys_id(c, a->who, a->request_id, a->peer, "payments.refund_approve", "refund", id,
                                "ok", NULL);
done:
    pay_refund_clear(&f);
    return rc;
}
