/* payments_conf.c - configuration table and channel key loading. */
#include "modules/payments/payments_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"

payments_settings payments_conf;

/* The WeChat Pay API v3 key is an AES-256 key: exactly 32 characters. */
static int check_apiv3_key(const char *v, char *why, size_t whylen)
{
    if (v[0] == '\0' || strlen(v) == 32)
        return 0;
    snprintf(why, whylen, "must be 32 characters");
    return -1;
}

/* Channels are called over verified HTTPS only. */
static int check_https_url(const char *v, char *why, size_t whylen)
{
    if (v[0] == '\0' || (strncmp(v, "https://", 8) == 0 && v[8] != '\0' && !strpbrk(v, " \t\r\n")))
        return 0;
    snprintf(why, whylen, "must be an https:// URL");
    return -1;
}

static int check_readable(const char *v, char *why, size_t whylen)
{
    FILE *f;
    if (v[0] == '\0')
        return 0;
    if ((f = fopen(v, "rb")) == NULL) {
        snprintf(why, whylen, "cannot be read (errno %d)", errno);
        return -1;
    }
    fclose(f);
    return 0;
}

static int check_proxy(const char *v, char *why, size_t whylen)
{
    if (v[0] == '\0' || strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0 ||
        strncmp(v, "socks5h://", 10) == 0)
        return 0;
    snprintf(why, whylen, "must start with http://, https:// or socks5h://");
    return -1;
}

/* "SERIAL=file[,SERIAL=file...]", at most PAY_MAX_PLATFORM_KEYS entries. */
static int check_more_keys(const char *v, char *why, size_t whylen)
{
    int n = 0;
    for (const char *p = v; *p;) {
        const char *c = strchr(p, ','), *e = c ? c : p + strlen(p), *eq = memchr(p, '=', (size_t)(e - p));
        if (eq == NULL || eq == p || eq + 1 == e || ++n > PAY_MAX_PLATFORM_KEYS) {
            snprintf(why, whylen, "must be SERIAL=file.pem[,SERIAL=file.pem] (at most %d)", PAY_MAX_PLATFORM_KEYS);
            return -1;
        }
        p = c ? c + 1 : e;
    }
    return 0;
}

#define S(k, d, h) APP_CONF_STR("payments." #k, payments_conf.k, d, h)
#define SECRET(k, h) APP_CONF_SECRET("payments." #k, payments_conf.k, h)
#define U(k, d, h) APP_CONF_STR_CHECK("payments." #k, payments_conf.k, d, check_https_url, h)
#define I(k, d, lo, hi, h) APP_CONF_INT("payments." #k, payments_conf.k, d, lo, hi, h)

