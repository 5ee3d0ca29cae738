/* payments_http.c - HTTP handlers of the payments module (thin: the inputs
 * are declared in payments_module.c and checked before they run; they run
 * the change in app_tx and reply, problems through app_fail). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/payments/money.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_http.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"
#include "modules/violations/violations.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"

static pay_actor actor_of(const app_req *r)
{
    pay_actor a = {&r->who, r->request_id, r->peer};
    return a;
}

/* ---- POST /v1/payments/orders ------------------------------------------ */

typedef struct create_arg {
    int64_t ids[PAY_ORDER_MAX_ITEMS];
    int n;
    const char *channel;
} create_arg;

static int create_tx(app_req *r, void *arg)
{
    create_arg *a = arg;
    pay_payable v;
    pay_live live;
    pay_order o;
    bool found = false;
    int64_t fines[PAY_ORDER_MAX_ITEMS], fees[PAY_ORDER_MAX_ITEMS], fine = 0, fee = 0;
    int32_t today = date_shanghai_today(time(NULL)), served;
    char order_no[40], target[32];
    uint64_t oid = 0;
    pay_actor act = actor_of(r);
    json_t *detail = NULL; /* audit_write borrows it */
    int rc = -1;

    memset(&o, 0, sizeof o);
    for (int i = 0; i < a->n; i++) {
        if (pay_sql_violation_for_payer(r->db, a->ids[i], r->who.id, &v, &found) != 0)
            goto fail;
        if (!found) {
            app_fail(r, "violation_not_found", NULL, "violation_ids");
            goto fail;
        }
        if (strcmp(v.state, "paid") == 0) {
            app_fail(r, "violation_already_paid", NULL, "violation_ids");
            goto fail;
        }
        if (strcmp(v.state, "handled") != 0) {
            app_fail(r, "violation_not_handled", NULL, "violation_ids");
            goto fail;
        }
        /* A live order holding it blocks a new one, unless that order is
         * merely past its expiry and the closing job has not run yet. */
        if (pay_sql_live_item(r->db, a->ids[i], &live, &found) != 0)
            goto fail;
        if (found) {
            bool done = false;
            if (live.past_expiry &&
                pay_order_end(r->db, &act, live.order_id, "expired", "ttl", true, &done) != 0)
                goto fail;
            if (!done) {
                app_fail(r, "violation_in_open_order",
                         strcmp(live.state, "awaiting_confirmation") == 0
                             ? "A payment for this violation is awaiting the channel's confirmation."
                             : NULL,
                         "violation_ids");
                goto fail;
            }
        }
        if (date_parse(v.served_date, &served) != 0)
            goto fail;
        fines[i] = v.fine_fen;
        fees[i] = violations_late_fee(fines[i], served, today);
        fine += fines[i];
        fee += fees[i];
    }
    if (fine + fee <= 0) {
        app_fail(r, "nothing_to_pay", NULL, "violation_ids");
        goto fail;
    }
    pay_new_number("P", true, 16, order_no, sizeof order_no);
    if (pay_sql_order_insert(r->db, order_no, r->who.id, fine + fee, fine, fee, a->channel,
                             payments_conf.order_ttl_s, &oid) != 0)
        goto fail;
    for (int i = 0; i < a->n; i++) {
        if (pay_sql_item_insert(r->db, (int64_t)oid, a->ids[i], fines[i], fees[i]) != 0) {
            if (db_error(r->db) == DB_ERR_DUP) {
                /* Lost the race to a concurrent order for the same violation. */
                db_error_clear(r->db);
                app_fail(r, "violation_in_open_order", NULL, "violation_ids");
            }
            goto fail;
        }
    }
    snprintf(target, sizeof target, "%llu", (unsigned long long)oid);
    detail = json_pack("{sssIsi}", "channel", a->channel, "amount_fen", (json_int_t)(fine + fee), "items", a->n);
    if (audit_write(r, "payments.order_create", "payment_order", target, "ok", detail) != 0)
        goto fail;
    if (pay_sql_order_by_id(r->db, (int64_t)oid, false, &o, NULL) != 0)
        goto fail;
    app_reply_json(r, 201, pay_order_json(r->db, &o));
    rc = 0;
fail:
    json_decref(detail);
    pay_order_clear(&o);
    return rc;
}

