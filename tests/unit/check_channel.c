/* Unit tests for the payment channel verifiers (modules/payments/channel*.c)
 * with vectors generated here: a fresh RSA key signs notifications the way
 * each channel does, then single fields are tampered with. */
#include <check.h>
#include <stdlib.h>
#include <string.h>


#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/payments/channel.h"
#include "modules/payments/channel_client.h"
#include "modules/payments/channel_sign.h"
#include "modules/payments/statement.h"
#include <zlib.h>
#include "server/crypto.h"
#include "tests/unit/check_util.h"

static char *priv_pem, *pub_pem, *other_pub_pem;

static void gen_key(char **priv, char **pub)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;

    ck_assert_ptr_nonnull(k);
    if (priv) {
        PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
        n = BIO_get_mem_data(b, &p);
        *priv = check_copy_n(p, (size_t)n);
        (void)BIO_reset(b);
    }
    PEM_write_bio_PUBKEY(b, k);
    n = BIO_get_mem_data(b, &p);
    *pub = check_copy_n(p, (size_t)n);
    BIO_free(b);
    EVP_PKEY_free(k);
}

static void setup(void)
{
    if (priv_pem == NULL) {
        gen_key(&priv_pem, &pub_pem);
        gen_key(NULL, &other_pub_pem);
    }
}

/* ---- headers --------------------------------------------------------- */

typedef struct hdrs {
    const char *k[8];
    const char *v[8];
    int n;
} hdrs;

static const char *hdr_get(const void *ctx, const char *name)
{
    const hdrs *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->k[i], name) == 0)
            return h->v[i];
    return NULL;
}

/* ---- alipay ---------------------------------------------------------- */

static void url_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '*') {
            *out++ = (char)c;
        } else if (c == ' ') {
            *out++ = '+';
        } else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    *out = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Builds a signed notification from "k=v" pairs (plain, unencoded). When
 * tamper_key is set, that pair's value is replaced by tamper_val AFTER
 * signing. */
static char *alipay_body(const char *const *pairs, int n, const char *tamper_key,
                         const char *tamper_val, const char *sign_type)
{
    char content[4096] = "", *sorted[32], *body = malloc(16384), enc[2048];
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *b64;

    for (int i = 0; i < n; i++)
        sorted[i] = strdup(pairs[i]);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(content, "&");
        strcat(content, sorted[i]);
    }
    ck_assert_int_eq(crypto_rsa_sha256_sign(priv_pem, content, strlen(content), &sig, &siglen), 0);
    b64 = crypto_b64_encode(sig, siglen);
    body[0] = '\0';
    for (int i = 0; i < n; i++) {
        char key[128];
        const char *eq = strchr(pairs[i], '=');
        const char *val = eq + 1;
        snprintf(key, sizeof key, "%.*s", (int)(eq - pairs[i]), pairs[i]);
        if (tamper_key && strcmp(key, tamper_key) == 0)
            val = tamper_val;
        url_encode(key, enc);
        strcat(body, enc);
        strcat(body, "=");
        url_encode(val, enc);
        strcat(body, enc);
        strcat(body, "&");
    }
    strcat(body, "sign_type=");
    strcat(body, sign_type);
    strcat(body, "&sign=");
    url_encode(b64, enc);
    strcat(body, enc);
    for (int i = 0; i < n; i++)
        free(sorted[i]);
    free(sig);
    free(b64);
    return body;
}

static pay_channel_conf alipay_conf(void)
{
    pay_channel_conf c = {0};
    c.name = "alipay";
    c.app_id = "2021000000000001";
    c.public_pem = pub_pem;
    return c;
}

static int alipay_check(const char *body, pay_notice *n, const char **why)
{
    pay_channel_conf c = alipay_conf();
    pay_input in = {body, strlen(body), NULL, NULL, 1700000000};
    return pay_channel_alipay.verify(&c, &in, n, why);
}

static char *alipay_with_amount(const char *amount)
{
    char a[64];
    const char *p[8];
    snprintf(a, sizeof a, "total_amount=%s", amount);
    p[0] = "app_id=2021000000000001";
    p[1] = "out_trade_no=P202501010001";
    p[2] = "trade_no=2025010122001";
    p[3] = "trade_status=TRADE_SUCCESS";
    p[4] = a;
    p[5] = "notify_id=ntf-1";
    p[6] = "subject=交通违法罚款 & late fee";
    p[7] = "gmt_payment=2025-01-01 10:00:00";
    return alipay_body(p, 8, NULL, NULL, "RSA2");
}

START_TEST(alipay_valid_notice_verifies)
{
    pay_notice n;
    const char *why = NULL;
    char *b = alipay_with_amount("100.10");
    ck_assert_int_eq(alipay_check(b, &n, &why), 0);
    ck_assert_str_eq(n.order_no, "P202501010001");
    ck_assert_str_eq(n.trade_no, "2025010122001");
    ck_assert_str_eq(n.notify_id, "ntf-1");
    ck_assert_int_eq(n.amount_fen, 10010);
    ck_assert_int_eq(n.st, PAY_ST_SUCCESS);
    free(b);
}
END_TEST

START_TEST(alipay_yuan_amounts_exact)
{
    static const struct { const char *s; int64_t fen; } ok[] = {
        {"100.1", 10010}, {"100.10", 10010}, {"0.01", 1}, {"100", 10000}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        pay_notice n;
        const char *why = NULL;
        char *b = alipay_with_amount(ok[i].s);
        ck_assert_int_eq(alipay_check(b, &n, &why), 0);
        ck_assert_int_eq(n.amount_fen, ok[i].fen);
        free(b);
    }
}
END_TEST

START_TEST(alipay_malformed_amounts_rejected)
{
    static const char *bad[] = {"1e2", "-0.01", "100.101", " 100", "", "0x10", "1,00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pay_notice n;
        const char *why = NULL;
        char *b = alipay_with_amount(bad[i]);
        ck_assert_int_eq(alipay_check(b, &n, &why), -1);
        ck_assert_msg(strncmp(why, "money_", 6) == 0, "%s -> %s", bad[i], why);
        ck_assert_str_eq(n.order_no, "P202501010001"); /* still recorded */
        free(b);
    }
}
END_TEST

