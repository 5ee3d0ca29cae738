/* channel.c - the channel table and the form helpers the adapters share. */
#include "modules/payments/channel.h"

#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/crypto.h"

const pay_channel *pay_channel_find(const char *name)
{
    static const pay_channel *const all[] = {&pay_channel_alipay, &pay_channel_wechatpay,
                                             &pay_channel_policeapp, &pay_channel_govportal};
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

bool pay_ts_fresh(const char *ts, time_t now)
{
    int64_t t = 0;
    return app_parse_int(ts, 0, INT64_MAX, &t) == 0 && t >= (int64_t)now - PAY_TS_WINDOW_S &&
           t <= (int64_t)now + PAY_TS_WINDOW_S;
}

int pay_notice_classify(pay_notice *n, const pay_status_word *words, const char **why)
{
    if (strcmp(n->currency, "CNY") != 0) {
        *why = "currency_mismatch";
        return -1;
    }
    if (n->order_no[0] == '\0' || n->trade_no[0] == '\0') {
        *why = "missing_field";
        return -1;
    }
    for (const pay_status_word *w = words; w->word != NULL; w++)
        if (strcmp(w->word, n->status) == 0) {
            n->st = w->st;
            return 0;
        }
    *why = "unknown_trade_status";
    return -1;
}

char *pay_url_decode(const char *s, size_t n)
{
    char *out = app_malloc(n + 1);
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[j++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n)
                goto fail; /* truncated escape */
            hi = crypto_hex_digit(s[i + 1]);
            lo = crypto_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                goto fail;
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (s[i] == '\0') {
            goto fail; /* a raw NUL would cut the value short in C strings */
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
fail:
    free(out);
    return NULL;
}

typedef struct kv {
    char *k, *v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

static void kv_free(kv *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].k);
        free(p[i].v);
    }
    free(p);
}

/* Splits a form body into decoded pairs. -1 on a malformed pair. */
static int form_parse(const char *body, size_t len, kv **out, size_t *nout)
{
    kv *p = NULL;
    size_t n = 0, cap = 0, i = 0;

    while (i < len) {
        size_t j = i, eq;
        while (j < len && body[j] != '&')
            j++;
        if (j == i) { /* empty segment: "a=1&&b=2" */
            i = j + 1;
            continue;
        }
        eq = i;
        while (eq < j && body[eq] != '=')
            eq++;
        if (eq == j || eq == i)
            goto fail;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            p = realloc(p, cap * sizeof *p);
            if (p == NULL)
                abort();
        }
        p[n].k = pay_url_decode(body + i, eq - i);
        p[n].v = pay_url_decode(body + eq + 1, j - eq - 1);
        n++;
        if (p[n - 1].k == NULL || p[n - 1].v == NULL)
            goto fail;
        i = j + 1;
    }
    *out = p;
    *nout = n;
    return 0;
fail:
    kv_free(p, n);
    return -1;
}

char *pay_form_get(const char *body, size_t len, const char *key)
{
    kv *p = NULL;
    size_t n = 0;
    char *v = NULL;

    if (form_parse(body, len, &p, &n) != 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].k, key) == 0) {
            v = app_strdup(p[i].v);
            break;
        }
    kv_free(p, n);
    return v;
}

int pay_alipay_sign_content(const char *body, size_t len, char **content, char **sign,
                            char **sign_type)
{
    kv *p = NULL;
    size_t n = 0, total = 1, off = 0;
    char *buf = NULL;
    int rc = -1;

    *content = *sign = *sign_type = NULL;
    if (form_parse(body, len, &p, &n) != 0)
        goto fail;
    /* An empty form leaves p NULL: qsort(NULL, 0, ...) is undefined. */
    if (n > 1)
        qsort(p, n, sizeof *p, kv_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(p[i].k, p[i - 1].k) == 0)
            goto fail; /* a repeated key could be read two ways */
        total += strlen(p[i].k) + strlen(p[i].v) + 2;
    }
    buf = app_malloc(total);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(p[i].k), vl = strlen(p[i].v);
        if (strcmp(p[i].k, "sign") == 0) {
            *sign = app_strdup(p[i].v);
            continue;
        }
        if (strcmp(p[i].k, "sign_type") == 0) {
            *sign_type = app_strdup(p[i].v);
            continue;
        }
        if (off > 0)
            buf[off++] = '&';
        memcpy(buf + off, p[i].k, kl);
        off += kl;
        buf[off++] = '=';
        memcpy(buf + off, p[i].v, vl);
        off += vl;
        buf[off] = '\0';
    }
    *content = buf;
    buf = NULL;
    rc = 0;
fail:
    if (rc != 0) {
        free(*sign);
        free(*sign_type);
        *sign = *sign_type = NULL;
    }
    free(buf);
    kv_free(p, n);
    return rc;
}