void payments_on_order_create(app_req *r)
{
    create_arg a = {{0}, 0, app_json_str(r, "channel")};
    json_t *v;
    size_t i;

    /* declared: 1..20 ids, a known channel */
    if (!payments_channel_ready(a.channel)) {
        app_fail(r, "channel_unavailable", NULL, "channel");
        return;
    }
    json_array_foreach(json_object_get(r->json, "violation_ids"), i, v) {
        json_int_t id = json_is_integer(v) ? json_integer_value(v) : 0;
        if (id <= 0) {
            app_fail(r, "bad_violation_ids", "Violation ids are positive integers.", "violation_ids");
            return;
        }
        for (int k = 0; k < a.n; k++)
            if (a.ids[k] == id) {
                app_fail(r, "bad_violation_ids", "A violation id is repeated.", "violation_ids");
                return;
            }
        a.ids[a.n++] = id;
    }
    /* Lock violations in id order so two orders over overlapping sets
     * cannot deadlock each other. */
    for (int x = 1; x < a.n; x++)
        for (int y = x; y > 0 && a.ids[y - 1] > a.ids[y]; y--) {
            int64_t t = a.ids[y];
            a.ids[y] = a.ids[y - 1];
            a.ids[y - 1] = t;
        }
    app_tx(r, create_tx, &a);
}

/* ---- GET /v1/payments/orders/{no} ------------------------------------- */

/* Loads an order the caller may see: a citizen only their own (others 404).
 * *o is filled either way (pay_order_clear it). */
static int load_visible(app_req *r, bool for_update, pay_order *o)
{
    bool found = false;

    if (pay_sql_order_by_no(r->db, app_param(r, 0), for_update, o, &found) != 0) {
        app_problem_db(r);
        return -1;
    }
    if (!found || (r->who.kind == CALLER_CITIZEN && o->citizen_id != r->who.id)) {
        app_fail(r, "order_not_found", NULL, NULL);
        return -1;
    }
    return 0;
}

void payments_on_order_get(app_req *r)
{
    pay_order o;
    if (load_visible(r, false, &o) == 0)
        app_reply_json(r, 200, pay_order_json(r->db, &o));
    pay_order_clear(&o);
}

/* ---- POST /v1/payments/orders/{no}/returned ---------------------------- */

static int returned_tx(app_req *r, void *arg)
{
    const char *trade_no = arg;
    pay_order o;
    uint64_t affected = 0;
    char target[32];
    int rc = -1;

    if (load_visible(r, true, &o) != 0)
        goto fail;
    if (strcmp(o.state, "open") == 0) {
        if (pay_sql_order_returned(r->db, o.id, trade_no, &affected) != 0)
            goto fail;
        snprintf(target, sizeof target, "%lld", (long long)o.id);
        if (audit_write(r, "payments.order_returned", "payment_order", target, "ok", NULL) != 0)
            goto fail;
        pay_order_clear(&o);
        if (load_visible(r, false, &o) != 0)
            goto fail;
    } else if (strcmp(o.state, "awaiting_confirmation") != 0 && strcmp(o.state, "paid") != 0) {
        app_fail(r, "order_not_open", NULL, NULL);
        goto fail;
    }
    app_reply_json(r, 200, pay_order_json(r->db, &o));
    rc = 0;
fail:
    pay_order_clear(&o);
    return rc;
}

void payments_on_order_returned(app_req *r)
{
    const char *trade_no = app_json_str(r, "trade_no");

    if (trade_no && trade_no[0] == '\0')
        trade_no = NULL;
    app_tx(r, returned_tx, (void *)trade_no);
}

/* ---- POST /v1/payments/notify/{channel} -------------------------------- */

typedef struct notify_arg {
    const pay_channel *ch;
    bool verified;
    pay_notice n;
    const char *why;
    pay_raw raw;
    pay_apply_result res;
} notify_arg;

static const char *req_header(const void *ctx, const char *name)
{
    return app_header(ctx, name);
}

static int notify_tx(app_req *r, void *arg)
{
    notify_arg *a = arg;
    pay_actor act = actor_of(r);

    if (pay_apply_notice(r->db, &act, a->ch->name, a->verified, &a->n, a->why, &a->raw, &a->res) != 0)
        return -1;
    /* Success is answered only now that the notification is recorded; the
     * reply is set before commit, and a failed commit replaces it with a
     * 5xx, which the channel also treats as "resend". */
    if (a->res.ack)
        app_reply_bytes(r, a->ch->ok_status, a->ch->ok_type, a->ch->ok_body, strlen(a->ch->ok_body));
    else
        app_reply_bytes(r, a->ch->fail_status, a->ch->fail_type, a->ch->fail_body,
                        strlen(a->ch->fail_body));
    return 0;
}