const app_conf payments_conf_keys[] = {
    I(order_ttl_s, "1800", 60, 86400, "a payment order expires this long after creation"),
    I(awaiting_max_s, "86400", 60, 604800,
      "give up querying an order awaiting confirmation after this long (then expired)"),
    I(http_timeout_s, "10", 1, 120, "timeout of one call to a channel (each attempt, whole call)"),
    I(http_connect_timeout_s, "5", 1, 60, "timeout of connecting to a channel (TCP and TLS handshake)"),
    I(http_retries, "2", 0, 5, "extra attempts of idempotent channel calls after a network error or 502/503/504"),
    I(http_max_response_bytes, "16777216", 65536, 268435456, "largest channel answer read (statements included)"),
    APP_CONF_STR_CHECK("payments.http_ca_file", payments_conf.http_ca_file, "", check_readable,
                       "CA bundle (PEM) trusted for channel HTTPS instead of the system store"),
    APP_CONF_STR_CHECK("payments.http_proxy", payments_conf.http_proxy, "", check_proxy,
                       "proxy for channel calls (http://host:port, CONNECT tunnel); empty: direct"),
    S(alipay_app_id, "", "our Alipay app_id (requests are made and notifications accepted for it)"),
    S(alipay_public_key_file, "", "Alipay public key (PEM) that signs notifications and answers"),
    S(alipay_private_key_file, "", "our Alipay application private key (PEM, RSA2) that signs requests"),
    U(alipay_gateway_url, "https://openapi.alipay.com/gateway.do",
      "Alipay gateway (sandbox: https://openapi-sandbox.dl.alipaydev.com/gateway.do)"),
    U(alipay_notify_url, "", "our public URL Alipay notifies payments to (.../v1/payments/notify/alipay)"),
    U(alipay_return_url, "", "where Alipay's web payment page sends the payer back (optional)"),
    S(wechat_mchid, "", "our WeChat Pay merchant id (checked in notifications)"),
    S(wechat_appid, "", "appid of our app / official account bound to the merchant id"),
    S(wechat_platform_cert_file, "", "WeChat Pay platform certificate or public key (PEM)"),
    S(wechat_serial, "", "serial of that platform certificate (Wechatpay-Serial)"),
    APP_CONF_STR_CHECK("payments.wechat_platform_more_keys", payments_conf.wechat_platform_more_keys, "",
                       check_more_keys, "more platform keys during a rotation: SERIAL=file.pem[,SERIAL=file.pem]"),
    APP_CONF_SECRET_CHECK("payments.wechat_apiv3_key", payments_conf.wechat_apiv3_key, check_apiv3_key,
                          "WeChat Pay API v3 key (32 characters) for AEAD_AES_256_GCM"),
    S(wechat_private_key_file, "", "our WeChat Pay merchant API private key (PEM) that signs requests"),
    S(wechat_merchant_serial, "", "serial number of our merchant API certificate (serial_no)"),
    U(wechatpay_base_url, "https://api.mch.weixin.qq.com",
      "WeChat Pay API v3 base URL (no sandbox for v3; backup https://api2.mch.weixin.qq.com)"),
    U(wechat_notify_url, "", "our public URL WeChat Pay notifies payments to (.../v1/payments/notify/wechatpay)"),
    U(wechat_refund_notify_url, "",
      "our public URL WeChat Pay notifies refunds to (.../v1/payments/notify/wechatpay/refund)"),
    SECRET(policeapp_secret, "HMAC-SHA256 secret shared with the police app wallet"),
    U(policeapp_query_url, "", "police app trade-query endpoint"),
    U(policeapp_refund_url, "", "police app refund endpoint"),
    U(policeapp_statement_url, "", "police app daily statement endpoint"),
    SECRET(govportal_secret, "HMAC-SHA256 secret shared with the government portal"),
    U(govportal_query_url, "", "government portal trade-query endpoint"),
    U(govportal_refund_url, "", "government portal refund endpoint"),
    U(govportal_statement_url, "", "government portal daily statement endpoint"),
    I(notify_failures_per_min, "6", 1, 60000000,
      "unauthenticated notifications one address may send per minute once its burst is spent"),
    I(notify_failures_burst, "30", 1, 1000000,
      "unauthenticated notifications one address may send before it is rate-limited (429)"),
    I(unverified_keep_bytes, "256", 0, 4096,
      "bytes of an unauthenticated notification kept in its digest (with size and SHA-256)"),
    I(unverified_digests_per_alert, "20", 0, 100000,
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

static char *opt(const char *v)
{
    return v[0] ? app_strdup(v) : NULL;
}

static int load_pem(const char *const *path, char **out)
{
    if ((*path)[0] == '\0')
        return 0;
    *out = read_file(*path);
    if (*out == NULL) {
        app_log(0, "payments", "msg=\"cannot read key file\" key=%s errno=%d", config_key_of(path), errno);
        return -1;
    }
    return 0;
}

static void urls(pay_channel_conf *c, const char *query, const char *refund, const char *statement)
{
    c->query_url = opt(query);
    c->refund_url = opt(refund);
    c->statement_url = opt(statement);
}

static int load_more_keys(pay_channel_conf *c, const char *spec)
{
    char *copy = app_strdup(spec), *save = NULL, *tok;
    int rc = 0;

    for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL || c->nplatform >= PAY_MAX_PLATFORM_KEYS) { /* checked at load */
            rc = -1;
            break;
        }
        *eq = '\0';
        c->platform_serial[c->nplatform] = app_strdup(tok);
        if ((c->platform_pem[c->nplatform] = read_file(eq + 1)) == NULL) {
            app_log(0, "payments", "msg=\"cannot read key file\" key=payments.wechat_platform_more_keys serial=%s errno=%d",
                    tok, errno);
            free(c->platform_serial[c->nplatform]);
            rc = -1;
            break;
        }
        c->nplatform++;
    }
    free(copy);
    return rc;
}

int payments_conf_init(void)
{
    const payments_settings *p = &payments_conf;

    if (pay_http_global_init() != 0) {
        app_log(0, "payments", "msg=\"libcurl initialisation failed\"");
        return -1;
    }
    confs[0].app_id = opt(p->alipay_app_id);
    if (load_pem(&p->alipay_public_key_file, &confs[0].public_pem) != 0 ||
        load_pem(&p->alipay_private_key_file, &confs[0].private_pem) != 0)
        return -1;
    confs[0].gateway_url = opt(p->alipay_gateway_url);
    confs[0].notify_url = opt(p->alipay_notify_url);
    confs[0].return_url = opt(p->alipay_return_url);
    confs[1].app_id = opt(p->wechat_mchid);
    confs[1].appid = opt(p->wechat_appid);
    confs[1].serial = opt(p->wechat_serial);
    if (load_pem(&p->wechat_platform_cert_file, &confs[1].public_pem) != 0 ||
        load_pem(&p->wechat_private_key_file, &confs[1].private_pem) != 0 ||
        load_more_keys(&confs[1], p->wechat_platform_more_keys) != 0)
        return -1;
    confs[1].merchant_serial = opt(p->wechat_merchant_serial);
    confs[1].gateway_url = opt(p->wechatpay_base_url);
    confs[1].notify_url = opt(p->wechat_notify_url);
    confs[1].refund_notify_url = opt(p->wechat_refund_notify_url);
    /* 32 characters or empty (checked when the configuration loaded) */
    if (p->wechat_apiv3_key[0] != '\0') {
        memcpy(confs[1].key, p->wechat_apiv3_key, 32);
        confs[1].key_set = true;
    }
    confs[2].secret = opt(p->policeapp_secret);
    confs[3].secret = opt(p->govportal_secret);
    urls(&confs[2], p->policeapp_query_url, p->policeapp_refund_url, p->policeapp_statement_url);
    urls(&confs[3], p->govportal_query_url, p->govportal_refund_url, p->govportal_statement_url);
    return 0;
}

pay_http_opts payments_http_opts(void)
{
    const payments_settings *p = &payments_conf;
    return (pay_http_opts){p->http_timeout_s, p->http_connect_timeout_s, p->http_ca_file, p->http_proxy,
                           p->http_retries, p->http_max_response_bytes, false};
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
        return (c->public_pem || c->nplatform > 0) && c->key_set;
    return c->secret != NULL;
}