START_TEST(alipay_tampered_amount_rejected)
{
    const char *p[] = {"app_id=2021000000000001", "out_trade_no=P1", "trade_no=T1",
                       "trade_status=TRADE_SUCCESS", "total_amount=100.00"};
    pay_notice n;
    const char *why = NULL;
    char *b = alipay_body(p, 5, "total_amount", "1.00", "RSA2");
    ck_assert_int_eq(alipay_check(b, &n, &why), -1);
    ck_assert_str_eq(why, "bad_signature");
    free(b);
}
END_TEST

START_TEST(alipay_other_key_rejected)
{
    pay_channel_conf c = alipay_conf();
    char *b = alipay_with_amount("1.00");
    pay_input in = {b, strlen(b), NULL, NULL, 0};
    pay_notice n;
    const char *why = NULL;
    c.public_pem = other_pub_pem;
    ck_assert_int_eq(pay_channel_alipay.verify(&c, &in, &n, &why), -1);
    ck_assert_str_eq(why, "bad_signature");
    free(b);
}
END_TEST

START_TEST(alipay_wrong_app_id_rejected)
{
    const char *p[] = {"app_id=9999", "out_trade_no=P1", "trade_no=T1",
                       "trade_status=TRADE_SUCCESS", "total_amount=1.00"};
    pay_notice n;
    const char *why = NULL;
    char *b = alipay_body(p, 5, NULL, NULL, "RSA2");
    ck_assert_int_eq(alipay_check(b, &n, &why), -1);
    ck_assert_str_eq(why, "wrong_app_id");
    free(b);
}
END_TEST

START_TEST(alipay_sign_type_rsa1_rejected)
{
    pay_notice n;
    const char *why = NULL;
    const char *p[] = {"app_id=2021000000000001", "out_trade_no=P1", "trade_no=T1",
                       "trade_status=TRADE_SUCCESS", "total_amount=1.00"};
    char *b = alipay_body(p, 5, NULL, NULL, "RSA");
    ck_assert_int_eq(alipay_check(b, &n, &why), -1);
    ck_assert_str_eq(why, "sign_type_not_allowed");
    free(b);
}
END_TEST

START_TEST(alipay_missing_sign_and_repeated_key_rejected)
{
    pay_notice n;
    const char *why = NULL;
    const char *nosig = "app_id=2021000000000001&out_trade_no=P1&total_amount=1.00";
    ck_assert_int_eq(alipay_check(nosig, &n, &why), -1);
    ck_assert_str_eq(why, "signature_missing");
    ck_assert_int_eq(alipay_check("a=1&a=2&sign=xx", &n, &why), -1);
    ck_assert_str_eq(why, "malformed_notification");
    ck_assert_int_eq(alipay_check("a=%4", &n, &why), -1);
    ck_assert_str_eq(why, "malformed_notification");
}
END_TEST

START_TEST(alipay_trade_closed_is_closed)
{
    const char *p[] = {"app_id=2021000000000001", "out_trade_no=P1", "trade_no=T1",
                       "trade_status=TRADE_CLOSED", "total_amount=1.00"};
    pay_notice n;
    const char *why = NULL;
    char *b = alipay_body(p, 5, NULL, NULL, "RSA2");
    ck_assert_int_eq(alipay_check(b, &n, &why), 0);
    ck_assert_int_eq(n.st, PAY_ST_CLOSED);
    free(b);
}
END_TEST

START_TEST(alipay_sign_content_sorted_decoded)
{
    char *content, *sign, *st;
    const char *body = "b=2&a=x+y%26z&sign=abc&sign_type=RSA2&c=";
    ck_assert_int_eq(pay_alipay_sign_content(body, strlen(body), &content, &sign, &st), 0);
    ck_assert_str_eq(content, "a=x y&z&b=2&c=");
    ck_assert_str_eq(sign, "abc");
    ck_assert_str_eq(st, "RSA2");
    free(content);
    free(sign);
    free(st);
}
END_TEST

#define SERIAL_FOR_DEGENERATE "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"

/* Degenerate forms reach the parser before any signature is checked (the
 * notify endpoint is public): each must be answered, never crash or hit
 * undefined behaviour (qsort/memcpy with NULL, reads past the end). */
