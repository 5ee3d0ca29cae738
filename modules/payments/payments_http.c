/* payments_http.c - HTTP handlers of the payments module (thin: the inputs
 * are declared in payments_module.c and checked before they run; they run
 * the change in app_tx and reply, problems through app_fail). */
#include <stdlib.h>
#include <string.h>

#include "modules/payments/money.h"
#include "modules/payments/channel_client.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_http.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"
#include "server/crypto.h"

static pay_actor actor_of(const app_req *r)
{
    pay_actor a = {&r->who, r->request_id, r->peer};
    return a;
}

/* Answers a refusal of a business function (a database error, code NULL,
 * is answered by app_tx). Returns -1 for the transaction to roll back. */
static int refused(app_req *r, const pay_why *why)
{
    if (why->code)
        app_fail(r, why->code, why->detail, why->field);
    return -1;
}

/* Replies with order id (status), read on r's connection. */
static int reply_order(app_req *r, int status, int64_t id)
{
    pay_order o;
    int rc = pay_sql_order_by_id(r->db, id, false, &o, NULL);

    if (rc == 0)
        app_reply_json(r, status, pay_order_json(r->db, &o));
    pay_order_clear(&o);
    return rc;
}

/* ---- POST /v1/payments/orders ------------------------------------------ */

typedef struct create_arg {
    int64_t ids[PAY_ORDER_MAX_ITEMS];
    int n;
    const char *channel;
    int64_t id;
} create_arg;

static int create_tx(app_req *r, void *arg)
{
    create_arg *a = arg;
    pay_actor act = actor_of(r);
    pay_why why;

    if (pay_order_open(r->db, &act, a->ids, a->n, a->channel, &a->id, &why) != 0)
        return refused(r, &why);
    return reply_order(r, 201, a->id);
}

/* The committed order with what the app needs to open the channel's
 * payment sheet (launch); a channel that cannot start one now leaves
 * launch null (the order stays open; asking again makes a new order). */
static void reply_launch(app_req *r, int64_t id, const char *payer_openid)
{
    const pay_channel_conf *cf;
    pay_order o;
    json_t *j = NULL, *launch = NULL;
    char err[256];

    if (pay_sql_order_by_id(r->db, id, false, &o, NULL) != 0)
        goto done;
    cf = payments_conf_channel(o.channel);
    j = pay_order_json(r->db, &o);
    if (cf != NULL)
        launch = pay_client_launch(cf,
                                   &(pay_launch_order){o.order_no, o.amount_fen, pay_launch_expiry(o.expires_at),
                                                       payer_openid},
                                   time(NULL), err, sizeof err);
    if (launch == NULL)
        app_log(1, "payments", "msg=\"no launch parameters\" channel=%s order_no=%s error=\"%s\"", o.channel,
                o.order_no, cf ? err : "unknown channel");
    json_object_set_new(j, "launch", launch ? launch : json_null());
    app_reply_json(r, 201, j);
    app_idem_refresh(r); /* a replay answers with the same launch parameters */
done:
    pay_order_clear(&o);
}

void payments_on_order_create(app_req *r)
{
    create_arg a = {{0}, 0, app_json_str(r, "channel"), 0};
    const char *openid = app_json_str(r, "payer_openid");
    json_t *v;
    size_t i;

    /* declared: 1..20 ids, a known channel, an openid's pattern */
    if (openid != NULL && strcmp(a.channel, "wechatpay") != 0) {
        app_fail(r, "bad_payer_openid", "payer_openid is for the wechatpay channel only.", "payer_openid");
        return;
    }
    if (!payments_channel_ready(a.channel)) {
        app_fail(r, "channel_unavailable", NULL, "channel");
        return;
    }
    json_array_foreach(json_object_get(r->json, "violation_ids"), i, v) {
        json_int_t id = json_is_integer(v) ? json_integer_value(v) : 0;
        bool seen = false;
        for (int k = 0; k < a.n; k++)
            seen = seen || a.ids[k] == id;
        if (id <= 0 || seen) {
            app_fail(r, "bad_violation_ids",
                     id <= 0 ? "Violation ids are positive integers." : "A violation id is repeated.",
                     "violation_ids");
            return;
        }
        a.ids[a.n++] = id;
    }
    /* the order is committed first: a channel call never runs inside a
     * transaction (WeChat's prepay is one) */
    if (app_tx(r, create_tx, &a) != 0)
        return;
    reply_launch(r, a.id, openid);
}

/* ---- GET /v1/payments/orders/{no} ------------------------------------- */

void payments_on_order_get(app_req *r)
{
    pay_order o;
    pay_why why;

    if (pay_order_find_visible(r->db, &r->who, app_param(r, 0), false, &o, &why) == 0)
        app_reply_json(r, 200, pay_order_json(r->db, &o));
    else if (why.code)
        (void)refused(r, &why);
    else
        app_problem_db(r);
    pay_order_clear(&o);
}

