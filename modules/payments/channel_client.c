/* channel_client.c - see channel_client.h. */
#include "modules/payments/channel_client.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "modules/payments/channel_sign.h"
#include "modules/payments/money.h"
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_internal.h"
#include "server/app.h"
#include "server/crypto.h"

#define STR(o, k) (json_is_string(json_object_get((o), (k))) ? json_string_value(json_object_get((o), (k))) : "")

static void seterr(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* ---- Alipay ------------------------------------------------------------ */

int pay_alipay_response_span(const char *body, size_t len, const char *key, size_t *off, size_t *n,
                             char **sign)
{
    char pat[96];
    const char *p;
    json_t *v = NULL, *all = NULL;
    json_error_t e;
    int rc = -1;

    *sign = NULL;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    p = body ? memmem(body, len, pat, strlen(pat)) : NULL;
    if (p == NULL)
        return -1;
    p += strlen(pat);
    while (p < body + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= body + len || *p != ':')
        return -1;
    p++;
    while (p < body + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    /* jansson stops after one value and says how far it read */
    v = json_loadb(p, (size_t)(body + len - p), JSON_DISABLE_EOF_CHECK, &e);
    if (!json_is_object(v))
        goto fail;
    *off = (size_t)(p - body);
    *n = (size_t)e.position;
    all = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_string(json_object_get(all, "sign")))
        *sign = app_strdup(json_string_value(json_object_get(all, "sign")));
    rc = 0;
fail:
    json_decref(v);
    json_decref(all);
    return rc;
}

/* One Alipay open-API call. On 0, *out is the verified response object
 * (the caller decrefs it); the raw body is kept in *raw when raw != NULL. */
static int alipay_call(const pay_channel_conf *cf, const char *method, json_t *biz, json_t **out, char **raw,
                       size_t *rawlen, char *err, size_t cap)
{
    pay_http_opts o = payments_http_opts();
    pay_http_resp resp;
    char *form = NULL, key[96], *sign = NULL;
    unsigned char *sig = NULL;
    size_t off = 0, n = 0, siglen = 0;
    static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded;charset=utf-8", NULL};
    int rc = -1;

    memset(&resp, 0, sizeof resp);
    *out = NULL;
    if (cf->gateway_url == NULL || cf->app_id == NULL || cf->private_pem == NULL || cf->public_pem == NULL) {
        seterr(err, cap, "alipay gateway, app_id or keys not configured");
        goto fail;
    }
    form = pay_alipay_request_form(cf, method, biz, NULL, time(NULL));
    if (form == NULL) {
        seterr(err, cap, "cannot sign the request (merchant private key)");
        goto fail;
    }
    /* A query is safe to repeat; a refund is deduplicated by Alipay on
     * out_request_no but the refunds job retries it anyway. */
    if (pay_http_request(&o, &(pay_http_req){"POST", cf->gateway_url, hdrs, form, strlen(form),
                                             strcmp(method, "alipay.trade.refund") != 0},
                         &resp) != 0) {
        seterr(err, cap, "%s", resp.error);
        goto fail;
    }
    if (resp.status != 200) {
        seterr(err, cap, "http status %d", resp.status);
        goto fail;
    }
    snprintf(key, sizeof key, "%s_response", method);
    for (char *q = key; *q; q++)
        if (*q == '.')
            *q = '_';
    if (pay_alipay_response_span(resp.body, resp.body_len, key, &off, &n, &sign) != 0 &&
        pay_alipay_response_span(resp.body, resp.body_len, "error_response", &off, &n, &sign) != 0) {
        seterr(err, cap, "answer without %s", key);
        goto fail;
    }
    sig = sign ? crypto_b64_decode(sign, &siglen) : NULL;
    if (sig == NULL || crypto_rsa_sha256_verify(cf->public_pem, resp.body + off, n, sig, siglen) != 1) {
        seterr(err, cap, "answer signature does not verify with the Alipay public key");
        goto fail;
    }
    *out = json_loadb(resp.body + off, n, JSON_REJECT_DUPLICATES, NULL);
    if (*out == NULL) {
        seterr(err, cap, "malformed answer");
        goto fail;
    }
    if (raw) {
        *raw = resp.body;
        *rawlen = resp.body_len;
        resp.body = NULL;
    }
    rc = 0;
fail:
    free(form);
    free(sign);
    free(sig);
    pay_http_resp_free(&resp);
    return rc;
}

static int alipay_query(const pay_channel_conf *cf, const char *order_no, pay_query_result *r)
{
    json_t *biz = json_pack("{ss}", "out_trade_no", order_no), *a = NULL;
    pay_notice *n = &r->n;
    const char *why = NULL;
    int rc = -1;

    if (alipay_call(cf, "alipay.trade.query", biz, &a, &r->raw, &r->raw_len, r->error, sizeof r->error) != 0)
        goto fail;
    if (strcmp(STR(a, "code"), "40004") == 0 && strcmp(STR(a, "sub_code"), "ACQ.TRADE_NOT_EXIST") == 0) {
        r->found = false;
        rc = 0;
        goto fail;
    }
    if (strcmp(STR(a, "code"), "10000") != 0) {
        seterr(r->error, sizeof r->error, "alipay code %s %s", STR(a, "code"), STR(a, "sub_code"));
        goto fail;
    }
    r->found = true;
    n->authentic = true;
    n->amount_fen = -1;
    snprintf(n->currency, sizeof n->currency, "CNY");
    snprintf(n->order_no, sizeof n->order_no, "%s", STR(a, "out_trade_no"));
    snprintf(n->trade_no, sizeof n->trade_no, "%s", STR(a, "trade_no"));
    snprintf(n->status, sizeof n->status, "%s", STR(a, "trade_status"));
    if (money_parse_yuan(STR(a, "total_amount"), &n->amount_fen, &why) != 0)
        n->amount_fen = -1;
    else if (pay_notice_classify(n, pay_alipay_status_words, &why) == 0)
        r->verified = true;
    r->why = why;
    rc = 0;
fail:
    json_decref(a);
    json_decref(biz);
    return rc;
}

/* Alipay answers a repeated refund (same out_request_no) with
 * fund_change "N": ask what became of it. */
static void alipay_refund_query(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *ans)
{
    json_t *biz = json_pack("{ssss}", "out_trade_no", rq->order_no, "out_request_no", rq->out_refund_no), *a = NULL;

    snprintf(ans->code, sizeof ans->code, "channel_processing");
    if (alipay_call(cf, "alipay.trade.fastpay.refund.query", biz, &a, NULL, NULL, ans->error, sizeof ans->error) != 0)
        goto done;
    if (strcmp(STR(a, "code"), "10000") == 0 && strcmp(STR(a, "refund_status"), "REFUND_SUCCESS") == 0) {
        ans->outcome = PAY_REFUND_SUCCEEDED;
        snprintf(ans->refund_no, sizeof ans->refund_no, "%s", rq->out_refund_no);
    } else {
        seterr(ans->error, sizeof ans->error, "refund not confirmed yet (%s %s)", STR(a, "code"),
               STR(a, "refund_status"));
    }
done:
    json_decref(a);
    json_decref(biz);
}

static void alipay_refund(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *ans)
{
    char amount[MONEY_STR_SIZE];
    json_t *biz, *a = NULL;
    const char *code;

    money_format_yuan(rq->amount_fen, amount);
    biz = json_pack("{ssssssssss}", "out_trade_no", rq->order_no, "trade_no", rq->trade_no, "refund_amount", amount,
                    "out_request_no", rq->out_refund_no, "refund_reason", rq->reason ? rq->reason : "");
    if (alipay_call(cf, "alipay.trade.refund", biz, &a, NULL, NULL, ans->error, sizeof ans->error) != 0) {
        snprintf(ans->code, sizeof ans->code, "channel_unreachable");
        goto done;
    }
    code = STR(a, "code");
    if (strcmp(code, "10000") == 0) {
        if (strcmp(STR(a, "fund_change"), "Y") == 0) {
            ans->outcome = PAY_REFUND_SUCCEEDED;
            snprintf(ans->refund_no, sizeof ans->refund_no, "%s", rq->out_refund_no);
        } else {
            alipay_refund_query(cf, rq, ans);
        }
    } else if (strcmp(code, "40004") == 0 && strcmp(STR(a, "sub_code"), "ACQ.SYSTEM_ERROR") != 0) {
        ans->outcome = PAY_REFUND_FAILED; /* a business refusal: wrong amount, trade closed... */
        snprintf(ans->failure, sizeof ans->failure, "%s", STR(a, "sub_code"));
    } else {
        seterr(ans->error, sizeof ans->error, "alipay code %s %s", code, STR(a, "sub_code"));
        snprintf(ans->code, sizeof ans->code, "channel_code_%.20s", code);
    }
done:
    json_decref(a);
    json_decref(biz);
}

/* ---- zip (Alipay bills) -------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Alipay's bill zip holds the detail ("..._业务明细.csv") and a summary
 * ("..._业务明细(汇总).csv", GBK or UTF-8 names): take the first entry that
 * is not the summary. Stored and deflated entries only, CRC checked. */
char *pay_unzip_first(const unsigned char *zip, size_t len, size_t max, size_t *outlen)
{
    size_t eocd = 0, cd, p;
    unsigned entries;
    bool found = false;

    if (len < 22)
        return NULL;
    for (size_t i = len - 22 + 1; i-- > 0 && len - i <= 22 + 65535;)
        if (le32(zip + i) == 0x06054b50) {
            eocd = i;
            found = true;
            break;
        }
    if (!found)
        return NULL;
    entries = le16(zip + eocd + 10);
    cd = le32(zip + eocd + 16);
    p = cd;
    for (unsigned k = 0; k < entries; k++) {
        unsigned method, nlen, xlen, clen;
        uint32_t crc;
        size_t csize, usize, loff, data;
        const unsigned char *name;

        if (p + 46 > len || le32(zip + p) != 0x02014b50)
            return NULL;
        method = le16(zip + p + 10);
        crc = le32(zip + p + 16);
        csize = le32(zip + p + 20);
        usize = le32(zip + p + 24);
        nlen = le16(zip + p + 28);
        xlen = le16(zip + p + 30);
        clen = le16(zip + p + 32);
        loff = le32(zip + p + 42);
        name = zip + p + 46;
        if (p + 46 + nlen > len)
            return NULL;
        p += 46 + nlen + xlen + clen;
        if (memmem(name, nlen, "\xBB\xE3\xD7\xDC", 4) || memmem(name, nlen, "汇总", strlen("汇总")))
            continue;
        if (loff + 30 > len || le32(zip + loff) != 0x04034b50)
            return NULL;
        data = loff + 30 + le16(zip + loff + 26) + le16(zip + loff + 28);
        if (data > len || csize > len - data || usize > max)
            return NULL;
        char *out = app_malloc(usize + 1);
        if (method == 0 && csize == usize) {
            memcpy(out, zip + data, usize);
        } else if (method == 8) {
            z_stream z;
            memset(&z, 0, sizeof z);
            if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
                free(out);
                return NULL;
            }
            z.next_in = (unsigned char *)(zip + data);
            z.avail_in = (uInt)csize;
            z.next_out = (unsigned char *)out;
            z.avail_out = (uInt)usize;
            int zr = inflate(&z, Z_FINISH);
            inflateEnd(&z);
            if (zr != Z_STREAM_END || z.total_out != usize) {
                free(out);
                return NULL;
            }
        } else {
            free(out);
            return NULL;
        }
        if (crc32(0L, (const Bytef *)out, (uInt)usize) != crc) {
            free(out);
            return NULL;
        }
        out[usize] = '\0';
        *outlen = usize;
        return out;
    }
    return NULL;
}