/* cap: bytes kept of each value (a serial or timestamp fits in 64; an
 * unauthenticated notification gets no more than that). */
static char *signature_headers(const app_req *r, size_t cap)
{
    static const char *names[] = {"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                                  "Wechatpay-Signature", "X-Pay-Timestamp", "X-Pay-Signature",
                                  "Content-Type"};
    json_t *o = json_object();
    char *s;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = app_header(r, names[i]);
        if (v)
            json_object_set_new(o, names[i], json_stringn_nocheck(v, strlen(v) > cap ? cap : strlen(v)));
    }
    s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return s;
}

void payments_on_notify(app_req *r)
{
    notify_arg *a = app_calloc(1, sizeof *a);
    pay_input in = {r->body ? r->body : "", r->body ? r->body_len : 0, req_header, r, time(NULL)};
    char *hdrs = NULL;

    a->ch = pay_channel_find(app_param(r, 0));
    if (a->ch == NULL) {
        app_rate_charge(r);
        app_fail(r, "channel_not_found", NULL, NULL);
        goto done;
    }
    a->verified = a->ch->verify(payments_conf_channel(a->ch->name), &in, &a->n, &a->why) == 0;
    /* Only what anyone could have sent costs the address a token: a
     * channel's own messages are never rate-limited, even when refused. */
    if (!a->n.authentic)
        app_rate_charge(r);
    hdrs = signature_headers(r, a->n.authentic ? 512 : 64);
    a->raw = (pay_raw){"notify", in.body, in.body_len, hdrs};
    if (app_tx(r, notify_tx, a) == 0)
        app_log(2, "payments", "request_id=%s channel=%s outcome=%s reason=%s", r->request_id,
                a->ch->name, a->res.outcome, a->res.reason ? a->res.reason : "-");
done:
    free(hdrs);
    free(a);
}

/* ---- GET /v1/receipts/{number}?code= ---------------------------------- */

void payments_on_receipt_verify(app_req *r)
{
    const char *code = app_query(r, "code");
    pay_receipt rc;
    bool found = false;
    json_t *items, *j;
    char yuan[MONEY_STR_SIZE];

    memset(&rc, 0, sizeof rc); /* declared: code is 1..16 bytes */
    if (pay_sql_receipt_by_number(r->db, app_param(r, 0), &rc, &found) != 0) {
        app_problem_db(r);
        goto done;
    }
    /* Unknown number and wrong code answer the same, so neither can be probed. */
    if (!found || !crypto_equal(code, strlen(code), rc.verify_code, strlen(rc.verify_code))) {
        app_fail(r, "receipt_not_found", NULL, NULL);
        goto done;
    }
    items = json_loads(rc.items, 0, NULL);
    money_format_yuan(rc.amount_fen, yuan);
    j = json_pack("{sbsssssosIssssssssss}", "valid", 1, "number", rc.number, "payer",
                  rc.payer_name_masked, "items", items ? items : json_array(), "amount_fen",
                  (json_int_t)rc.amount_fen, "amount", yuan, "channel", rc.channel,
                  "trade_no", rc.trade_no, "issued_at", rc.issued_at, "order_no", rc.order_no);
    app_reply_json(r, 200, j);
done:
    pay_receipt_clear(&rc);
}

/* ---- refunds ------------------------------------------------------------ */

typedef struct refund_arg {
    const char *order_no, *reason;
    int64_t amount;
    int64_t id;
} refund_arg;

