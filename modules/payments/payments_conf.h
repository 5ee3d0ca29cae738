/* payments_conf.h - the payments module's configuration keys and the
 * per-channel keys loaded from them at start-up (payments_conf_init). */
#ifndef ONETRIP_PAYMENTS_CONF_H
#define ONETRIP_PAYMENTS_CONF_H

#include <stdbool.h>

#include "modules/payments/channel.h"
#include "modules/payments/pay_http.h"
#include "server/app.h"

/* The module's keys, bound to payments_conf ("payments.order_ttl_s" is
 * payments_conf.order_ttl_s); checked when the configuration loads and
 * read-only afterwards. */
typedef struct payments_settings {
    int64_t order_ttl_s, awaiting_max_s, http_timeout_s, http_connect_timeout_s, http_retries,
        http_max_response_bytes;
    const char *http_ca_file, *http_proxy;
    const char *alipay_app_id, *alipay_public_key_file, *alipay_private_key_file, *alipay_gateway_url,
        *alipay_notify_url, *alipay_return_url;
    const char *wechat_mchid, *wechat_appid, *wechat_platform_cert_file, *wechat_serial,
        *wechat_platform_more_keys, *wechat_apiv3_key, *wechat_private_key_file, *wechat_merchant_serial,
        *wechatpay_base_url, *wechat_notify_url, *wechat_refund_notify_url;
    const char *policeapp_secret, *policeapp_query_url, *policeapp_refund_url,
        *policeapp_statement_url;
    const char *govportal_secret, *govportal_query_url, *govportal_refund_url,
        *govportal_statement_url;
    int64_t notify_failures_per_min, notify_failures_burst, unverified_keep_bytes,
        unverified_digests_per_alert;
} payments_settings;
extern payments_settings payments_conf;

#define PAYMENTS_CONF_NKEYS 37
extern const app_conf payments_conf_keys[PAYMENTS_CONF_NKEYS];

/* Reads keys, certificates and secrets; -1 (logged) on an unreadable file
 * or a malformed key. Called once from the module's init. */
int payments_conf_init(void);
/* The loaded configuration of a channel (NULL for an unknown name). Valid
 * until exit; read-only after init, so any thread may use it. */
const pay_channel_conf *payments_conf_channel(const char *name);
/* How channel calls are made (pay_http.h), from the http_* keys. */
pay_http_opts payments_http_opts(void);
/* True when the channel has what its verifier needs. */
bool payments_channel_ready(const char *name);

#endif