static int alipay_statement(const pay_channel_conf *cf, const char *date, pay_stmt *s, char *err, size_t cap)
{
    json_t *biz = json_pack("{ssss}", "bill_type", "trade", "bill_date", date), *a = NULL;
    pay_http_opts o = payments_http_opts();
    pay_http_resp resp;
    char *csv = NULL;
    size_t csvlen = 0;
    int rc = -1;

    memset(&resp, 0, sizeof resp);
    if (alipay_call(cf, "alipay.data.dataservice.bill.downloadurl.query", biz, &a, NULL, NULL, err, cap) != 0)
        goto fail;
    if (strcmp(STR(a, "code"), "10000") != 0 || STR(a, "bill_download_url")[0] == '\0') {
        seterr(err, cap, "alipay code %s %s", STR(a, "code"), STR(a, "sub_code"));
        goto fail;
    }
    /* the link is signed by Alipay and short-lived; no credentials go with it */
    if (pay_http_request(&o, &(pay_http_req){"GET", STR(a, "bill_download_url"), NULL, NULL, 0, true}, &resp) != 0 ||
        resp.status != 200) {
        seterr(err, cap, "bill download: %s (status %d)", resp.error, resp.status);
        goto fail;
    }
    csv = pay_unzip_first((const unsigned char *)resp.body, resp.body_len, (size_t)o.max_body, &csvlen);
    if (csv == NULL) {
        seterr(err, cap, "bill download: not a zip holding the detail CSV");
        goto fail;
    }
    pay_stmt_parse_bill(csv, csvlen, PAY_BILL_ALIPAY, s);
    rc = 0;
fail:
    free(csv);
    json_decref(a);
    json_decref(biz);
    pay_http_resp_free(&resp);
    return rc;
}