static int refund_create_tx(app_req *r, void *arg)
{
    refund_arg *a = arg;
    pay_order o;
    pay_payment p;
    pay_refund f;
    bool found = false;
    int64_t refunded = 0;
    char out_no[40], target[32];
    json_t *detail = NULL; /* audit_write borrows it */
    uint64_t id = 0;
    int rc = -1;

    memset(&f, 0, sizeof f);
    if (pay_sql_order_by_no(r->db, a->order_no, true, &o, &found) != 0)
        goto fail;
    if (!found) {
        app_fail(r, "order_not_found", NULL, "order_no");
        goto fail;
    }
    if (pay_sql_payment_by_order(r->db, o.id, &p, &found) != 0)
        goto fail;
    if (!found) {
        app_fail(r, "order_not_paid", NULL, "order_no");
        goto fail;
    }
    if (pay_sql_refund_total(r->db, p.id, &refunded) != 0)
        goto fail;
    if (refunded + a->amount > p.amount_fen) {
        app_fail(r, "refund_exceeds_payment", NULL, "amount_fen");
        goto fail;
    }
    pay_new_number("RF", false, 16, out_no, sizeof out_no);
    if (pay_sql_refund_insert(r->db, out_no, o.id, p.id, o.channel, a->amount, a->reason, "operator", "requested",
                              r->who.id, &id) != 0)
        goto fail;
    snprintf(target, sizeof target, "%llu", (unsigned long long)id);
    detail = json_pack("{sssI}", "order_no", a->order_no, "amount_fen", (json_int_t)a->amount);
    if (audit_write(r, "payments.refund_request", "refund", target, "ok", detail) != 0)
        goto fail;
    if (pay_sql_refund_get(r->db, (int64_t)id, false, &f, NULL) != 0)
        goto fail;
    app_reply_json(r, 201, pay_refund_json(&f));
    rc = 0;
fail:
    json_decref(detail);
    pay_order_clear(&o);
    pay_refund_clear(&f);
    return rc;
}

void payments_on_refund_create(app_req *r)
{
    /* declared: amount 1..MONEY_MAX_FEN fen, a reason of 2..255 bytes */
    refund_arg a = {app_json_str(r, "order_no"), app_json_str(r, "reason"), app_json_int(r, "amount_fen", 0), 0};

    app_tx(r, refund_create_tx, &a);
}

static int refund_approve_tx(app_req *r, void *arg)
{
    refund_arg *a = arg;
    pay_refund f;
    bool found = false;
    uint64_t affected = 0;
    char target[32];
    int rc = -1;

    if (pay_sql_refund_get(r->db, a->id, true, &f, &found) != 0)
        goto fail;
    if (!found) {
        app_fail(r, "refund_not_found", NULL, NULL);
        goto fail;
    }
    if (strcmp(f.state, "requested") != 0) {
        app_fail(r, "refund_not_pending", NULL, NULL);
        goto fail;
    }
    if (f.has_requested_by && f.requested_by == r->who.id) {
        app_fail(r, "same_operator", NULL, NULL);
        goto fail;
    }
    if (pay_sql_refund_approve(r->db, a->id, r->who.id, &affected) != 0)
        goto fail;
    if (affected != 1) {
        app_fail(r, "refund_not_pending", NULL, NULL);
        goto fail;
    }
    snprintf(target, sizeof target, "%lld", (long long)a->id);
    if (audit_write(r, "payments.refund_approve", "refund", target, "ok", NULL) != 0)
        goto fail;
    app_reply_empty(r, 204);
    rc = 0;
fail:
    pay_refund_clear(&f);
    return rc;
}

/* Replies 200 with refund id, or 404 when there is none. Returns 0 when
 * the refund was sent. */
static int reply_refund(app_req *r, int64_t id)
{
    pay_refund f;
    bool found = false;
    int rc = -1;

    if (pay_sql_refund_get(r->db, id, false, &f, &found) != 0) {
        app_problem_db(r);
    } else if (!found) {
        app_fail(r, "refund_not_found", NULL, NULL);
    } else {
        app_reply_json(r, 200, pay_refund_json(&f));
        rc = 0;
    }
    pay_refund_clear(&f);
    return rc;
}

void payments_on_refund_approve(app_req *r)
{
    refund_arg a = {.id = app_path_int(r, 0)};
    pay_actor act = actor_of(r);

    if (app_tx(r, refund_approve_tx, &a) != 0)
        return;
    /* Approved and committed: send it now (a failure leaves it approved for
     * the refunds job to retry). */
    (void)pay_refund_send(r->db, &act, a.id);
    if (reply_refund(r, a.id) == 0)
        app_idem_refresh(r); /* a replay answers this, not the approval's 204 */
}

void payments_on_refund_get(app_req *r)
{
    (void)reply_refund(r, app_path_int(r, 0));
}
