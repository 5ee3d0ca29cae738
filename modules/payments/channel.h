/* channel.h - payment channels behind one interface.
 *
 * A channel adapter turns what a channel sends us (an asynchronous
 * notification, or its answer to a trade query, which uses the same signed
 * format) into a pay_notice, after checking its signature with the keys of
 * pay_channel_conf, and tells the HTTP layer what to answer so the channel
 * stops (success) or keeps (failure) resending.
 *
 *   alipay     form-encoded notification, RSA2 (SHA256withRSA) over the
 *              parameters except sign/sign_type, URL-decoded, sorted by key,
 *              joined "k=v&..."; total_amount is a yuan string; reply body
 *              exactly "success".
 *   wechatpay  API v3 JSON callback: Wechatpay-Serial names the platform
 *              certificate, RSA-SHA256 over "timestamp\nnonce\nbody\n",
 *              timestamp within 5 minutes, resource decrypted with
 *              AEAD_AES_256_GCM (API v3 key); amounts integer fen; reply
 *              {"code":"SUCCESS"} (200) or {"code":"FAIL",...} (4xx/5xx).
 *   policeapp, govportal
 *              JSON body {notify_id, order_no, trade_no, amount_fen,
 *              currency, status}; header X-Pay-Timestamp (unix seconds,
 *              within 5 minutes) and X-Pay-Signature = lower-case hex
 *              HMAC-SHA256(channel secret, timestamp + "\n" + body).
 *              Reply {"result":"success"} (200) or {"result":"fail"} (400).
 *
 * Verifiers are pure (no I/O, no globals, thread-safe); `now` comes in the
 * input so tests can pin it. The network side (trade query, refund,
 * statement, prepay) lives in channel_client.c.
 */
#ifndef ONETRIP_PAYMENTS_CHANNEL_H
#define ONETRIP_PAYMENTS_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PAY_MAX_PLATFORM_KEYS 4 /* WeChat platform keys accepted at once */
#define PAY_TS_WINDOW_S 300 /* notification timestamps more than 5 min off are refused */

/* Keys and endpoints of one channel (owned by the module; see
 * payments_conf.c). Unused members stay NULL/0. */
typedef struct pay_channel_conf {
    const char *name;
    char *app_id;          /* alipay app_id / wechat mchid expected in notices */
    char *public_pem;      /* alipay public key / wechat platform certificate (PEM) */
    char *serial;          /* wechat platform certificate serial */
    unsigned char key[32]; /* wechat API v3 key */
    bool key_set;
    char *secret;          /* HMAC channels */
    char *query_url;       /* HMAC channels: trade query, refund, statement */
    char *refund_url;
    char *statement_url;
    char *gateway_url;     /* alipay gateway.do / wechat API base URL */
    char *private_pem;     /* our merchant key: Alipay app key / WeChat merchant API key */
    char *merchant_serial; /* wechat: serial of our merchant API certificate */
    char *appid;           /* wechat: appid of the app / official account */
    char *notify_url;      /* where the channel notifies payments */
    char *refund_notify_url; /* wechat: where it notifies refunds */
    char *return_url;      /* alipay web payment: where the payer comes back */
    /* more wechat platform keys by serial, beside public_pem/serial: every
     * key listed verifies, so a rotation does not stop payments */
    int nplatform;
    char *platform_serial[PAY_MAX_PLATFORM_KEYS];
    char *platform_pem[PAY_MAX_PLATFORM_KEYS];
} pay_channel_conf;

/* The platform key (PEM) of serial, or NULL when unknown. */
const char *pay_wechat_platform_key(const pay_channel_conf *cf, const char *serial);

/* What arrived: body plus a header lookup (case-insensitive, NULL when
 * absent). */
typedef struct pay_input {
    const char *body;
    size_t body_len;
    const char *(*header)(const void *ctx, const char *name);
    const void *hctx;
    time_t now;
} pay_input;

typedef enum pay_status {
    PAY_ST_SUCCESS = 1, /* money received: apply */
    PAY_ST_PENDING,     /* created / waiting for the payer: nothing to do */
    PAY_ST_CLOSED       /* closed or failed at the channel: order failed */
} pay_status;

/* A verified notice. Strings are NUL-terminated; fields the message lacked
 * are "". On a rejection the verifier still fills what it could parse
 * (order_no, notify_id...) so the rejection can be recorded. */