/* ---- WeChat Pay API v3 --------------------------------------------------- */

/* Verifies an answer's Wechatpay-* signature; 0 or -1 with err. */
static int wechat_answer_verified(const pay_channel_conf *cf, const pay_http_resp *resp, char *err, size_t cap)
{
    const char *ts = pay_http_resp_header(resp, "Wechatpay-Timestamp");
    const char *nonce = pay_http_resp_header(resp, "Wechatpay-Nonce");
    const char *sigb64 = pay_http_resp_header(resp, "Wechatpay-Signature");
    const char *serial = pay_http_resp_header(resp, "Wechatpay-Serial");
    const char *pem;
    unsigned char *sig = NULL;
    size_t siglen = 0, mlen;
    char *msg = NULL;
    int rc = -1;

    if (!ts || !nonce || !sigb64 || !serial) {
        seterr(err, cap, "answer without Wechatpay-Signature headers (status %d)", resp->status);
        goto fail;
    }
    if ((pem = pay_wechat_platform_key(cf, serial)) == NULL) {
        seterr(err, cap, "answer signed with unknown platform serial %.64s", serial);
        goto fail;
    }
    if (!pay_ts_fresh(ts, time(NULL))) {
        seterr(err, cap, "answer timestamp not within 5 minutes");
        goto fail;
    }
    mlen = strlen(ts) + strlen(nonce) + resp->body_len + 4;
    msg = app_malloc(mlen);
    mlen = (size_t)snprintf(msg, mlen, "%s\n%s\n", ts, nonce);
    memcpy(msg + mlen, resp->body, resp->body_len);
    mlen += resp->body_len;
    msg[mlen++] = '\n';
    sig = crypto_b64_decode(sigb64, &siglen);
    if (sig == NULL || crypto_rsa_sha256_verify(pem, msg, mlen, sig, siglen) != 1) {
        seterr(err, cap, "answer signature does not verify with platform key %.64s", serial);
        goto fail;
    }
    rc = 0;
fail:
    free(msg);
    free(sig);
    return rc;
}

