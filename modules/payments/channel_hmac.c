/* channel_hmac.c - the bureau's own channels (police app wallet, government
 * portal): a JSON notification signed with HMAC-SHA256 and a per-channel
 * shared secret. See channel.h for the wire format. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel.h"
#include "server/app.h"
#include "server/crypto.h"

static const pay_status_word HMAC_STATUS[] = {
    {"SUCCESS", PAY_ST_SUCCESS}, {"CLOSED", PAY_ST_CLOSED}, {"FAILED", PAY_ST_CLOSED},
    {"PENDING", PAY_ST_PENDING}, {NULL, 0},
};

static int hmac_verify(const pay_channel_conf *cf, const pay_input *in, pay_notice *n,
                       const char **why)
{
    const char *ts = in->header ? in->header(in->hctx, "X-Pay-Timestamp") : NULL;
    const char *sig = in->header ? in->header(in->hctx, "X-Pay-Signature") : NULL;
    const char *reason = "bad_signature";
    unsigned char mac[32], given[32];
    char *msg = NULL;
    size_t mlen;
    json_t *o = NULL, *amt;
    int rc = -1;

    memset(n, 0, sizeof *n);
    n->amount_fen = -1;
    if (ts == NULL || sig == NULL) {
        reason = "signature_missing";
        goto fail;
    }
    if (cf == NULL || cf->secret == NULL || cf->secret[0] == '\0') {
        reason = "channel_not_configured";
        goto fail;
    }
    if (!pay_ts_fresh(ts, in->now)) {
        reason = "stale_timestamp";
        goto fail;
    }
    mlen = strlen(ts) + 1 + in->body_len;
    msg = app_malloc(mlen + 1);
    memcpy(msg, ts, strlen(ts));
    msg[strlen(ts)] = '\n';
    if (in->body_len > 0) /* body may be NULL when empty: memcpy(NULL) is undefined */
        memcpy(msg + strlen(ts) + 1, in->body, in->body_len);
    crypto_hmac_sha256(cf->secret, strlen(cf->secret), msg, mlen, mac);
    if (strlen(sig) != 64 || crypto_unhex(sig, given, sizeof given) != 32 ||
        !crypto_equal(mac, 32, given, 32)) {
        reason = "bad_signature";
        goto fail;
    }
    n->authentic = true;
    o = json_loadb(in->body, in->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        reason = "malformed_notification";
        goto fail;
    }
#define STR_OF(key) (json_is_string(json_object_get(o, key)) ? json_string_value(json_object_get(o, key)) : "")
    snprintf(n->order_no, sizeof n->order_no, "%s", STR_OF("order_no"));
    snprintf(n->trade_no, sizeof n->trade_no, "%s", STR_OF("trade_no"));
    snprintf(n->notify_id, sizeof n->notify_id, "%s", STR_OF("notify_id"));
    snprintf(n->status, sizeof n->status, "%s", STR_OF("status"));
    snprintf(n->currency, sizeof n->currency, "%.7s", STR_OF("currency"));
#undef STR_OF
    amt = json_object_get(o, "amount_fen");
    if (!json_is_integer(amt) || json_integer_value(amt) < 0) {
        reason = "bad_amount";
        goto fail;
    }
    n->amount_fen = (int64_t)json_integer_value(amt);
    if (pay_notice_classify(n, HMAC_STATUS, &reason) != 0)
        goto fail;
    rc = 0;
fail:
    if (rc != 0 && why)
        *why = reason;
    json_decref(o);
    free(msg);
    return rc;
}

#define HMAC_CHANNEL(sym, nm)                                                              \
    const pay_channel sym = {                                                              \
        .name = nm,                                                                        \
        .verify = hmac_verify,                                                             \
        .ok_status = 200, .ok_type = "application/json", .ok_body = "{\"result\":\"success\"}", \
        .fail_status = 400, .fail_type = "application/json", .fail_body = "{\"result\":\"fail\"}", \
        .statement_yuan = false,                                                           \
    }

HMAC_CHANNEL(pay_channel_policeapp, "policeapp");
HMAC_CHANNEL(pay_channel_govportal, "govportal");