START_TEST(form_degenerate_bodies)
{
    static const struct {
        const char *body;
        size_t len;
        int rc;           /* pay_alipay_sign_content */
        const char *content;
    } cases[] = {
        {"", 0, 0, ""},
        {"&", 1, 0, ""},
        {"&&&", 3, 0, ""},
        {"a=1", 3, 0, "a=1"},
        {"a=", 2, 0, "a="},
        {"=", 1, -1, NULL},
        {"=x", 2, -1, NULL},
        {"a", 1, -1, NULL},
        {"a&b=1", 5, -1, NULL},
        {"a=1&a=2", 7, -1, NULL},  /* repeated key */
        {"a=%", 3, -1, NULL},      /* truncated escape */
        {"a=%4", 4, -1, NULL},
        {"a=%zz", 5, -1, NULL},
        {"a=%00", 5, -1, NULL},    /* escaped NUL */
        {"a=1\0b=2", 7, -1, NULL}, /* raw NUL inside the length */
        {"%=1", 3, -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *content = NULL, *sign = NULL, *st = NULL;
        char *copy = malloc(cases[i].len + 1);
        /* an exact-size heap copy, so ASan sees any read past the end */
        memcpy(copy, cases[i].body, cases[i].len);
        copy[cases[i].len] = '\0';
        ck_assert_msg(pay_alipay_sign_content(copy, cases[i].len, &content, &sign, &st) == cases[i].rc,
                      "case %zu", i);
        if (cases[i].rc == 0)
            ck_assert_str_eq(content, cases[i].content);
        else
            ck_assert_ptr_null(content);
        ck_assert_ptr_null(sign);
        ck_assert_ptr_null(st);
        free(content);
        free(pay_form_get(copy, cases[i].len, "a"));
        free(copy);
    }
}
END_TEST

/* The same bodies through every channel's verifier: rejected with a stable
 * reason, nothing trusted. A NULL body of length 0 is accepted too. */
START_TEST(verifiers_reject_empty_and_degenerate_bodies)
{
    static const char *const bodies[] = {NULL, "", "&", "=", "a", "{}", "[]", "null", "\"x\"", "{\"resource\":1}"};
    const pay_channel *chs[] = {&pay_channel_alipay, &pay_channel_wechatpay, &pay_channel_policeapp,
                                &pay_channel_govportal};
    pay_channel_conf c = alipay_conf();
    hdrs none = {{NULL}, {NULL}, 0};
    hdrs wx = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"},
               {"1700000000", "n0nce", "AAAA", SERIAL_FOR_DEGENERATE}, 4};
    hdrs hm = {{"X-Pay-Timestamp", "X-Pay-Signature"},
               {"1700000000", "0000000000000000000000000000000000000000000000000000000000000000"}, 2};

    c.serial = SERIAL_FOR_DEGENERATE;
    memset(c.key, 'k', 32);
    c.key_set = true;
    c.secret = "s3cret";
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        size_t len = bodies[b] ? strlen(bodies[b]) : 0;
        char *copy = NULL;
        if (bodies[b]) {
            copy = malloc(len + 1);
            memcpy(copy, bodies[b], len + 1);
        }
        for (size_t k = 0; k < sizeof chs / sizeof chs[0]; k++) {
            const hdrs *hs[] = {&none, k == 1 ? &wx : &hm};
            for (int h = 0; h < 2; h++) {
                pay_input in = {copy, len, hdr_get, hs[h], 1700000000};
                pay_notice n;
                const char *why = NULL;
                ck_assert_int_eq(chs[k]->verify(&c, &in, &n, &why), -1);
                ck_assert_ptr_nonnull(why);
                ck_assert_msg(why[0] != '\0', "%s body %zu", chs[k]->name, b);
                ck_assert_int_eq(n.amount_fen, -1);
                ck_assert(!n.authentic);
            }
        }
        free(copy);
    }
}
END_TEST

/* ---- wechatpay ------------------------------------------------------- */

static const unsigned char apiv3_key[32] = "0123456789abcdef0123456789abcdef";

static char *wechat_body(const char *currency, int64_t total, const char *state)
{
    char inner[512], *ct64, *out = malloc(2048);
    unsigned char *ct = NULL;
    size_t ctlen = 0;
    snprintf(inner, sizeof inner,
             "{\"mchid\":\"1900000001\",\"out_trade_no\":\"P2\",\"transaction_id\":\"4200001\","
             "\"trade_state\":\"%s\",\"amount\":{\"total\":%lld,\"payer_total\":%lld,\"currency\":\"%s\"}}",
             state, (long long)total, (long long)total, currency);
    ck_assert_int_eq(crypto_aes256gcm_encrypt(apiv3_key, "nonce1234567", 12, "transaction", 11, inner,
                                              strlen(inner), &ct, &ctlen), 0);
    ct64 = crypto_b64_encode(ct, ctlen);
    snprintf(out, 2048,
             "{\"id\":\"EV-1\",\"create_time\":\"2025-01-01T10:00:00+08:00\",\"resource_type\":"
             "\"encrypt-resource\",\"event_type\":\"TRANSACTION.SUCCESS\",\"resource\":{\"algorithm\":"
             "\"AEAD_AES_256_GCM\",\"ciphertext\":\"%s\",\"associated_data\":\"transaction\","
             "\"nonce\":\"nonce1234567\",\"original_type\":\"transaction\"}}",
             ct64);
    free(ct);
    free(ct64);
    return out;
}

static char *wechat_sign(const char *ts, const char *nonce, const char *body)
{
    char msg[4096];
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *b64;
    snprintf(msg, sizeof msg, "%s\n%s\n%s\n", ts, nonce, body);
    ck_assert_int_eq(crypto_rsa_sha256_sign(priv_pem, msg, strlen(msg), &sig, &siglen), 0);
    b64 = crypto_b64_encode(sig, siglen);
    free(sig);
    return b64;
}

static int wechat_check(const char *body, const char *ts, const char *sig, const char *serial,
                        time_t now, pay_notice *n, const char **why)
{
    pay_channel_conf c = {0};
    hdrs h = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"},
              {ts, "n0nce", sig, serial}, 4};
    pay_input in = {body, strlen(body), hdr_get, &h, now};
    c.name = "wechatpay";
    c.public_pem = pub_pem;
    c.serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    c.app_id = "1900000001";
    memcpy(c.key, apiv3_key, 32);
    c.key_set = true;
    return pay_channel_wechatpay.verify(&c, &in, n, why);
}

#define SERIAL "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"

START_TEST(wechat_valid_notice_verifies)
{
    pay_notice n;
    const char *why = NULL;
    char *b = wechat_body("CNY", 10010, "SUCCESS");
    char *s = wechat_sign("1700000000", "n0nce", b);
    ck_assert_int_eq(wechat_check(b, "1700000000", s, SERIAL, 1700000100, &n, &why), 0);
    ck_assert_str_eq(n.order_no, "P2");
    ck_assert_str_eq(n.trade_no, "4200001");
    ck_assert_str_eq(n.notify_id, "EV-1");
    ck_assert_int_eq(n.amount_fen, 10010);
    ck_assert_int_eq(n.st, PAY_ST_SUCCESS);
    free(b);
    free(s);
}
END_TEST