/* One API v3 call to base + path_query; the answer is verified unless
 * verify is false (bill downloads are not signed: their hash is). */
static int wechat_call(const pay_channel_conf *cf, const char *method, const char *path_query, const char *body,
                       bool idempotent, bool verify, pay_http_resp *resp, char *err, size_t cap)
{
    pay_http_opts o = payments_http_opts();
    char *auth = NULL, *url = NULL, *ah = NULL;
    const char *hdrs[4] = {NULL};
    int rc = -1;

    memset(resp, 0, sizeof *resp);
    if (cf->gateway_url == NULL || cf->app_id == NULL || cf->private_pem == NULL || cf->merchant_serial == NULL) {
        seterr(err, cap, "wechatpay base URL, mchid, merchant key or serial not configured");
        goto fail;
    }
    auth = pay_wechat_authorization(cf, method, path_query, body, NULL, NULL);
    if (auth == NULL) {
        seterr(err, cap, "cannot sign the request (merchant private key)");
        goto fail;
    }
    if (asprintf(&ah, "Authorization: %s", auth) < 0 || asprintf(&url, "%s%s", cf->gateway_url, path_query) < 0)
        abort();
    hdrs[0] = ah;
    hdrs[1] = "Accept: application/json";
    hdrs[2] = body ? "Content-Type: application/json" : NULL;
    if (pay_http_request(&o, &(pay_http_req){method, url, hdrs, body, body ? strlen(body) : 0, idempotent}, resp) != 0) {
        seterr(err, cap, "%s", resp->error);
        goto fail;
    }
    if (verify && wechat_answer_verified(cf, resp, err, cap) != 0)
        goto fail;
    rc = 0;
fail:
    free(auth);
    free(ah);
    free(url);
    return rc;
}

