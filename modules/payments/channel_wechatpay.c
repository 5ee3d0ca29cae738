/* channel_wechatpay.c - WeChat Pay API v3 payment callbacks.
 *
 * Order of checks: serial names our platform certificate, timestamp is
 * fresh, the signature over "timestamp\nnonce\nbody\n" verifies; only then
 * is the body parsed and its resource decrypted (AES-256-GCM with the API
 * v3 key, so the amounts inside are authenticated a second time). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel.h"
#include "server/app.h"
#include "server/crypto.h"

const pay_status_word pay_wechat_status_words[] = {
    {"SUCCESS", PAY_ST_SUCCESS}, {"CLOSED", PAY_ST_CLOSED},   {"PAYERROR", PAY_ST_CLOSED},
    {"REVOKED", PAY_ST_CLOSED},  {"NOTPAY", PAY_ST_PENDING},  {"USERPAYING", PAY_ST_PENDING},
    {NULL, 0},
};

static const char *hdr(const pay_input *in, const char *name)
{
    return in->header ? in->header(in->hctx, name) : NULL;
}

const char *pay_wechat_platform_key(const pay_channel_conf *cf, const char *serial)
{
    if (cf == NULL || serial == NULL)
        return NULL;
    if (cf->serial && cf->public_pem && strcmp(cf->serial, serial) == 0)
        return cf->public_pem;
    for (int i = 0; i < cf->nplatform; i++)
        if (strcmp(cf->platform_serial[i], serial) == 0)
            return cf->platform_pem[i];
    return NULL;
}

bool pay_wechat_signtest(const char *signature)
{
    return signature != NULL && strncmp(signature, PAY_WECHAT_SIGNTEST, strlen(PAY_WECHAT_SIGNTEST)) == 0;
}

/* What every callback shares: the headers, the platform key by serial, a
 * fresh timestamp, the signature over "ts\nnonce\nbody\n" (then
 * *authentic), the body's JSON and its resource decrypted with the API v3
 * key, GCM tag checked. 0 with *outer and *inner owned by the caller, or
 * -1 with *reason (and *notify_id when the body had an id). */
