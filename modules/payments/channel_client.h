/* channel_client.h - what onetripd asks the channels, in each gateway's own
 * protocol, over pay_http (verified HTTPS):
 *
 *   alipay     POST {gateway} form: app_id, method, format=JSON,
 *              charset=utf-8, sign_type=RSA2, timestamp (+08:00),
 *              version=1.0, biz_content (JSON), sign = SHA256withRSA with
 *              the merchant key over the sorted "k=v&..." of the rest.
 *              Answers {"<method>_response": {...}, "sign": "..."}; the
 *              signature covers the exact text of the response object and
 *              is verified with Alipay's public key before anything in it
 *              is used. Methods: alipay.trade.query, alipay.trade.refund,
 *              alipay.data.dataservice.bill.downloadurl.query (then the
 *              bill, a zip holding the detail CSV).
 *   wechatpay  API v3: Authorization: WECHATPAY2-SHA256-RSA2048 mchid,
 *              nonce_str, timestamp, serial_no, signature = SHA256withRSA
 *              (merchant key) over "METHOD\nPATH?QUERY\nts\nnonce\nbody\n";
 *              answers verified with the platform key named by
 *              Wechatpay-Serial over "ts\nnonce\nbody\n" (timestamp within
 *              5 minutes). GET /v3/pay/transactions/out-trade-no/{no}?mchid=,
 *              POST /v3/refund/domestic/refunds, GET /v3/bill/tradebill and
 *              its download_url (body checked against hash_value, SHA1).
 *   policeapp, govportal
 *              their own documented API: GET {query_url}?order_no= answered
 *              in the notification format (same HMAC), POST {refund_url}
 *              JSON, GET {statement_url}?date= CSV in fen.
 *
 * Every call blocks (worker threads, jobs, commands only) and needs no
 * database. */
#ifndef ONETRIP_PAYMENTS_CHANNEL_CLIENT_H
#define ONETRIP_PAYMENTS_CHANNEL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "modules/payments/channel.h"
#include "modules/payments/pay_http.h"
#include "modules/payments/statement.h"

/* A trade query's answer. */
typedef struct pay_query_result {
    bool found;        /* the channel has a trade for the order */
    bool verified;     /* n is authentic and well-formed (else why) */
    const char *why;   /* static reason when !verified */
    pay_notice n;
    char *raw;         /* the answer's body, malloc'd (for the record) */
    size_t raw_len;
    char error[256];   /* why there was no usable answer (-1) */
} pay_query_result;

/* Asks cf's channel about order_no. 0 = answered (r->found says whether a
 * trade exists), -1 = no usable answer (r->error). Free r->raw. */
int pay_client_query(const pay_channel_conf *cf, const char *order_no, pay_query_result *r);

typedef struct pay_refund_call {
    const char *out_refund_no, *order_no, *trade_no, *reason;
    int64_t amount_fen;        /* this refund */
    int64_t total_fen;         /* the trade it refunds (WeChat wants both) */
} pay_refund_call;

typedef enum pay_refund_outcome {
    PAY_REFUND_RETRY = 0,   /* no final answer (network, 5xx, processing): ask again later */
    PAY_REFUND_SUCCEEDED,
    PAY_REFUND_FAILED,      /* the channel refused it for good */
} pay_refund_outcome;

typedef struct pay_refund_answer {
    pay_refund_outcome outcome;
    char refund_no[65];     /* the channel's refund number (Alipay: our out_request_no) */
    char failure[65];       /* the channel's reason code when FAILED */
    char error[256];        /* when RETRY: why, in words (logged) */
    char code[40];          /* when RETRY: a stable code kept with the refund:
                               channel_unreachable (no answer), channel_status_NNN
                               (HTTP status without a usable answer),
                               channel_code_XXX (the channel's own code, e.g.
                               Alipay 20000), channel_processing */
} pay_refund_answer;

/* Sends one refund; the channel deduplicates on out_refund_no, so sending
 * it again after a lost answer cannot refund twice. Always fills a. */
void pay_client_refund(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *a);

/* Reads the state of a refund a channel answered "processing" (last_error
 * channel_processing): WeChat Pay GET /v3/refund/domestic/refunds/
 * {out_refund_no} (404: unknown there, code channel_status_404, so the next
 * attempt sends it); the other channels answer a resend with the refund's
 * state, so they are sent again. Always fills a. */
void pay_client_refund_query(const pay_channel_conf *cf, const pay_refund_call *rq, pay_refund_answer *a);

/* Downloads and parses a bureau day's (YYYY-MM-DD) statement into s.
 * 0, or -1 with error (cap bytes) set. */
int pay_client_statement(const pay_channel_conf *cf, const char *date, pay_stmt *s, char *error,
                         size_t cap);

/* Launch parameters of an order (channel_launch.c):
 *   alipay     {channel, order_string (alipay.trade.app.pay, RSA2, notify_url,
 *              total_amount from fen, timeout_express = whole minutes left
 *              before the order expires), page_url (alipay.trade.page.pay),
 *              wap_url (alipay.trade.wap.pay)}
 *   wechatpay  a prepay through POST /v3/pay/transactions/app (time_expire =
 *              the order's expiry), then {channel, prepay_id, app: {appid,
 *              partnerid, prepayid, package: "Sign=WXPay", noncestr,
 *              timestamp, sign}}; with payer_openid, through
 *              POST /v3/pay/transactions/jsapi (payer.openid), then
 *              {channel, prepay_id, jsapi: {appId, timeStamp, nonceStr,
 *              package: "prepay_id=...", signType: "RSA", paySign}};
 *              blocks on the channel
 *   policeapp, govportal
 *              {channel, order_no, amount_fen, expires, timestamp, nonce,
 *              signature = hex HMAC-SHA256(secret, "order_no\namount_fen\n
 *              expires\ntimestamp\nnonce")}
 * NULL with err set when the channel is not configured for it or refused. */
typedef struct pay_launch_order {
    const char *order_no;
    int64_t amount_fen;
    time_t expires;
    const char *payer_openid; /* wechatpay: set = a JSAPI prepay (in-app browser); else NULL */
} pay_launch_order;
json_t *pay_client_launch(const pay_channel_conf *cf, const pay_launch_order *o, time_t now, char *err,
                          size_t cap);
/* An order's expires_at as the database returns it -> time_t (-1 when bad). */
time_t pay_launch_expiry(const char *expires_at);
/* WeChat Pay prepay call (app or jsapi path): *prepay_id malloc'd. */
int pay_wechat_prepay(const pay_channel_conf *cf, const char *path, const char *body, char **prepay_id, char *err,
                      size_t cap);

/* Helpers exposed for tests. */

/* Alipay: the exact text of the "<key>" member's value in a response body
 * (start offset and length) and the "sign" member; 0 or -1. *sign malloc'd. */
int pay_alipay_response_span(const char *body, size_t len, const char *key, size_t *off,
                             size_t *n, char **sign);
/* WeChat Pay Authorization header value for a request; malloc'd or NULL
 * (bad key). ts/nonce NULL: now and a fresh one. */
char *pay_wechat_authorization(const pay_channel_conf *cf, const char *method, const char *path_query,
                               const char *body, const char *ts, const char *nonce);
/* The first bytes of the first file of a zip archive, inflated: malloc'd
 * (NUL-terminated) or NULL when not a zip this reader knows. */
char *pay_unzip_first(const unsigned char *zip, size_t len, size_t max, size_t *outlen);

#endif
