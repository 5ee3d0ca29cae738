/* channel_alipay.c - Alipay asynchronous notifications (open platform,
 * RSA2). The signature is checked before any field is trusted; then the
 * app_id must be ours and total_amount a canonical yuan string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel.h"
#include "modules/payments/money.h"
#include "server/crypto.h"

static void copy_field(const char *body, size_t len, const char *key, char *dst, size_t cap)
{
    char *v = pay_form_get(body, len, key);
    snprintf(dst, cap, "%s", v ? v : "");
    free(v);
}

const pay_status_word pay_alipay_status_words[] = {
    {"TRADE_SUCCESS", PAY_ST_SUCCESS}, {"TRADE_FINISHED", PAY_ST_SUCCESS},
    {"TRADE_CLOSED", PAY_ST_CLOSED},   {"WAIT_BUYER_PAY", PAY_ST_PENDING},
    {NULL, 0},
};

static int alipay_verify(const pay_channel_conf *cf, const pay_input *in, pay_notice *n,
                         const char **why)
{
    char *content = NULL, *sign = NULL, *sign_type = NULL, *v = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    const char *reason = "bad_signature";
    int rc = -1;

    memset(n, 0, sizeof *n);
    n->amount_fen = -1;
    snprintf(n->currency, sizeof n->currency, "CNY");
    if (pay_alipay_sign_content(in->body, in->body_len, &content, &sign, &sign_type) != 0) {
        reason = "malformed_notification";
        goto fail;
    }
    /* Whatever we can read is kept for the record, trusted or not. */
    copy_field(in->body, in->body_len, "out_trade_no", n->order_no, sizeof n->order_no);
    copy_field(in->body, in->body_len, "trade_no", n->trade_no, sizeof n->trade_no);
    copy_field(in->body, in->body_len, "notify_id", n->notify_id, sizeof n->notify_id);
    copy_field(in->body, in->body_len, "trade_status", n->status, sizeof n->status);
    if (sign == NULL || sign[0] == '\0') {
        reason = "signature_missing";
        goto fail;
    }
    if (sign_type != NULL && strcmp(sign_type, "RSA2") != 0) {
        reason = "sign_type_not_allowed"; /* RSA1 (SHA1) is refused */
        goto fail;
    }
    if (cf == NULL || cf->public_pem == NULL) {
        reason = "channel_not_configured";
        goto fail;
    }
    sig = crypto_b64_decode(sign, &siglen);
    if (sig == NULL || crypto_rsa_sha256_verify(cf->public_pem, content, strlen(content), sig, siglen) != 1) {
        reason = "bad_signature";
        goto fail;
    }
    n->authentic = true;
    v = pay_form_get(in->body, in->body_len, "app_id");
    if (v == NULL || cf->app_id == NULL || strcmp(v, cf->app_id) != 0) {
        reason = "wrong_app_id";
        goto fail;
    }
    free(v);
    v = pay_form_get(in->body, in->body_len, "trans_currency");
    if (v != NULL && strcmp(v, "CNY") != 0) {
        snprintf(n->currency, sizeof n->currency, "%.7s", v);
        reason = "currency_mismatch";
        goto fail;
    }
    free(v);
    v = pay_form_get(in->body, in->body_len, "total_amount");
    if (money_parse_yuan(v, &n->amount_fen, &reason) != 0) {
        n->amount_fen = -1;
        goto fail;
    }
    if (pay_notice_classify(n, pay_alipay_status_words, &reason) != 0)
        goto fail;
    rc = 0;
fail:
    if (rc != 0 && why)
        *why = reason;
    free(v);
    free(sig);
    free(content);
    free(sign);
    free(sign_type);
    return rc;
}

const pay_channel pay_channel_alipay = {
    .name = "alipay",
    .verify = alipay_verify,
    .ok_status = 200, .ok_type = "text/plain", .ok_body = "success",
    .fail_status = 400, .fail_type = "text/plain", .fail_body = "fail",
    .statement_yuan = true,
};