START_TEST(wechat_rejections)
{
    pay_notice n;
    const char *why = NULL;
    char *b = wechat_body("CNY", 100, "SUCCESS");
    char *s = wechat_sign("1700000000", "n0nce", b);
    char *usd = wechat_body("USD", 100, "SUCCESS");
    char *usd_s = wechat_sign("1700000000", "n0nce", usd);
    char *tampered = strdup(b);

    ck_assert_int_eq(wechat_check(b, "1700000000", s, "OTHER", 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "unknown_serial");
    ck_assert_int_eq(wechat_check(b, "1700000000", s, SERIAL, 1700000301, &n, &why), -1);
    ck_assert_str_eq(why, "stale_timestamp");
    ck_assert_int_eq(wechat_check(b, "1700000000", s, SERIAL, 1699999699, &n, &why), -1);
    ck_assert_str_eq(why, "stale_timestamp");
    /* the boundary itself is accepted */
    ck_assert_int_eq(wechat_check(b, "1700000000", s, SERIAL, 1700000300, &n, &why), 0);
    /* signature over another timestamp */
    ck_assert_int_eq(wechat_check(b, "1700000001", s, SERIAL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "bad_signature");
    tampered[strlen(tampered) - 3] = 'X';
    ck_assert_int_eq(wechat_check(tampered, "1700000000", s, SERIAL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "bad_signature");
    ck_assert_int_eq(wechat_check(usd, "1700000000", usd_s, SERIAL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "currency_mismatch");
    ck_assert_int_eq(wechat_check(b, "1700000000", s, NULL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "signature_missing");
    free(b);
    free(s);
    free(usd);
    free(usd_s);
    free(tampered);
}
END_TEST

START_TEST(wechat_wrong_apiv3_key_fails_decrypt)
{
    pay_channel_conf c = {0};
    char *b = wechat_body("CNY", 100, "SUCCESS");
    char *s = wechat_sign("1700000000", "n0nce", b);
    hdrs h = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"},
              {"1700000000", "n0nce", s, SERIAL}, 4};
    pay_input in = {b, strlen(b), hdr_get, &h, 1700000000};
    pay_notice n;
    const char *why = NULL;
    c.public_pem = pub_pem;
    c.serial = SERIAL;
    memset(c.key, 'k', 32);
    c.key_set = true;
    ck_assert_int_eq(pay_channel_wechatpay.verify(&c, &in, &n, &why), -1);
    ck_assert_str_eq(why, "decrypt_failed");
    free(b);
    free(s);
}
END_TEST

/* ---- HMAC channels ---------------------------------------------------- */

/* A refund callback: event_type outside, refund_status and amounts inside. */
static char *wechat_refund_body(const char *event, const char *status, int64_t refund, const char *tag_key)
{
    char inner[512], *ct64, *out = malloc(2048);
    unsigned char *ct = NULL;
    size_t ctlen = 0;
    snprintf(inner, sizeof inner,
             "{\"mchid\":\"1900000001\",\"out_trade_no\":\"P2\",\"transaction_id\":\"4200001\","
             "\"out_refund_no\":\"RF0123456789ABCDEF\",\"refund_id\":\"50300001\",\"refund_status\":\"%s\","
             "\"amount\":{\"total\":500,\"refund\":%lld,\"payer_total\":500,\"payer_refund\":%lld}}",
             status, (long long)refund, (long long)refund);
    ck_assert_int_eq(crypto_aes256gcm_encrypt(tag_key ? (const unsigned char *)tag_key : apiv3_key, "nonce1234567",
                                              12, "refund", 6, inner, strlen(inner), &ct, &ctlen), 0);
    ct64 = crypto_b64_encode(ct, ctlen);
    snprintf(out, 2048,
             "{\"id\":\"EV-R1\",\"event_type\":\"%s\",\"resource_type\":\"encrypt-resource\",\"resource\":"
             "{\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":\"%s\",\"associated_data\":\"refund\","
             "\"nonce\":\"nonce1234567\",\"original_type\":\"refund\"}}",
             event, ct64);
    free(ct);
    free(ct64);
    return out;
}

static int wechat_refund_check(const char *body, const char *sig, time_t now, pay_refund_notice *n,
                               const char **why)
{
    pay_channel_conf c = {0};
    hdrs h = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"},
              {"1700000000", "n0nce", sig, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}, 4};
    pay_input in = {body, strlen(body), hdr_get, &h, now};
    c.name = "wechatpay";
    c.public_pem = pub_pem;
    c.serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    c.app_id = "1900000001";
    memcpy(c.key, apiv3_key, 32);
    c.key_set = true;
    return pay_wechat_refund_verify(&c, &in, n, why);
}

START_TEST(wechat_refund_callbacks_verify_by_event_type)
{
    static const char *const ev[][2] = {
        {"REFUND.SUCCESS", "SUCCESS"}, {"REFUND.ABNORMAL", "ABNORMAL"}, {"REFUND.CLOSED", "CLOSED"}};
    for (size_t i = 0; i < 3; i++) {
        pay_refund_notice n;
        const char *why = NULL;
        char *b = wechat_refund_body(ev[i][0], ev[i][1], 300, NULL);
        char *s = wechat_sign("1700000000", "n0nce", b);
        ck_assert_int_eq(wechat_refund_check(b, s, 1700000010, &n, &why), 0);
        ck_assert(n.authentic);
        ck_assert_str_eq(n.event_type, ev[i][0]);
        ck_assert_str_eq(n.status, ev[i][1]);
        ck_assert_str_eq(n.out_refund_no, "RF0123456789ABCDEF");
        ck_assert_str_eq(n.refund_id, "50300001");
        ck_assert_str_eq(n.notify_id, "EV-R1");
        ck_assert_int_eq(n.amount_fen, 300);
        ck_assert_int_eq(n.total_fen, 500);
        free(b);
        free(s);
    }
}
END_TEST

START_TEST(wechat_refund_callback_rejections)
{
    static const struct {
        const char *event, *status, *key;
        int64_t refund;
        time_t now;
        const char *why;
        bool authentic;
    } cases[] = {
        {"REFUND.SUCCESS", "SUCCESS", NULL, 300, 1700000301, "stale_timestamp", false},
        {"REFUND.SUCCESS", "SUCCESS", "ffffffffffffffffffffffffffffffff", 300, 1700000000, "decrypt_failed", true},
        {"REFUND.SUCCESS", "CLOSED", NULL, 300, 1700000000, "event_status_mismatch", true},
        {"REFUND.UNKNOWN", "SUCCESS", NULL, 300, 1700000000, "unknown_event_type", true},
        {"REFUND.SUCCESS", "SUCCESS", NULL, 0, 1700000000, "bad_amount", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pay_refund_notice n;
        const char *why = NULL;
        char *b = wechat_refund_body(cases[i].event, cases[i].status, cases[i].refund, cases[i].key);
        char *s = wechat_sign("1700000000", "n0nce", b);
        ck_assert_int_eq(wechat_refund_check(b, s, cases[i].now, &n, &why), -1);
        ck_assert_str_eq(why, cases[i].why);
        ck_assert_int_eq(n.authentic, cases[i].authentic);
        free(b);
        free(s);
    }
}
END_TEST

START_TEST(wechat_signature_probes_are_signature_test)
{
    pay_notice n;
    pay_refund_notice rn;
    const char *why = NULL;
    char *b = wechat_body("CNY", 100, "SUCCESS");
    char *rb = wechat_refund_body("REFUND.SUCCESS", "SUCCESS", 300, NULL);
    const char *probe = "WECHATPAY/SIGNTEST/dGVzdA==";

    ck_assert(pay_wechat_signtest(probe));
    ck_assert(!pay_wechat_signtest("WECHATPAY/SIGNTES"));
    ck_assert(!pay_wechat_signtest(NULL));
    ck_assert_int_eq(wechat_check(b, "1700000000", probe, SERIAL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "signature_test");
    ck_assert(!n.authentic);
    ck_assert_int_eq(wechat_refund_check(rb, probe, 1700000000, &rn, &why), -1);
    ck_assert_str_eq(why, "signature_test");
    ck_assert(!rn.authentic);
    free(b);
    free(rb);
}
END_TEST

static int hmac_check(const pay_channel *ch, const char *secret, const char *body, const char *ts,
                      const char *sig_override, time_t now, pay_notice *n, const char **why)
{
    pay_channel_conf c = {0};
    unsigned char mac[32];
    char msg[2048], hex[65];
    hdrs h;
    pay_input in = {body, strlen(body), hdr_get, &h, now};
    snprintf(msg, sizeof msg, "%s\n%s", ts, body);
    crypto_hmac_sha256("s3cret", 6, msg, strlen(msg), mac);
    crypto_hex(mac, 32, hex);
    h = (hdrs){{"X-Pay-Timestamp", "X-Pay-Signature"}, {ts, sig_override ? sig_override : hex}, 2};
    c.name = ch->name;
    c.secret = (char *)secret;
    return ch->verify(&c, &in, n, why);
}

START_TEST(hmac_channels_verify_and_reject)
{
    const char *ok = "{\"notify_id\":\"N1\",\"order_no\":\"P3\",\"trade_no\":\"PA1\","
                     "\"amount_fen\":10010,\"currency\":\"CNY\",\"status\":\"SUCCESS\"}";
    const char *usd = "{\"notify_id\":\"N1\",\"order_no\":\"P3\",\"trade_no\":\"PA1\","
                      "\"amount_fen\":10010,\"currency\":\"USD\",\"status\":\"SUCCESS\"}";
    const char *yuan = "{\"notify_id\":\"N1\",\"order_no\":\"P3\",\"trade_no\":\"PA1\","
                       "\"amount_fen\":\"100.10\",\"currency\":\"CNY\",\"status\":\"SUCCESS\"}";
    pay_notice n;
    const char *why = NULL;
    const pay_channel *chs[] = {&pay_channel_policeapp, &pay_channel_govportal};

    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(hmac_check(chs[i], "s3cret", ok, "1700000000", NULL, 1700000000, &n, &why), 0);
        ck_assert_int_eq(n.amount_fen, 10010);
        ck_assert_str_eq(n.order_no, "P3");
        ck_assert_int_eq(n.st, PAY_ST_SUCCESS);
        ck_assert_int_eq(hmac_check(chs[i], "other", ok, "1700000000", NULL, 1700000000, &n, &why), -1);
        ck_assert_str_eq(why, "bad_signature");
        ck_assert_int_eq(hmac_check(chs[i], "s3cret", ok, "1700000000",
                                    "00000000000000000000000000000000000000000000000000000000000000zz",
                                    1700000000, &n, &why), -1);
        ck_assert_str_eq(why, "bad_signature");
        ck_assert_int_eq(hmac_check(chs[i], "s3cret", ok, "1700000000", NULL, 1700000400, &n, &why), -1);
        ck_assert_str_eq(why, "stale_timestamp");
        ck_assert_int_eq(hmac_check(chs[i], "s3cret", usd, "1700000000", NULL, 1700000000, &n, &why), -1);
        ck_assert_str_eq(why, "currency_mismatch");
        ck_assert_int_eq(hmac_check(chs[i], "s3cret", yuan, "1700000000", NULL, 1700000000, &n, &why), -1);
        ck_assert_str_eq(why, "bad_amount");
        ck_assert_int_eq(hmac_check(chs[i], "", ok, "1700000000", NULL, 1700000000, &n, &why), -1);
        ck_assert_str_eq(why, "channel_not_configured");
    }
}
END_TEST

/* Timestamps are read the one way whole numbers are (app_parse_int):
 * strtoll used to take "+1700000000" and " 1700000000" too. */
START_TEST(timestamps_are_digits_only)
{
    pay_notice n;
    const char *why = NULL;
    const char *ok = "{\"notify_id\":\"N1\",\"order_no\":\"P3\",\"trade_no\":\"PA1\","
                     "\"amount_fen\":10010,\"currency\":\"CNY\",\"status\":\"SUCCESS\"}";

    ck_assert(pay_ts_fresh("1700000000", 1700000000));
    ck_assert(pay_ts_fresh("1700000300", 1700000000));
    ck_assert(pay_ts_fresh("1699999700", 1700000000));
    ck_assert(pay_ts_fresh("01700000000", 1700000000)); /* leading zeros are the number */
    ck_assert(!pay_ts_fresh("1700000301", 1700000000));
    ck_assert(!pay_ts_fresh("1699999699", 1700000000));
    ck_assert(!pay_ts_fresh(NULL, 1700000000));
    ck_assert(!pay_ts_fresh("", 1700000000));
    ck_assert(!pay_ts_fresh("+1700000000", 1700000000));
    ck_assert(!pay_ts_fresh(" 1700000000", 1700000000));
    ck_assert(!pay_ts_fresh("1700000000 ", 1700000000));
    ck_assert(!pay_ts_fresh("1.7e9", 1700000000));
    ck_assert(!pay_ts_fresh("99999999999999999999", 1700000000));
    /* signed over the "+" form, still refused */
    ck_assert_int_eq(hmac_check(&pay_channel_policeapp, "s3cret", ok, "+1700000000", NULL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "stale_timestamp");
}
END_TEST

/* `authentic` tells the notification record whether the channel itself
 * sent a rejected message (kept whole) or anyone could have (digest only):
 * it turns true exactly when the signature verified. */
START_TEST(authentic_only_once_the_signature_verifies)
{
    const char *ok[] = {"app_id=2021000000000001", "out_trade_no=P1", "trade_no=T1",
                        "trade_status=TRADE_SUCCESS", "total_amount=1.00"};
    const char *other_app[] = {"app_id=9999", "out_trade_no=P1", "trade_no=T1",
                               "trade_status=TRADE_SUCCESS", "total_amount=1.00"};
    const char *hm = "{\"notify_id\":\"N1\",\"order_no\":\"P3\",\"trade_no\":\"PA1\","
                     "\"amount_fen\":1,\"currency\":\"USD\",\"status\":\"SUCCESS\"}";
    pay_notice n;
    const char *why = NULL;
    char *b = alipay_body(ok, 5, NULL, NULL, "RSA2");
    char *t = alipay_body(ok, 5, "total_amount", "0.01", "RSA2");
    char *a = alipay_body(other_app, 5, NULL, NULL, "RSA2");
    char *w = wechat_body("CNY", 100, "SUCCESS");
    char *ws = wechat_sign("1700000000", "n0nce", w);
    pay_channel_conf c = {0};
    hdrs h = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"},
              {"1700000000", "n0nce", ws, SERIAL}, 4};
    pay_input in = {w, strlen(w), hdr_get, &h, 1700000000};

    ck_assert_int_eq(alipay_check(b, &n, &why), 0);
    ck_assert(n.authentic);
    ck_assert_int_eq(alipay_check(t, &n, &why), -1);
    ck_assert(!n.authentic);
    ck_assert_int_eq(alipay_check(a, &n, &why), -1);
    ck_assert_str_eq(why, "wrong_app_id");
    ck_assert(n.authentic);
    ck_assert_int_eq(alipay_check("out_trade_no=P1&total_amount=1.00", &n, &why), -1);
    ck_assert(!n.authentic);
    ck_assert_int_eq(wechat_check(w, "1700000000", ws, "OTHER", 1700000000, &n, &why), -1);
    ck_assert(!n.authentic);
    ck_assert_int_eq(wechat_check(w, "1700000000", ws, SERIAL, 1700000000, &n, &why), 0);
    ck_assert(n.authentic);
    /* signed by WeChat but not decryptable with our key: still the channel's */
    c.public_pem = pub_pem;
    c.serial = SERIAL;
    memset(c.key, 'k', 32);
    c.key_set = true;
    ck_assert_int_eq(pay_channel_wechatpay.verify(&c, &in, &n, &why), -1);
    ck_assert_str_eq(why, "decrypt_failed");
    ck_assert(n.authentic);
    ck_assert_int_eq(hmac_check(&pay_channel_policeapp, "other", hm, "1700000000", NULL, 1700000000, &n, &why), -1);
    ck_assert(!n.authentic);
    ck_assert_int_eq(hmac_check(&pay_channel_policeapp, "s3cret", hm, "1700000000", NULL, 1700000000, &n, &why), -1);
    ck_assert_str_eq(why, "currency_mismatch");
    ck_assert(n.authentic);
    free(b);
    free(t);
    free(a);
    free(w);
    free(ws);
}
END_TEST

START_TEST(channel_table_lookup)
{
    ck_assert_ptr_eq(pay_channel_find("alipay"), &pay_channel_alipay);
    ck_assert_ptr_eq(pay_channel_find("wechatpay"), &pay_channel_wechatpay);
    ck_assert_ptr_eq(pay_channel_find("policeapp"), &pay_channel_policeapp);
    ck_assert_ptr_eq(pay_channel_find("govportal"), &pay_channel_govportal);
    ck_assert_ptr_null(pay_channel_find("paypal"));
    ck_assert_ptr_null(pay_channel_find(NULL));
    ck_assert_str_eq(pay_channel_alipay.ok_body, "success");
}
END_TEST

/* ---- outbound: signing, answers, bills ------------------------------ */

START_TEST(alipay_response_span_is_the_exact_signed_text)
{
    const char *body = "{\"alipay_trade_query_response\" : {\"code\":\"10000\",\"msg\":\"Success\",\"a\":\"}\\\"\"},"
                       "\"sign\":\"c2ln\"}";
    size_t off = 0, n = 0;
    char *sign = NULL;

    ck_assert_int_eq(pay_alipay_response_span(body, strlen(body), "alipay_trade_query_response", &off, &n, &sign), 0);
    ck_assert_int_eq((int)n, (int)strlen("{\"code\":\"10000\",\"msg\":\"Success\",\"a\":\"}\\\"\"}"));
    ck_assert(strncmp(body + off, "{\"code\"", 7) == 0);
    ck_assert_str_eq(sign, "c2ln");
    free(sign);
    ck_assert_int_eq(pay_alipay_response_span(body, strlen(body), "error_response", &off, &n, &sign), -1);
    ck_assert_int_eq(pay_alipay_response_span("{\"x_response\":[1]}", 18, "x_response", &off, &n, &sign), -1);
    ck_assert_int_eq(pay_alipay_response_span("{\"x_response\":{", 15, "x_response", &off, &n, &sign), -1);
}
END_TEST

START_TEST(alipay_request_form_is_signed_sorted_and_encoded)
{
    pay_channel_conf c = {0};
    json_t *biz = json_pack("{ss}", "out_trade_no", "P1");
    const char *extra[] = {"notify_url", "https://a.example/n?x=1", NULL};
    char *form, *content = NULL, *sign = NULL, *st = NULL;
    unsigned char *sig;
    size_t siglen;

    c.app_id = "2021000000000001";
    c.private_pem = priv_pem;
    form = pay_alipay_request_form(&c, "alipay.trade.query", biz, extra, 1700000000);
    ck_assert_ptr_nonnull(form);
    ck_assert_ptr_nonnull(strstr(form, "notify_url=https%3A%2F%2Fa.example%2Fn%3Fx%3D1&"));
    ck_assert_ptr_nonnull(strstr(form, "timestamp=2023-11-15%2006%3A13%3A20&")); /* Beijing time */
    /* Alipay signs every parameter but sign (sign_type included) */
    ck_assert_int_eq(pay_alipay_sign_content(form, strlen(form), &content, &sign, &st), 0);
    ck_assert_ptr_nonnull(sign);
    {
        char *full;
        ck_assert_int_ne(asprintf(&full, "%.*s&sign_type=RSA2%s", (int)(strstr(content, "&timestamp=") - content),
                                  content, strstr(content, "&timestamp=")), -1);
        sig = crypto_b64_decode(sign, &siglen);
        ck_assert_int_eq(crypto_rsa_sha256_verify(pub_pem, full, strlen(full), sig, siglen), 1);
        free(full);
        free(sig);
    }
    free(content);
    free(sign);
    free(st);
    free(form);
    c.private_pem = "not a key";
    ck_assert_ptr_null(pay_alipay_request_form(&c, "alipay.trade.query", biz, NULL, 1700000000));
    json_decref(biz);
}
END_TEST

START_TEST(wechat_authorization_signs_method_path_time_nonce_body)
{
    pay_channel_conf c = {0};
    char *a, sigb[400];
    const char *p;
    unsigned char *sig;
    size_t siglen;
    const char *msg = "POST\n/v3/refund/domestic/refunds\n1700000000\nNONCE\n{\"a\":1}\n";

    c.app_id = "1900000001";
    c.merchant_serial = "ABC123";
    c.private_pem = priv_pem;
    a = pay_wechat_authorization(&c, "POST", "/v3/refund/domestic/refunds", "{\"a\":1}", "1700000000", "NONCE");
    ck_assert_ptr_nonnull(a);
    ck_assert(strncmp(a, "WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"NONCE\",signature=\"", 73) == 0);
    ck_assert_ptr_nonnull(strstr(a, ",timestamp=\"1700000000\",serial_no=\"ABC123\""));
    p = strstr(a, "signature=\"") + 11;
    snprintf(sigb, sizeof sigb, "%.*s", (int)(strchr(p, '"') - p), p);
    sig = crypto_b64_decode(sigb, &siglen);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_pem, msg, strlen(msg), sig, siglen), 1);
    free(sig);
    free(a);
}
END_TEST

START_TEST(wechat_several_platform_keys_by_serial)
{
    pay_channel_conf c = {0};
    c.serial = "NEW";
    c.public_pem = "pem-new";
    c.nplatform = 1;
    c.platform_serial[0] = "OLD";
    c.platform_pem[0] = "pem-old";
    ck_assert_str_eq(pay_wechat_platform_key(&c, "NEW"), "pem-new");
    ck_assert_str_eq(pay_wechat_platform_key(&c, "OLD"), "pem-old");
    ck_assert_ptr_null(pay_wechat_platform_key(&c, "OTHER"));
    ck_assert_ptr_null(pay_wechat_platform_key(&c, NULL));
}
END_TEST

START_TEST(wechat_bill_rows_and_summary)
{
    const char *bill =
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
        "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
        "手续费,费率,订单金额,申请退款金额,费率备注\r\n"
        "`2026-12-03 10:00:00,`wx1,`1900000001,`0,`,`4200001234202612031234567890,`P1,`o1,`APP,`SUCCESS,`OTHERS,`CNY,"
        "`100.10,`0.00,`0,`0,`0.00,`0.00,`,`,`fine,`,`0.60,`0.60%,`100.10,`0.00,`\r\n"
        "`2026-12-03 11:00:00,`wx1,`1900000001,`0,`,`4200001234202612031234567890,`P1,`o1,`APP,`REFUND,`OTHERS,`CNY,"
        "`0.00,`0.00,`50000000012026120300000000001,`RF1,`0.10,`0.00,`ORIGINAL,`SUCCESS,`fine,`,`0.00,`0.60%,`0.00,`0.10,`\r\n"
        "`2026-12-03 12:00:00,`wx1,`1900000001,`0,`,`4200009,`P2,`o1,`APP,`SUCCESS,`OTHERS,`CNY,`1.2.3,`0.00,`0,`0,"
        "`0.00,`0.00,`,`,`fine,`,`0.00,`0.60%,`1.00,`0.00,`\r\n"
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
        "`3,`100.10,`0.10,`0.00,`0.60,`100.10,`0.10\r\n";
    pay_stmt s;

    pay_stmt_parse_bill(bill, strlen(bill), PAY_BILL_WECHAT, &s);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.lines[0].type, "payment");
    ck_assert_str_eq(s.lines[0].trade_no, "4200001234202612031234567890");
    ck_assert_str_eq(s.lines[0].order_no, "P1");
    ck_assert_int_eq(s.lines[0].amount, 10010);
    ck_assert_int_eq(s.lines[0].line_no, 2);
    ck_assert_str_eq(s.lines[1].type, "refund");
    ck_assert_str_eq(s.lines[1].trade_no, "50000000012026120300000000001");
    ck_assert_int_eq(s.lines[1].amount, 10);
    ck_assert_int_eq(s.nbad, 1);
    ck_assert_int_eq(s.bad[0].line_no, 4);
    ck_assert_str_eq(s.bad[0].reason, "bad_amount");
    pay_stmt_free(&s);
}
END_TEST

START_TEST(alipay_bill_rows_gbk_or_utf8)
{
    const char *bill = "#支付宝业务明细查询\r\n#账号：[20881234567890120156]\r\n"
                       "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
                       "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
                       "券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n"
                       "2026120322001100000000000001\t,P1\t,交易,fine,t,t,,,,,159****5620,234.00,234.00,0.00,0.00,0.00,0.00,0.00,,"
                       "0.00,0.00,,0.00,0.00,\r\n"
                       "2026120322001100000000000001\t,P1\t,\xCD\xCB\xBF\xEE,fine,t,t,,,,,159****5620,-1.50,-1.50,0.00,0.00,0.00,"
                       "0.00,0.00,,0.00,0.00,RF0001,0.00,0.00,\r\n"
                       "#-----业务明细列表结束-----\r\n#交易合计：1笔\r\n";
    pay_stmt s;

    pay_stmt_parse_bill(bill, strlen(bill), PAY_BILL_ALIPAY, &s);
    ck_assert_int_eq(s.nbad, 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.lines[0].trade_no, "2026120322001100000000000001");
    ck_assert_int_eq(s.lines[0].amount, 23400);
    ck_assert_str_eq(s.lines[1].type, "refund");
    ck_assert_str_eq(s.lines[1].trade_no, "RF0001");
    ck_assert_int_eq(s.lines[1].amount, 150);
    pay_stmt_free(&s);
}
END_TEST

static size_t put16(unsigned char *out, size_t p, uint32_t v)
{
    out[p] = (unsigned char)v;
    out[p + 1] = (unsigned char)(v >> 8);
    return p + 2;
}

/* A zip of one deflated entry, built the way Alipay's bill is. */
static size_t make_zip(unsigned char *out, const char *name, const char *text)
{
    unsigned char comp[4096];
    z_stream z;
    size_t nl = strlen(name), tl = strlen(text), cl, p = 0, cd;
    uLong crc = crc32(0L, (const Bytef *)text, (uInt)tl);

    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)tl;
    z.next_out = comp;
    z.avail_out = sizeof comp;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    cl = z.total_out;
    deflateEnd(&z);
#define W16(v) p = put16(out, p, (uint32_t)(v))
#define W32(v) p = put16(out, put16(out, p, (uint32_t)(v) & 0xffff), (uint32_t)(v) >> 16)
    W32(0x04034b50); W16(20); W16(0); W16(8); W16(0); W16(0); W32(crc); W32(cl); W32(tl); W16(nl); W16(0);
    memcpy(out + p, name, nl); p += nl;
    memcpy(out + p, comp, cl); p += cl;
    cd = p;
    W32(0x02014b50); W16(20); W16(20); W16(0); W16(8); W16(0); W16(0); W32(crc); W32(cl); W32(tl); W16(nl);
    W16(0); W16(0); W16(0); W16(0); W32(0); W32(0);
    memcpy(out + p, name, nl); p += nl;
    W32(0x06054b50); W16(0); W16(0); W16(1); W16(1); W32(p - cd); W32(cd); W16(0);
#undef W16
#undef W32
    return p;
}