typedef struct pay_notice {
    char order_no[65];
    char trade_no[65];
    char notify_id[129];
    char status[33];        /* the channel's own word, e.g. TRADE_SUCCESS */
    pay_status st;
    int64_t amount_fen;     /* -1 when absent or unparsable */
    char currency[8];       /* "CNY" (alipay notices carry none and mean CNY) */
    bool authentic;         /* the channel's signature verified: the channel sent
                               it, even when it is rejected afterwards (wrong
                               app_id, malformed amount...); false = anyone */
} pay_notice;

typedef struct pay_channel {
    const char *name;
    /* 0 = verified and well-formed (n filled); -1 = rejected, *why a stable
     * snake_case reason ("bad_signature", "money_fraction", ...). */
    int (*verify)(const pay_channel_conf *cf, const pay_input *in, pay_notice *n, const char **why);
    int ok_status;
    const char *ok_type, *ok_body;
    int fail_status;
    const char *fail_type, *fail_body;
    bool statement_yuan;    /* statement amounts in yuan strings (else fen) */
} pay_channel;

/* WeChat Pay refund callbacks (POST to the refund notify URL), checked
 * like payment callbacks; event_type REFUND.SUCCESS | REFUND.ABNORMAL |
 * REFUND.CLOSED must agree with the decrypted refund_status. */
typedef struct pay_refund_notice {
    char out_refund_no[65];
    char refund_id[65];     /* WeChat's refund number */
    char order_no[65];
    char trade_no[65];
    char notify_id[129];
    char event_type[33];
    char status[33];        /* SUCCESS | ABNORMAL | CLOSED */
    int64_t amount_fen;     /* amount.refund; -1 when absent */
    int64_t total_fen;      /* amount.total; -1 when absent */
    bool authentic;         /* as in pay_notice */
} pay_refund_notice;
int pay_wechat_refund_verify(const pay_channel_conf *cf, const pay_input *in, pay_refund_notice *n,
                             const char **why);

/* WeChat Pay's signature probes: Wechatpay-Signature starting with this is
 * refused as a bad signature (why "signature_test") and raises no alert. */
#define PAY_WECHAT_SIGNTEST "WECHATPAY/SIGNTEST/"
bool pay_wechat_signtest(const char *signature);

/* The four channels; NULL for an unknown name. */
const pay_channel *pay_channel_find(const char *name);
extern const pay_channel pay_channel_alipay;
extern const pay_channel pay_channel_wechatpay;
extern const pay_channel pay_channel_policeapp;
extern const pay_channel pay_channel_govportal;

/* Helpers shared by the adapters, exposed for tests. */

/* Alipay's content to sign from a form body: every pair but sign/sign_type,
 * URL-decoded, sorted by key, "k=v" joined by '&'. *content malloc'd. The
 * decoded sign and sign_type are returned in *sign / *sign_type (malloc'd,
 * NULL when absent). -1 on a malformed form or a repeated key. */
int pay_alipay_sign_content(const char *body, size_t len, char **content, char **sign,
                            char **sign_type);
/* Value of key in a form body, URL-decoded; malloc'd or NULL. */
char *pay_form_get(const char *body, size_t len, const char *key);
/* A channel's trade status word and what it means; tables end with
 * {NULL, 0}. */
typedef struct pay_status_word {
    const char *word;
    pay_status st;
} pay_status_word;
/* The last checks every adapter makes on a parsed notice, in this order:
 * currency CNY (else *why "currency_mismatch"), order and trade numbers
 * present (else "missing_field"), and n->status one of words (else
 * "unknown_trade_status"), which sets n->st. Returns 0 or -1. */
int pay_notice_classify(pay_notice *n, const pay_status_word *words, const char **why);
/* Trade status words of Alipay (trade_status) and WeChat Pay (trade_state),
 * shared by notifications and query answers. */
extern const pay_status_word pay_alipay_status_words[];
extern const pay_status_word pay_wechat_status_words[];
/* URL-decode (application/x-www-form-urlencoded: '+' is a space). Returns
 * malloc'd string or NULL on a bad escape or an embedded NUL. */
char *pay_url_decode(const char *s, size_t n);
/* A notification's timestamp header: unix seconds, digits only
 * (app_parse_int), within PAY_TS_WINDOW_S of now. NULL is not fresh. */
bool pay_ts_fresh(const char *ts, time_t now);

#endif
