/* channel_sign.h - signing what onetripd sends to Alipay and WeChat Pay
 * with the merchant's private key (SHA256withRSA, OpenSSL). Pure apart
 * from the random nonce; thread-safe. */
#ifndef ONETRIP_PAYMENTS_CHANNEL_SIGN_H
#define ONETRIP_PAYMENTS_CHANNEL_SIGN_H

#include <jansson.h>
#include <time.h>

#include "modules/payments/channel.h"

/* base64 SHA256withRSA of msg with a PEM private key; malloc'd or NULL. */
char *pay_rsa_sign_b64(const char *pem_priv, const void *msg, size_t n);

/* An Alipay open-API request as a form body ("k=v&...", values
 * percent-encoded): app_id, method, format=JSON, charset=utf-8,
 * sign_type=RSA2, timestamp (Beijing time of now), version=1.0,
 * biz_content = biz (compact JSON), the extra pairs (k, v, k, v, ...,
 * NULL; may be NULL) and sign over all of them but sign, sorted by key,
 * "k=v" joined by '&' unencoded. The same text is the order string of
 * alipay.trade.app.pay and the query of a page/wap payment URL.
 * malloc'd, or NULL when the key cannot sign. */
char *pay_alipay_request_form(const pay_channel_conf *cf, const char *method, json_t *biz,
                              const char *const *extra, time_t now);

/* Beijing time (+08:00) of t as "YYYY-MM-DD HH:MM:SS" (sep ' ') or RFC 3339
 * "YYYY-MM-DDTHH:MM:SS+08:00" (rfc3339 true). out: 32 bytes. */
void pay_beijing_time(time_t t, bool rfc3339, char out[32]);

/* A fresh 32-character alphanumeric nonce. */
void pay_nonce(char out[33]);

#endif
