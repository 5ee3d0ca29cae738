/* channel_sign.c - see channel_sign.h and channel_client.h. */
#include "modules/payments/channel_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel_client.h"
#include "server/app.h"
#include "server/crypto.h"

char *pay_rsa_sign_b64(const char *pem_priv, const void *msg, size_t n)
{
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *out;

    if (pem_priv == NULL || crypto_rsa_sha256_sign(pem_priv, msg, n, &sig, &siglen) != 0)
        return NULL;
    out = crypto_b64_encode(sig, siglen);
    free(sig);
    return out;
}

void pay_beijing_time(time_t t, bool rfc3339, char out[32])
{
    struct tm tm;
    t += 8 * 3600;
    gmtime_r(&t, &tm);
    strftime(out, 32, rfc3339 ? "%Y-%m-%dT%H:%M:%S+08:00" : "%Y-%m-%d %H:%M:%S", &tm);
}

void pay_nonce(char out[33])
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[32];

    if (crypto_random(r, sizeof r) != 0)
        abort(); /* no randomness: nothing safe to do */
    for (int i = 0; i < 32; i++)
        out[i] = abc[r[i] % (sizeof abc - 1)];
    out[32] = '\0';
}

typedef struct kv {
    const char *k, *v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_raw(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* application/x-www-form-urlencoded value (RFC 3986 unreserved kept). */
static void sb_pct(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~') {
            sb_raw(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_raw(b, e, 3);
        }
    }
}

char *pay_alipay_request_form(const pay_channel_conf *cf, const char *method, json_t *biz,
                              const char *const *extra, time_t now)
{
    kv p[24];
    int n = 0;
    char ts[32], *bizs = NULL, *content = NULL, *sign = NULL;
    sbuf out = {NULL, 0, 0};
    size_t clen = 0;

    pay_beijing_time(now, false, ts);
    bizs = json_dumps(biz, JSON_COMPACT | JSON_ENSURE_ASCII);
    p[n++] = (kv){"app_id", cf->app_id ? cf->app_id : ""};
    p[n++] = (kv){"method", method};
    p[n++] = (kv){"format", "JSON"};
    p[n++] = (kv){"charset", "utf-8"};
    p[n++] = (kv){"sign_type", "RSA2"};
    p[n++] = (kv){"timestamp", ts};
    p[n++] = (kv){"version", "1.0"};
    p[n++] = (kv){"biz_content", bizs};
    for (int i = 0; extra && extra[i] && extra[i + 1] && n < 24; i += 2)
        if (extra[i + 1][0] != '\0')
            p[n++] = (kv){extra[i], extra[i + 1]};
    qsort(p, (size_t)n, sizeof *p, kv_cmp);
    for (int i = 0; i < n; i++)
        clen += strlen(p[i].k) + strlen(p[i].v) + 2;
    content = app_malloc(clen + 1);
    clen = 0;
    for (int i = 0; i < n; i++)
        clen += (size_t)sprintf(content + clen, "%s%s=%s", i ? "&" : "", p[i].k, p[i].v);
    sign = pay_rsa_sign_b64(cf->private_pem, content, clen);
    if (sign == NULL)
        goto fail;
    for (int i = 0; i < n; i++) {
        sb_pct(&out, p[i].k);
        sb_raw(&out, "=", 1);
        sb_pct(&out, p[i].v);
        sb_raw(&out, "&", 1);
    }
    sb_raw(&out, "sign=", 5);
    sb_pct(&out, sign);
fail:
    free(bizs);
    free(content);
    free(sign);
    return out.p;
}

char *pay_wechat_authorization(const pay_channel_conf *cf, const char *method, const char *path_query,
                               const char *body, const char *ts, const char *nonce)
{
    char tsb[24], nb[33], *msg = NULL, *sig, *out = NULL;

    if (ts == NULL) {
        snprintf(tsb, sizeof tsb, "%lld", (long long)time(NULL));
        ts = tsb;
    }
    if (nonce == NULL) {
        pay_nonce(nb);
        nonce = nb;
    }
    if (asprintf(&msg, "%s\n%s\n%s\n%s\n%s\n", method, path_query, ts, nonce, body ? body : "") < 0)
        abort();
    sig = pay_rsa_sign_b64(cf->private_pem, msg, strlen(msg));
    if (sig != NULL &&
        asprintf(&out, "WECHATPAY2-SHA256-RSA2048 mchid=\"%s\",nonce_str=\"%s\",signature=\"%s\",timestamp=\"%s\",serial_no=\"%s\"",
                 cf->app_id ? cf->app_id : "", nonce, sig, ts, cf->merchant_serial ? cf->merchant_serial : "") < 0)
        abort();
    free(sig);
    free(msg);
    return out;
}