static int wechat_open(const pay_channel_conf *cf, const pay_input *in, bool *authentic, char *notify_id,
                       size_t idcap, json_t **outer_out, json_t **inner_out, const char **reason)
{
    const char *ts = hdr(in, "Wechatpay-Timestamp"), *nonce = hdr(in, "Wechatpay-Nonce");
    const char *sigb64 = hdr(in, "Wechatpay-Signature"), *serial = hdr(in, "Wechatpay-Serial");
    const char *s, *pem;
    char *msg = NULL;
    unsigned char *sig = NULL, *pt = NULL;
    size_t siglen = 0, ptlen = 0, mlen;
    json_t *outer = NULL, *res, *inner = NULL;
    int rc = -1;

    *authentic = false;
    *outer_out = *inner_out = NULL;
    *reason = "bad_signature";
    if (ts == NULL || nonce == NULL || sigb64 == NULL || serial == NULL) {
        *reason = "signature_missing";
        goto fail;
    }
    /* WeChat's signature probes carry a deliberately wrong signature: a
     * failed signature, answered as such, but nothing to alert about */
    if (pay_wechat_signtest(sigb64)) {
        *reason = "signature_test";
        goto fail;
    }
    if (cf == NULL || (cf->public_pem == NULL && cf->nplatform == 0) || !cf->key_set) {
        *reason = "channel_not_configured";
        goto fail;
    }
    if ((pem = pay_wechat_platform_key(cf, serial)) == NULL) {
        *reason = "unknown_serial";
        goto fail;
    }
    if (!pay_ts_fresh(ts, in->now)) {
        *reason = "stale_timestamp";
        goto fail;
    }
    mlen = strlen(ts) + strlen(nonce) + in->body_len + 4;
    msg = app_malloc(mlen);
    mlen = (size_t)snprintf(msg, mlen, "%s\n%s\n", ts, nonce);
    if (in->body_len > 0) /* body may be NULL when empty: memcpy(NULL) is undefined */
        memcpy(msg + mlen, in->body, in->body_len);
    mlen += in->body_len;
    msg[mlen++] = '\n';
    sig = crypto_b64_decode(sigb64, &siglen);
    if (sig == NULL || crypto_rsa_sha256_verify(pem, msg, mlen, sig, siglen) != 1) {
        *reason = "bad_signature";
        goto fail;
    }
    *authentic = true;
    outer = json_loadb(in->body, in->body_len, JSON_REJECT_DUPLICATES, NULL);
    res = outer ? json_object_get(outer, "resource") : NULL;
    if (!json_is_object(res) || !json_is_string(json_object_get(res, "ciphertext")) ||
        !json_is_string(json_object_get(res, "nonce"))) {
        *reason = "malformed_notification";
        goto fail;
    }
    if (json_is_string(json_object_get(outer, "id")))
        snprintf(notify_id, idcap, "%s", json_string_value(json_object_get(outer, "id")));
    s = json_string_value(json_object_get(res, "algorithm"));
    if (s == NULL || strcmp(s, "AEAD_AES_256_GCM") != 0) {
        *reason = "unsupported_algorithm";
        goto fail;
    }
    {
        const char *ct64 = json_string_value(json_object_get(res, "ciphertext"));
        const char *rn = json_string_value(json_object_get(res, "nonce"));
        const char *aad = json_is_string(json_object_get(res, "associated_data"))
                              ? json_string_value(json_object_get(res, "associated_data")) : "";
        size_t ctlen = 0;
        unsigned char *ct = crypto_b64_decode(ct64, &ctlen);
        int d = ct ? crypto_aes256gcm_decrypt(cf->key, rn, strlen(rn), aad, strlen(aad), ct, ctlen,
                                              &pt, &ptlen)
                   : -1;
        free(ct);
        if (d != 0) {
            *reason = "decrypt_failed";
            goto fail;
        }
    }
    inner = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(inner)) {
        *reason = "malformed_notification";
        goto fail;
    }
    *outer_out = outer;
    *inner_out = inner;
    outer = inner = NULL;
    rc = 0;
fail:
    json_decref(inner);
    json_decref(outer);
    free(pt);
    free(sig);
    free(msg);
    return rc;
}

#define STR_OF(obj, key) (json_is_string(json_object_get(obj, key)) ? json_string_value(json_object_get(obj, key)) : "")

static int wechat_verify(const pay_channel_conf *cf, const pay_input *in, pay_notice *n,
                         const char **why)
{
    const char *reason = "bad_signature";
    json_t *outer = NULL, *inner = NULL, *amount;
    int rc = -1;

    memset(n, 0, sizeof *n);
    n->amount_fen = -1;
    if (wechat_open(cf, in, &n->authentic, n->notify_id, sizeof n->notify_id, &outer, &inner, &reason) != 0)
        goto fail;
    snprintf(n->order_no, sizeof n->order_no, "%s", STR_OF(inner, "out_trade_no"));
    snprintf(n->trade_no, sizeof n->trade_no, "%s", STR_OF(inner, "transaction_id"));
    snprintf(n->status, sizeof n->status, "%s", STR_OF(inner, "trade_state"));
    if (cf->app_id != NULL && cf->app_id[0] != '\0' && strcmp(STR_OF(inner, "mchid"), cf->app_id) != 0) {
        reason = "wrong_app_id";
        goto fail;
    }
    amount = json_object_get(inner, "amount");
    if (!json_is_object(amount) || !json_is_integer(json_object_get(amount, "total")) ||
        json_integer_value(json_object_get(amount, "total")) < 0) {
        reason = "bad_amount";
        goto fail;
    }
    n->amount_fen = (int64_t)json_integer_value(json_object_get(amount, "total"));
    snprintf(n->currency, sizeof n->currency, "%.7s", STR_OF(amount, "currency"));
    if (pay_notice_classify(n, pay_wechat_status_words, &reason) != 0)
        goto fail;
    rc = 0;
fail:
    if (rc != 0 && why)
        *why = reason;
    json_decref(inner);
    json_decref(outer);
    return rc;
}