static int wechat_query(const pay_channel_conf *cf, const char *order_no, pay_query_result *r)
{
    pay_http_resp resp;
    char *pq = NULL;
    json_t *t = NULL, *amount;
    pay_notice *n = &r->n;
    const char *why = NULL;
    int rc = -1;

    /* order numbers are [A-Z0-9], mchid digits: nothing to escape */
    if (asprintf(&pq, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", order_no, cf->app_id ? cf->app_id : "") < 0)
        abort();
    if (wechat_call(cf, "GET", pq, NULL, true, true, &resp, r->error, sizeof r->error) != 0)
        goto fail;
    t = json_loadb(resp.body, resp.body_len, JSON_REJECT_DUPLICATES, NULL);
    if (resp.status == 404 && strcmp(STR(t, "code"), "ORDER_NOT_EXIST") == 0) {
        r->found = false;
        rc = 0;
        goto fail;
    }
    if (resp.status != 200 || !json_is_object(t)) {
        seterr(r->error, sizeof r->error, "wechatpay status %d %s", resp.status, STR(t, "code"));
        goto fail;
    }
    r->found = true;
    n->authentic = true;
    n->amount_fen = -1;
    amount = json_object_get(t, "amount");
    snprintf(n->order_no, sizeof n->order_no, "%s", STR(t, "out_trade_no"));
    snprintf(n->trade_no, sizeof n->trade_no, "%s", STR(t, "transaction_id"));
    snprintf(n->status, sizeof n->status, "%s", STR(t, "trade_state"));
    snprintf(n->currency, sizeof n->currency, "%s", json_is_string(json_object_get(amount, "currency"))
                                                        ? json_string_value(json_object_get(amount, "currency"))
                                                        : "CNY");
    if (json_is_integer(json_object_get(amount, "total")) && json_integer_value(json_object_get(amount, "total")) >= 0)
        n->amount_fen = json_integer_value(json_object_get(amount, "total"));
    if (strcmp(STR(t, "mchid"), cf->app_id) != 0)
        why = "wrong_app_id";
    else if (n->amount_fen < 0 && strcmp(n->status, "SUCCESS") == 0)
        why = "malformed_notification";
    else if (pay_notice_classify(n, pay_wechat_status_words, &why) == 0)
        r->verified = true;
    r->why = why;
    r->raw = resp.body;
    r->raw_len = resp.body_len;
    resp.body = NULL;
    rc = 0;
fail:
    json_decref(t);
    free(pq);
    pay_http_resp_free(&resp);
    return rc;
}

int pay_wechat_prepay(const pay_channel_conf *cf, const char *path, const char *body, char **prepay_id, char *err,
                      size_t cap)
{
    pay_http_resp resp;
    json_t *a = NULL;
    int rc = -1;

    *prepay_id = NULL;
    /* not retried: a lost answer is recovered by asking again, which
     * WeChat answers with the same prepay for the same out_trade_no */
    if (wechat_call(cf, "POST", path, body, false, true, &resp, err, cap) != 0)
        goto fail;
    a = json_loadb(resp.body, resp.body_len, 0, NULL);
    if (resp.status != 200 || STR(a, "prepay_id")[0] == '\0') {
        seterr(err, cap, "wechatpay prepay status %d %s", resp.status, STR(a, "code"));
        goto fail;
    }
    *prepay_id = app_strdup(STR(a, "prepay_id"));
    rc = 0;
fail:
    json_decref(a);
    pay_http_resp_free(&resp);
    return rc;
}

/* A refund's state as the refund call and the refund query both answer
 * it (a verified answer). */
static void wechat_refund_answer(const pay_http_resp *resp, pay_refund_answer *ans)
{
    json_t *a = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *st = STR(a, "status"), *code = STR(a, "code");

    if (resp->status == 200 && strcmp(st, "SUCCESS") == 0) {
        ans->outcome = PAY_REFUND_SUCCEEDED;
        snprintf(ans->refund_no, sizeof ans->refund_no, "%s", STR(a, "refund_id"));
    } else if (resp->status == 200 && (strcmp(st, "CLOSED") == 0 || strcmp(st, "ABNORMAL") == 0)) {
        ans->outcome = PAY_REFUND_FAILED;
        snprintf(ans->failure, sizeof ans->failure, "%s", st);
    } else if (resp->status >= 400 && resp->status < 500 && resp->status != 429 && strcmp(code, "SYSTEM_ERROR") != 0 &&
               strcmp(code, "FREQUENCY_LIMITED") != 0 && strcmp(code, "NOT_ENOUGH") != 0) {
        ans->outcome = PAY_REFUND_FAILED;
        snprintf(ans->failure, sizeof ans->failure, "%s", code[0] ? code : "channel_refused");
    } else {
        /* PROCESSING (kept: the refunds job then asks the refund query
         * API), or no final answer */
        seterr(ans->error, sizeof ans->error, "wechatpay status %d %s%s", resp->status, st, code);
        if (resp->status == 200)
            snprintf(ans->code, sizeof ans->code, "channel_processing");
        else
            snprintf(ans->code, sizeof ans->code, "channel_status_%d", resp->status);
    }
    json_decref(a);
}

static void wechat_refund(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *ans)
{
    pay_http_resp resp;
    json_t *req;
    char *body = NULL;

    /* transaction_id names the very trade refunded (an order paid twice
     * has two); out_trade_no only when we have no trade number */
    req = json_pack("{sssss{sIsIss}}", "out_refund_no", rq->out_refund_no, "reason",
                    rq->reason && rq->reason[0] ? rq->reason : "refund", "amount", "refund",
                    (json_int_t)rq->amount_fen, "total", (json_int_t)rq->total_fen, "currency", "CNY");
    if (rq->trade_no && rq->trade_no[0])
        json_object_set_new(req, "transaction_id", json_string(rq->trade_no));
    else
        json_object_set_new(req, "out_trade_no", json_string(rq->order_no));
    if (cf->refund_notify_url)
        json_object_set_new(req, "notify_url", json_string(cf->refund_notify_url));
    body = json_dumps(req, JSON_COMPACT);
    if (wechat_call(cf, "POST", "/v3/refund/domestic/refunds", body, false, true, &resp, ans->error,
                    sizeof ans->error) != 0) {
        snprintf(ans->code, sizeof ans->code, "channel_unreachable");
        goto done;
    }
    wechat_refund_answer(&resp, ans);
done:
    json_decref(req);
    free(body);
    pay_http_resp_free(&resp);
}

/* GET /v3/refund/domestic/refunds/{out_refund_no}: a PROCESSING refund's
 * state is read, not sent again. */
static void wechat_refund_query(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *ans)
{
    pay_http_resp resp;
    char *pq = NULL;

    /* out_refund_no is "RF" + hex: nothing to escape */
    if (asprintf(&pq, "/v3/refund/domestic/refunds/%s", rq->out_refund_no) < 0)
        abort();
    if (wechat_call(cf, "GET", pq, NULL, true, true, &resp, ans->error, sizeof ans->error) != 0) {
        snprintf(ans->code, sizeof ans->code, "channel_unreachable");
        goto done;
    }
    if (resp.status == 404) {
        /* WeChat has no such refund: the call never reached it; the next
         * attempt sends it (last_error no longer says processing) */
        seterr(ans->error, sizeof ans->error, "wechatpay has no refund %s", rq->out_refund_no);
        snprintf(ans->code, sizeof ans->code, "channel_status_404");
        goto done;
    }
    wechat_refund_answer(&resp, ans);
done:
    free(pq);
    pay_http_resp_free(&resp);
}

static int wechat_statement(const pay_channel_conf *cf, const char *date, pay_stmt *s, char *err, size_t cap)
{
    pay_http_resp resp, file;
    char *pq = NULL, hex[2 * EVP_MAX_MD_SIZE + 1];
    const char *dl;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    json_t *a = NULL;
    size_t blen;
    int rc = -1;

    memset(&file, 0, sizeof file);
    if (asprintf(&pq, "/v3/bill/tradebill?bill_date=%s&bill_type=ALL", date) < 0)
        abort();
    if (wechat_call(cf, "GET", pq, NULL, true, true, &resp, err, cap) != 0)
        goto fail;
    a = json_loadb(resp.body, resp.body_len, 0, NULL);
    dl = STR(a, "download_url");
    blen = strlen(cf->gateway_url);
    if (resp.status != 200 || strcmp(STR(a, "hash_type"), "SHA1") != 0) {
        seterr(err, cap, "wechatpay status %d %s", resp.status, STR(a, "code"));
        goto fail;
    }
    /* the download carries our Authorization: only to the API's own host */
    if (strncmp(dl, cf->gateway_url, blen) != 0 || dl[blen] != '/') {
        seterr(err, cap, "download_url not on %s", cf->gateway_url);
        goto fail;
    }
    if (wechat_call(cf, "GET", dl + blen, NULL, true, false, &file, err, cap) != 0)
        goto fail;
    if (file.status != 200) {
        seterr(err, cap, "bill download status %d", file.status);
        goto fail;
    }
    if (EVP_Digest(file.body, file.body_len, md, &mdlen, EVP_sha1(), NULL) != 1)
        goto fail;
    crypto_hex(md, mdlen, hex);
    if (strcasecmp(hex, STR(a, "hash_value")) != 0) {
        seterr(err, cap, "bill download does not match hash_value");
        goto fail;
    }
    pay_stmt_parse_bill(file.body, file.body_len, PAY_BILL_WECHAT, s);
    rc = 0;
fail:
    json_decref(a);
    free(pq);
    pay_http_resp_free(&resp);
    pay_http_resp_free(&file);
    return rc;
}

/* ---- HMAC channels ------------------------------------------------------ */

static int hmac_query(const pay_channel_conf *cf, const char *order_no, pay_query_result *r)
{
    const pay_channel *ch = pay_channel_find(cf->name);
    pay_http_opts o = payments_http_opts();
    pay_http_resp resp;
    char *url = NULL;
    int rc = -1;

    if (cf->query_url == NULL) {
        seterr(r->error, sizeof r->error, "no query_url");
        return -1;
    }
    if (asprintf(&url, "%s%sorder_no=%s", cf->query_url, strchr(cf->query_url, '?') ? "&" : "?", order_no) < 0)
        abort();
    if (pay_http_request(&o, &(pay_http_req){"GET", url, NULL, NULL, 0, true}, &resp) != 0) {
        seterr(r->error, sizeof r->error, "%s", resp.error);
        goto fail;
    }
    if (resp.status == 404) { /* the channel has no trade (yet) */
        r->found = false;
        rc = 0;
        goto fail;
    }
    if (resp.status != 200) {
        seterr(r->error, sizeof r->error, "http status %d", resp.status);
        goto fail;
    }
    pay_input in = {resp.body, resp.body_len, pay_http_resp_header, &resp, time(NULL)};
    r->found = true;
    r->verified = ch->verify(cf, &in, &r->n, &r->why) == 0;
    r->raw = resp.body;
    r->raw_len = resp.body_len;
    resp.body = NULL;
    rc = 0;
fail:
    free(url);
    pay_http_resp_free(&resp);
    return rc;
}

static void hmac_refund(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *ans)
{
    pay_http_opts o = payments_http_opts();
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    pay_http_resp resp;
    json_t *req = NULL, *a = NULL;
    char *body = NULL;

    memset(&resp, 0, sizeof resp);
    if (cf->refund_url == NULL) {
        seterr(ans->error, sizeof ans->error, "no refund_url");
        snprintf(ans->code, sizeof ans->code, "no_refund_url");
        return;
    }
    req = json_pack("{sssssssI}", "out_refund_no", rq->out_refund_no, "order_no", rq->order_no, "trade_no",
                    rq->trade_no, "amount_fen", (json_int_t)rq->amount_fen);
    body = json_dumps(req, JSON_COMPACT);
    if (pay_http_request(&o, &(pay_http_req){"POST", cf->refund_url, hdrs, body, strlen(body), false}, &resp) != 0) {
        seterr(ans->error, sizeof ans->error, "%s", resp.error);
        snprintf(ans->code, sizeof ans->code, "channel_unreachable");
        goto done;
    }
    a = json_loadb(resp.body, resp.body_len, 0, NULL);
    if (resp.status == 200 && strcmp(STR(a, "status"), "SUCCESS") == 0) {
        ans->outcome = PAY_REFUND_SUCCEEDED;
        snprintf(ans->refund_no, sizeof ans->refund_no, "%s", STR(a, "refund_no"));
    } else if (resp.status >= 400 && resp.status < 500) {
        ans->outcome = PAY_REFUND_FAILED;
        snprintf(ans->failure, sizeof ans->failure, "%s", STR(a, "reason")[0] ? STR(a, "reason") : "channel_refused");
    } else {
        seterr(ans->error, sizeof ans->error, "http status %d", resp.status);
        snprintf(ans->code, sizeof ans->code, "channel_status_%d", resp.status);
    }
done:
    json_decref(a);
    json_decref(req);
    free(body);
    pay_http_resp_free(&resp);
}

static int hmac_statement(const pay_channel_conf *cf, const char *date, pay_stmt *s, char *err, size_t cap)
{
    pay_http_opts o = payments_http_opts();
    pay_http_resp resp;
    char *url = NULL;
    int rc = -1;

    if (asprintf(&url, "%s%sdate=%s", cf->statement_url, strchr(cf->statement_url, '?') ? "&" : "?", date) < 0)
        abort();
    if (pay_http_request(&o, &(pay_http_req){"GET", url, NULL, NULL, 0, true}, &resp) != 0) {
        seterr(err, cap, "%s", resp.error);
        goto fail;
    }
    if (resp.status != 200) {
        seterr(err, cap, "http status %d", resp.status);
        goto fail;
    }
    pay_stmt_parse(resp.body, resp.body_len, false, s);
    rc = 0;
fail:
    free(url);
    pay_http_resp_free(&resp);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

int pay_client_query(const pay_channel_conf *cf, const char *order_no, pay_query_result *r)
{
    memset(r, 0, sizeof *r);
    if (strcmp(cf->name, "alipay") == 0)
        return alipay_query(cf, order_no, r);
    if (strcmp(cf->name, "wechatpay") == 0)
        return wechat_query(cf, order_no, r);
    return hmac_query(cf, order_no, r);
}

void pay_client_refund(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *a)
{
    memset(a, 0, sizeof *a);
    if (strcmp(cf->name, "alipay") == 0)
        alipay_refund(cf, rq, a);
    else if (strcmp(cf->name, "wechatpay") == 0)
        wechat_refund(cf, rq, a);
    else
        hmac_refund(cf, rq, a);
}

void pay_client_refund_query(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *a)
{
    memset(a, 0, sizeof *a);
    if (strcmp(cf->name, "wechatpay") == 0)
        wechat_refund_query(cf, rq, a);
    else
        pay_client_refund(cf, rq, a); /* the others answer a resend with the refund's state */
}

int pay_client_statement(const pay_channel_conf *cf, const char *date, pay_stmt *s, char *error, size_t cap)
{
    memset(s, 0, sizeof *s);
    error[0] = '\0';
    if (strcmp(cf->name, "alipay") == 0)
        return alipay_statement(cf, date, s, error, cap);
    if (strcmp(cf->name, "wechatpay") == 0)
        return wechat_statement(cf, date, s, error, cap);
    return hmac_statement(cf, date, s, error, cap);
}
