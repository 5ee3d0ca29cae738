/* channel_launch.c - what a citizen's app needs to open a channel's payment
 * sheet for an order (see channel_client.h, pay_client_launch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/payments/channel_client.h"
#include "modules/payments/channel_sign.h"
#include "modules/payments/money.h"
#include "server/app.h"
#include "server/crypto.h"

#define SUBJECT "交通违法罚款"

/* "YYYY-MM-DD HH:MM:SS[.mmm]" (UTC, as the database returns it) -> time_t. */
static time_t utc_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (s == NULL || sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec) != 6)
        return (time_t)-1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static json_t *alipay_launch(const pay_channel_conf *cf, const pay_launch_order *o, time_t now, char *err, size_t cap)
{
    char amount[MONEY_STR_SIZE], te[32];
    json_t *biz = NULL, *out = NULL;
    char *app = NULL, *page = NULL, *wap = NULL, *url = NULL;
    /* Alipay closes the trade when it expires: never later than our order */
    long minutes = (long)((o->expires - now) / 60);
    const char *extra[] = {"notify_url", cf->notify_url ? cf->notify_url : "", "return_url",
                           cf->return_url ? cf->return_url : "", NULL};

    if (cf->notify_url == NULL || cf->gateway_url == NULL) {
        snprintf(err, cap, "alipay notify_url or gateway not configured");
        return NULL;
    }
    snprintf(te, sizeof te, "%ldm", minutes < 1 ? 1 : minutes);
    money_format_yuan(o->amount_fen, amount); /* integer fen -> "123.45": no floating point */
    biz = json_pack("{ssssssssss}", "out_trade_no", o->order_no, "total_amount", amount, "subject", SUBJECT,
                    "product_code", "QUICK_MSECURITY_PAY", "timeout_express", te);
    /* app payment: notify_url only (return_url is for web pages) */
    app = pay_alipay_request_form(cf, "alipay.trade.app.pay", biz, (const char *const[]){"notify_url", cf->notify_url, NULL},
                                  now);
    json_object_set_new(biz, "product_code", json_string("FAST_INSTANT_TRADE_PAY"));
    page = pay_alipay_request_form(cf, "alipay.trade.page.pay", biz, extra, now);
    json_object_set_new(biz, "product_code", json_string("QUICK_WAP_WAY"));
    wap = pay_alipay_request_form(cf, "alipay.trade.wap.pay", biz, extra, now);
    if (app == NULL || page == NULL || wap == NULL) {
        snprintf(err, cap, "cannot sign with the Alipay app private key");
        goto done;
    }
    out = json_pack("{ss}", "order_string", app);
    if (asprintf(&url, "%s?%s", cf->gateway_url, page) < 0)
        abort();
    json_object_set_new(out, "page_url", json_string(url));
    free(url);
    if (asprintf(&url, "%s?%s", cf->gateway_url, wap) < 0)
        abort();
    json_object_set_new(out, "wap_url", json_string(url));
    free(url);
done:
    json_decref(biz);
    free(app);
    free(page);
    free(wap);
    return out;
}

/* A prepay, then what the payer's side takes:
 *   app    POST /v3/pay/transactions/app; the app SDK's PayReq, sign =
 *          SHA256withRSA over "appid\ntimestamp\nnoncestr\nprepayid\n";
 *   jsapi  (o->payer_openid set: WeChat's in-app browser) POST
 *          /v3/pay/transactions/jsapi with payer.openid; the JS bridge's
 *          chooseWXPay fields, in WeChat's own (camelCase) names, paySign =
 *          SHA256withRSA over "appId\ntimeStamp\nnonceStr\npackage\n". */