/* Refund callbacks: event_type names the outcome and must agree with the
 * decrypted refund_status. */
static const struct {
    const char *event, *status;
} REFUND_EVENTS[] = {
    {"REFUND.SUCCESS", "SUCCESS"}, {"REFUND.ABNORMAL", "ABNORMAL"}, {"REFUND.CLOSED", "CLOSED"},
};

int pay_wechat_refund_verify(const pay_channel_conf *cf, const pay_input *in, pay_refund_notice *n,
                             const char **why)
{
    const char *reason = "bad_signature", *ev;
    json_t *outer = NULL, *inner = NULL, *amount;
    bool known = false;
    int rc = -1;

    memset(n, 0, sizeof *n);
    n->amount_fen = n->total_fen = -1;
    if (wechat_open(cf, in, &n->authentic, n->notify_id, sizeof n->notify_id, &outer, &inner, &reason) != 0)
        goto fail;
    ev = STR_OF(outer, "event_type");
    snprintf(n->event_type, sizeof n->event_type, "%s", ev);
    snprintf(n->out_refund_no, sizeof n->out_refund_no, "%s", STR_OF(inner, "out_refund_no"));
    snprintf(n->refund_id, sizeof n->refund_id, "%s", STR_OF(inner, "refund_id"));
    snprintf(n->order_no, sizeof n->order_no, "%s", STR_OF(inner, "out_trade_no"));
    snprintf(n->trade_no, sizeof n->trade_no, "%s", STR_OF(inner, "transaction_id"));
    snprintf(n->status, sizeof n->status, "%s", STR_OF(inner, "refund_status"));
    if (cf->app_id != NULL && cf->app_id[0] != '\0' && strcmp(STR_OF(inner, "mchid"), cf->app_id) != 0) {
        reason = "wrong_app_id";
        goto fail;
    }
    amount = json_object_get(inner, "amount");
    if (json_is_integer(json_object_get(amount, "refund")) && json_integer_value(json_object_get(amount, "refund")) > 0)
        n->amount_fen = (int64_t)json_integer_value(json_object_get(amount, "refund"));
    if (json_is_integer(json_object_get(amount, "total")) && json_integer_value(json_object_get(amount, "total")) > 0)
        n->total_fen = (int64_t)json_integer_value(json_object_get(amount, "total"));
    if (n->amount_fen < 0) {
        reason = "bad_amount";
        goto fail;
    }
    if (n->out_refund_no[0] == '\0' || n->refund_id[0] == '\0') {
        reason = "missing_field";
        goto fail;
    }
    for (size_t i = 0; i < sizeof REFUND_EVENTS / sizeof REFUND_EVENTS[0]; i++)
        if (strcmp(ev, REFUND_EVENTS[i].event) == 0) {
            known = true;
            if (strcmp(n->status, REFUND_EVENTS[i].status) != 0) {
                reason = "event_status_mismatch";
                goto fail;
            }
        }
    if (!known) {
        reason = "unknown_event_type";
        goto fail;
    }
    rc = 0;
fail:
    if (rc != 0 && why)
        *why = reason;
    json_decref(inner);
    json_decref(outer);
    return rc;
}
#undef STR_OF

const pay_channel pay_channel_wechatpay = {
    .name = "wechatpay",
    .verify = wechat_verify,
    .ok_status = 200, .ok_type = "application/json", .ok_body = "{\"code\":\"SUCCESS\"}",
    .fail_status = 400, .fail_type = "application/json",
    .fail_body = "{\"code\":\"FAIL\",\"message\":\"rejected\"}",
    .statement_yuan = false,
};