START_TEST(unzip_reads_the_detail_and_refuses_garbage)
{
    unsigned char z[8192];
    size_t n = make_zip(z, "2088_20261203_detail.csv", "hello bill\n"), outlen = 0;
    char *t = pay_unzip_first(z, n, 1 << 20, &outlen);

    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "hello bill\n");
    ck_assert_int_eq((int)outlen, 11);
    free(t);
    ck_assert_ptr_null(pay_unzip_first(z, n, 4, &outlen)); /* larger than allowed */
    ck_assert_ptr_null(pay_unzip_first((const unsigned char *)"not a zip at all, really not", 28, 1 << 20, &outlen));
    z[30 + 24 + 3] ^= 0x01; /* one bit of the deflate stream: inflate fails or the CRC does */
    ck_assert_ptr_null(pay_unzip_first(z, n, 1 << 20, &outlen));
}
END_TEST

Suite *channel_suite(void)
{
    Suite *s = suite_create("channel");
    TCase *t = check_tcase(s, "verifiers", CHECK_TESTS(alipay_valid_notice_verifies,
                      alipay_yuan_amounts_exact, alipay_malformed_amounts_rejected,
                      alipay_tampered_amount_rejected, alipay_other_key_rejected,
                      alipay_wrong_app_id_rejected, alipay_sign_type_rsa1_rejected,
                      alipay_missing_sign_and_repeated_key_rejected,
                      alipay_trade_closed_is_closed, alipay_sign_content_sorted_decoded,
                      form_degenerate_bodies, verifiers_reject_empty_and_degenerate_bodies,
                      wechat_valid_notice_verifies, wechat_rejections,
                      wechat_wrong_apiv3_key_fails_decrypt, hmac_channels_verify_and_reject,
                      timestamps_are_digits_only, authentic_only_once_the_signature_verifies, channel_table_lookup,
                      alipay_response_span_is_the_exact_signed_text, alipay_request_form_is_signed_sorted_and_encoded,
                      wechat_authorization_signs_method_path_time_nonce_body, wechat_several_platform_keys_by_serial,
                      wechat_bill_rows_and_summary, alipay_bill_rows_gbk_or_utf8, unzip_reads_the_detail_and_refuses_garbage,
                      wechat_refund_callbacks_verify_by_event_type, wechat_refund_callback_rejections,
                      wechat_signature_probes_are_signature_test));
    tcase_add_unchecked_fixture(t, setup, NULL);
    tcase_set_timeout(t, 30);
    return s;
}