/* ---- POST /v1/payments/orders/{no}/returned ---------------------------- */

static int returned_tx(app_req *r, void *arg)
{
    pay_actor act = actor_of(r);
    pay_order o;
    pay_why why;
    int rc = -1;

    if (pay_order_returned(r->db, &act, app_param(r, 0), arg, &why) != 0)
        return refused(r, &why);
    if (pay_order_find_visible(r->db, &r->who, app_param(r, 0), false, &o, &why) == 0) {
        app_reply_json(r, 200, pay_order_json(r->db, &o));
        rc = 0;
    }
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

/* WeChat Pay's signature probes (Wechatpay-Signature "WECHATPAY/SIGNTEST/
 * ..."): answered as a failed signature, costing the address a token like
 * any unauthenticated request, but written nowhere and alerting no one.
 * Returns true when r was one (and is answered). */
static bool signature_test(app_req *r, const pay_channel *ch, const char *why)
{
    if (why == NULL || strcmp(why, "signature_test") != 0)
        return false;
    app_rate_charge(r);
    app_log(2, "payments", "request_id=%s channel=%s outcome=rejected reason=signature_test", r->request_id,
            ch->name);
    app_reply_bytes(r, ch->fail_status, ch->fail_type, ch->fail_body, strlen(ch->fail_body));
    return true;
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
    if (!a->verified && signature_test(r, a->ch, a->why))
        goto done;
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

/* ---- POST /v1/payments/notify/wechatpay/refund ------------------------- */

typedef struct refund_notify_arg {
    bool verified;
    pay_refund_notice n;
    const char *why;
    pay_raw raw;
    pay_apply_result res;
} refund_notify_arg;

static int refund_notify_tx(app_req *r, void *arg)
{
    refund_notify_arg *a = arg;
    pay_actor act = actor_of(r);
    const pay_channel *ch = &pay_channel_wechatpay;

    if (pay_apply_refund_notice(r->db, &act, a->verified, &a->n, a->why, &a->raw, &a->res) != 0)
        return -1;
    /* answered after it is recorded, as for payments */
    if (a->res.ack)
        app_reply_empty(r, 204);
    else
        app_reply_bytes(r, ch->fail_status, ch->fail_type, ch->fail_body, strlen(ch->fail_body));
    return 0;
}

void payments_on_refund_notify(app_req *r)
{
    refund_notify_arg *a = app_calloc(1, sizeof *a);
    pay_input in = {r->body ? r->body : "", r->body ? r->body_len : 0, req_header, r, time(NULL)};
    char *hdrs = NULL;

    a->verified = pay_wechat_refund_verify(payments_conf_channel("wechatpay"), &in, &a->n, &a->why) == 0;
    if (!a->verified && signature_test(r, &pay_channel_wechatpay, a->why))
        goto done;
    if (!a->n.authentic)
        app_rate_charge(r);
    hdrs = signature_headers(r, a->n.authentic ? 512 : 64);
    a->raw = (pay_raw){"refund_notify", in.body, in.body_len, hdrs};
    if (app_tx(r, refund_notify_tx, a) == 0)
        app_log(2, "payments", "request_id=%s channel=wechatpay event=%s outcome=%s reason=%s", r->request_id,
                a->n.event_type[0] ? a->n.event_type : "-", a->res.outcome, a->res.reason ? a->res.reason : "-");
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
    pay_actor act = actor_of(r);
    pay_why why;
    pay_refund f;
    int rc;

    if (pay_refund_request(r->db, &act, a->order_no, a->amount, a->reason, &a->id, &why) != 0)
        return refused(r, &why);
    rc = pay_sql_refund_get(r->db, a->id, false, &f, NULL);
    if (rc == 0)
        app_reply_json(r, 201, pay_refund_json(&f));
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
    pay_actor act = actor_of(r);
    pay_why why;

    if (pay_refund_approve(r->db, &act, *(int64_t *)arg, &why) != 0)
        return refused(r, &why);
    app_reply_empty(r, 204);
    return 0;
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
    int64_t id = app_path_int(r, 0);
    pay_actor act = actor_of(r);

    if (app_tx(r, refund_approve_tx, &id) != 0)
        return;
    /* Approved and committed: send it now (a failure leaves it approved for
     * the refunds job to retry). */
    (void)pay_refund_send(r->db, &act, id);
    if (reply_refund(r, id) == 0)
        app_idem_refresh(r); /* a replay answers this, not the approval's 204 */
}

void payments_on_refund_get(app_req *r)
{
    (void)reply_refund(r, app_path_int(r, 0));
}
