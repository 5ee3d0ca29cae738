/* payments_conf.c - configuration table and channel key loading. */
#include "modules/payments/payments_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(n, d, h) {n, false, d, 0, 0, false, h}
#define SECRET(n, h) {n, false, "", 0, 0, true, h}
#define I(n, d, lo, hi, h) {n, true, d, lo, hi, false, h}

const app_conf payments_conf_keys[] = {
    I("payments.order_ttl_s", "1800", 60, 86400, "a payment order expires this long after creation"),
    I("payments.awaiting_max_s", "86400", 60, 604800,
      "give up querying an order awaiting confirmation after this long (then expired)"),
    I("payments.http_timeout_s", "10", 1, 120, "timeout of one call to a channel"),
    S("payments.alipay_app_id", "", "our Alipay app_id (notifications for another are refused)"),
    S("payments.alipay_public_key_file", "", "Alipay public key (PEM) that signs notifications"),
    S("payments.alipay_query_url", "", "Alipay trade-query endpoint (simulator: /alipay/query)"),
    S("payments.alipay_refund_url", "", "Alipay refund endpoint"),
    S("payments.alipay_statement_url", "", "Alipay daily statement endpoint"),
    S("payments.wechat_mchid", "", "our WeChat Pay merchant id (checked in notifications)"),
    S("payments.wechat_platform_cert_file", "", "WeChat Pay platform certificate or public key (PEM)"),
    S("payments.wechat_serial", "", "serial of that platform certificate (Wechatpay-Serial)"),
    SECRET("payments.wechat_apiv3_key", "WeChat Pay API v3 key (32 characters) for AEAD_AES_256_GCM"),
    S("payments.wechatpay_query_url", "", "WeChat Pay trade-query endpoint"),
    S("payments.wechatpay_refund_url", "", "WeChat Pay refund endpoint"),
    S("payments.wechatpay_statement_url", "", "WeChat Pay daily statement endpoint"),
    SECRET("payments.policeapp_secret", "HMAC-SHA256 secret shared with the police app wallet"),
    S("payments.policeapp_query_url", "", "police app trade-query endpoint"),
    S("payments.policeapp_refund_url", "", "police app refund endpoint"),
    S("payments.policeapp_statement_url", "", "police app daily statement endpoint"),
    SECRET("payments.govportal_secret", "HMAC-SHA256 secret shared with the government portal"),
    S("payments.govportal_query_url", "", "government portal trade-query endpoint"),
    S("payments.govportal_refund_url", "", "government portal refund endpoint"),
    S("payments.govportal_statement_url", "", "government portal daily statement endpoint"),
    I("payments.notify_failures_per_min", "6", 1, 60000000,
      "unauthenticated notifications one address may send per minute once its burst is spent"),
    I("payments.notify_failures_burst", "30", 1, 1000000,
      "unauthenticated notifications one address may send before it is rate-limited (429)"),
    I("payments.unverified_keep_bytes", "256", 0, 4096,
      "bytes of an unauthenticated notification kept in its digest (with size and SHA-256)"),
    I("payments.unverified_digests_per_alert", "20", 0, 100000,
      "digests kept per source, channel and day; later ones only count in the folded alert"),
};
_Static_assert(APP_LEN(payments_conf_keys) == PAYMENTS_CONF_NKEYS, "update PAYMENTS_CONF_NKEYS");

static pay_channel_conf confs[4] = {
    {.name = "alipay"}, {.name = "wechatpay"}, {.name = "policeapp"}, {.name = "govportal"}};

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 65536 || fseek(f, 0, SEEK_SET) != 0)
        goto done;
    buf = app_malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[n] = '\0';
done:
    fclose(f);
    return buf;
}

static char *opt(const char *key)
{
    const char *v = app_config_str(key);
    return v[0] ? app_strdup(v) : NULL;
}

static int load_pem(const char *key, char **out)
{
    const char *path = app_config_str(key);
    if (path[0] == '\0')
        return 0;
    *out = read_file(path);
    if (*out == NULL) {
        app_log(0, "payments", "msg=\"cannot read key file\" key=%s errno=%d", key, errno);
        return -1;
    }
    return 0;
}

static void urls(pay_channel_conf *c)
{
    char k[64];
    snprintf(k, sizeof k, "payments.%s_query_url", c->name);
    c->query_url = opt(k);
    snprintf(k, sizeof k, "payments.%s_refund_url", c->name);
    c->refund_url = opt(k);
    snprintf(k, sizeof k, "payments.%s_statement_url", c->name);
    c->statement_url = opt(k);
}

int payments_conf_init(void)
{
    const char *k;

    confs[0].app_id = opt("payments.alipay_app_id");
    if (load_pem("payments.alipay_public_key_file", &confs[0].public_pem) != 0)
        return -1;
    confs[1].app_id = opt("payments.wechat_mchid");
    confs[1].serial = opt("payments.wechat_serial");
    if (load_pem("payments.wechat_platform_cert_file", &confs[1].public_pem) != 0)
        return -1;
    k = app_config_str("payments.wechat_apiv3_key");
    if (k[0] != '\0') {
        if (strlen(k) != 32) {
            app_log(0, "payments", "msg=\"payments.wechat_apiv3_key must be 32 characters\"");
            return -1;
        }
        memcpy(confs[1].key, k, 32);
        confs[1].key_set = true;
    }
    confs[2].secret = opt("payments.policeapp_secret");
    confs[3].secret = opt("payments.govportal_secret");
    for (int i = 0; i < 4; i++)
        urls(&confs[i]);
    return 0;
}

const pay_channel_conf *payments_conf_channel(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(confs[i].name, name) == 0)
            return &confs[i];
    return NULL;
}

bool payments_channel_ready(const char *name)
{
    const pay_channel_conf *c = payments_conf_channel(name);
    if (c == NULL)
        return false;
    if (strcmp(name, "alipay") == 0)
        return c->public_pem && c->app_id;
    if (strcmp(name, "wechatpay") == 0)
        return c->public_pem && c->serial && c->key_set;
    return c->secret != NULL;
}