static json_t *wechat_launch(const pay_channel_conf *cf, const pay_launch_order *o, time_t now, char *err, size_t cap)
{
    bool jsapi = o->payer_openid != NULL && o->payer_openid[0] != '\0';
    char expire[32], ts[24], nonce[33], *body = NULL, *msg = NULL, *sign = NULL, *prepay = NULL, *pkg = NULL;
    json_t *req = NULL, *out = NULL;

    if (cf->appid == NULL || cf->notify_url == NULL) {
        snprintf(err, cap, "wechat appid or notify_url not configured");
        return NULL;
    }
    pay_beijing_time(o->expires, true, expire);
    req = json_pack("{sssssssssssss{sIss}}", "appid", cf->appid, "mchid", cf->app_id ? cf->app_id : "", "description",
                    SUBJECT, "out_trade_no", o->order_no, "time_expire", expire, "notify_url", cf->notify_url,
                    "amount", "total", (json_int_t)o->amount_fen, "currency", "CNY");
    if (req == NULL)
        abort(); /* a wrong format string: caught by the tests */
    if (jsapi)
        json_object_set_new(req, "payer", json_pack("{ss}", "openid", o->payer_openid));
    body = json_dumps(req, JSON_COMPACT);
    if (pay_wechat_prepay(cf, jsapi ? "/v3/pay/transactions/jsapi" : "/v3/pay/transactions/app", body, &prepay, err,
                          cap) != 0)
        goto done;
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    pay_nonce(nonce);
    if (jsapi) {
        if (asprintf(&pkg, "prepay_id=%s", prepay) < 0 ||
            asprintf(&msg, "%s\n%s\n%s\n%s\n", cf->appid, ts, nonce, pkg) < 0)
            abort();
    } else if (asprintf(&msg, "%s\n%s\n%s\n%s\n", cf->appid, ts, nonce, prepay) < 0) {
        abort();
    }
    if ((sign = pay_rsa_sign_b64(cf->private_pem, msg, strlen(msg))) == NULL) {
        snprintf(err, cap, "cannot sign with the merchant private key");
        goto done;
    }
    out = json_pack("{ss}", "prepay_id", prepay);
    if (jsapi)
        json_object_set_new(out, "jsapi", json_pack("{ssssssssssss}", "appId", cf->appid, "timeStamp", ts, "nonceStr",
                                                    nonce, "package", pkg, "signType", "RSA", "paySign", sign));
    else
        json_object_set_new(out, "app", json_pack("{ssssssssssssss}", "appid", cf->appid, "partnerid", cf->app_id,
                                                  "prepayid", prepay, "package", "Sign=WXPay", "noncestr", nonce,
                                                  "timestamp", ts, "sign", sign));
done:
    json_decref(req);
    free(body);
    free(msg);
    free(pkg);
    free(sign);
    free(prepay);
    return out;
}

/* The HMAC wallets open their sheet from signed order fields:
 * signature = hex HMAC-SHA256(secret, "order_no\namount_fen\nexpires\ntimestamp\nnonce"). */
static json_t *hmac_launch(const pay_channel_conf *cf, const pay_launch_order *o, time_t now, char *err, size_t cap)
{
    char ts[24], nonce[33], hex[65], *msg = NULL;
    unsigned char mac[32];

    if (cf->secret == NULL) {
        snprintf(err, cap, "secret not configured");
        return NULL;
    }
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    pay_nonce(nonce);
    if (asprintf(&msg, "%s\n%lld\n%lld\n%s\n%s", o->order_no, (long long)o->amount_fen, (long long)o->expires, ts,
                 nonce) < 0)
        abort();
    crypto_hmac_sha256(cf->secret, strlen(cf->secret), msg, strlen(msg), mac);
    crypto_hex(mac, sizeof mac, hex);
    free(msg);
    return json_pack("{sssIsIssssss}", "order_no", o->order_no, "amount_fen", (json_int_t)o->amount_fen, "expires",
                     (json_int_t)o->expires, "timestamp", ts, "nonce", nonce, "signature", hex);
}

json_t *pay_client_launch(const pay_channel_conf *cf, const pay_launch_order *o, time_t now, char *err, size_t cap)
{
    json_t *j;

    err[0] = '\0';
    if (strcmp(cf->name, "alipay") == 0)
        j = alipay_launch(cf, o, now, err, cap);
    else if (strcmp(cf->name, "wechatpay") == 0)
        j = wechat_launch(cf, o, now, err, cap);
    else
        j = hmac_launch(cf, o, now, err, cap);
    if (j)
        json_object_set_new(j, "channel", json_string(cf->name));
    return j;
}

time_t pay_launch_expiry(const char *expires_at)
{
    return utc_time(expires_at);
}
