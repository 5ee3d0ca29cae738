/* fuzz_channel: payment channel notifications (modules/payments:
 * channel_alipay.c, channel_wechatpay.c, channel_hmac.c) and the helpers
 * they share (form decoding, Alipay's content to sign, timestamps).
 *
 * The first byte picks a mode; without a valid signature a verifier stops
 * early, so most modes sign what the fuzzer wrote with the harness's own
 * keys, to reach the parsing behind the signature:
 *   0  alipay, the rest is the form body as received
 *   1  alipay, the body re-signed (sign_type=RSA2, sign= appended)
 *   2  wechatpay, "timestamp\nnonce\nserial\nsignature\nbody" as received
 *   3  wechatpay, the rest is the decrypted resource (JSON): encrypted with
 *      the API v3 key, wrapped and signed
 *   4  policeapp, "timestamp\nsignature\nbody" as received
 *   5  policeapp, the body signed (HMAC)
 *   6  govportal, the body signed (HMAC)
 * The clock is pinned (1700000000), the RSA key is made once per process:
 * the same input takes the same path every run. */
#include "tests/fuzz/fuzz_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <strings.h>

#include "modules/payments/channel.h"
#include "server/crypto.h"

#define NOW 1700000000
#define NOW_S "1700000000"
#define SERIAL "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
#define SECRET "fuzz-hmac-secret-0123456789abcdef"

static char *priv_pem, *pub_pem;
static const unsigned char apiv3_key[32] = "0123456789abcdef0123456789abcdef";

static char *bio_text(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        abort();
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    BIO *b = BIO_new(BIO_s_mem());
    if (k == NULL || b == NULL || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
        abort();
    priv_pem = bio_text(b);
    (void)BIO_reset(b);
    if (!PEM_write_bio_PUBKEY(b, k))
        abort();
    pub_pem = bio_text(b);
    BIO_free(b);
    EVP_PKEY_free(k);
    return 0;
}

typedef struct hdrs {
    const char *k[4];
    const char *v[4];
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

static char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(s) + 1), *o = out;
    if (out == NULL)
        abort();
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '*') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

static char *rsa_sign_b64(const char *msg, size_t n)
{
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *b64;
    if (crypto_rsa_sha256_sign(priv_pem, msg, n, &sig, &siglen) != 0)
        abort();
    b64 = crypto_b64_encode(sig, siglen);
    free(sig);
    return b64;
}

/* What every verifier promises about its output. */
static void check_notice(int rc, const pay_notice *n, const char *why)
{
    FUZZ_ASSERT(memchr(n->order_no, '\0', sizeof n->order_no));
    FUZZ_ASSERT(memchr(n->trade_no, '\0', sizeof n->trade_no));
    FUZZ_ASSERT(memchr(n->notify_id, '\0', sizeof n->notify_id));
    FUZZ_ASSERT(memchr(n->status, '\0', sizeof n->status));
    FUZZ_ASSERT(memchr(n->currency, '\0', sizeof n->currency));
    if (rc == 0) {
        FUZZ_ASSERT(n->authentic);
        FUZZ_ASSERT(n->order_no[0] != '\0' && n->trade_no[0] != '\0');
        FUZZ_ASSERT(n->amount_fen >= 0);
        FUZZ_ASSERT(n->st == PAY_ST_SUCCESS || n->st == PAY_ST_PENDING || n->st == PAY_ST_CLOSED);
        FUZZ_ASSERT(strcmp(n->currency, "CNY") == 0);
    } else {
        FUZZ_ASSERT(rc == -1 && why != NULL && why[0] != '\0');
    }
}

static void run(const pay_channel *ch, const pay_channel_conf *cf, const char *body, size_t len,
                const hdrs *h)
{
    pay_input in = {body, len, hdr_get, h, NOW};
    pay_notice n;
    const char *why = NULL;
    int rc;
    memset(&n, 0x5a, sizeof n); /* a verifier must fill, not inherit */
    rc = ch->verify(cf, &in, &n, &why);
    check_notice(rc, &n, why);
}

static void alipay(const char *body, size_t len, bool resign)
{
    pay_channel_conf cf = {.name = "alipay", .app_id = "2021000000000001", .public_pem = pub_pem};
    char *content = NULL, *sign = NULL, *sign_type = NULL, *v;
    hdrs none = {{NULL}, {NULL}, 0};
    int rc = pay_alipay_sign_content(body, len, &content, &sign, &sign_type);

    if (rc == 0) {
        FUZZ_ASSERT(content != NULL);
        FUZZ_ASSERT(strstr(content, "sign=") != content); /* sign is never signed */
    }
    if (resign && rc == 0 && sign == NULL) {
        char *b64 = rsa_sign_b64(content, strlen(content)), *enc = url_encode(b64);
        size_t n = len + strlen(enc) + 40;
        char *signed_body = malloc(n);
        if (signed_body == NULL)
            abort();
        /* keep a sign_type the fuzzer gave (the verifier refuses one not RSA2) */
        if (sign_type)
            snprintf(signed_body, n, "%.*s&sign=%s", (int)len, body, enc);
        else
            snprintf(signed_body, n, "%.*s%ssign_type=RSA2&sign=%s", (int)len, body, len ? "&" : "", enc);
        run(&pay_channel_alipay, &cf, signed_body, strlen(signed_body), &none);
        free(signed_body);
        free(enc);
        free(b64);
    } else {
        run(&pay_channel_alipay, &cf, body, len, &none);
    }
    free(content);
    free(sign);
    free(sign_type);
    if ((v = pay_form_get(body, len, "out_trade_no")) != NULL)
        free(v);
    if ((v = pay_url_decode(body, len)) != NULL) {
        FUZZ_ASSERT(strlen(v) <= len);
        free(v);
    }
}

static pay_channel_conf wechat_conf(void)
{
    pay_channel_conf cf = {.name = "wechatpay", .app_id = "1900000001", .public_pem = pub_pem,
                           .serial = SERIAL, .key_set = true};
    memcpy(cf.key, apiv3_key, 32);
    return cf;
}

static void wechat_raw(char *s)
{
    pay_channel_conf cf = wechat_conf();
    char *f[4], *body;
    hdrs h = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature"}, {0}, 4};
    f[0] = s;
    for (int i = 1; i < 4; i++)
        f[i] = fuzz_line(f[i - 1]);
    body = fuzz_line(f[3]);
    for (int i = 0; i < 4; i++)
        h.v[i] = f[i];
    (void)pay_ts_fresh(f[0], NOW);
    run(&pay_channel_wechatpay, &cf, body, strlen(body), &h);
}

static void wechat_signed(const char *inner, size_t len)
{
    pay_channel_conf cf = wechat_conf();
    unsigned char *ct = NULL;
    size_t ctlen = 0;
    char *ct64, *body, *msg, *sig;
    size_t n;
    hdrs h = {{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature"},
              {NOW_S, "fuzzn0nce", SERIAL, NULL}, 4};

    if (crypto_aes256gcm_encrypt(apiv3_key, "nonce1234567", 12, "transaction", 11, inner, len, &ct,
                                 &ctlen) != 0)
        abort();
    ct64 = crypto_b64_encode(ct, ctlen);
    n = strlen(ct64) + 400;
    body = malloc(n);
    msg = malloc(n + 64);
    if (body == NULL || msg == NULL)
        abort();
    snprintf(body, n,
             "{\"id\":\"EV-1\",\"event_type\":\"TRANSACTION.SUCCESS\",\"resource\":{\"algorithm\":"
             "\"AEAD_AES_256_GCM\",\"ciphertext\":\"%s\",\"associated_data\":\"transaction\","
             "\"nonce\":\"nonce1234567\"}}",
             ct64);
    snprintf(msg, n + 64, "%s\n%s\n%s\n", NOW_S, "fuzzn0nce", body);
    sig = rsa_sign_b64(msg, strlen(msg));
    h.v[3] = sig;
    run(&pay_channel_wechatpay, &cf, body, strlen(body), &h);
    free(sig);
    free(msg);
    free(body);
    free(ct64);
    free(ct);
}

static void hmac_raw(char *s)
{
    pay_channel_conf cf = {.name = "policeapp", .secret = SECRET};
    char *sig = fuzz_line(s), *body = fuzz_line(sig);
    hdrs h = {{"X-Pay-Timestamp", "X-Pay-Signature"}, {s, sig}, 2};
    run(&pay_channel_policeapp, &cf, body, strlen(body), &h);
}

static void hmac_signed(const pay_channel *ch, const char *body, size_t len)
{
    pay_channel_conf cf = {.name = ch->name, .secret = SECRET};
    size_t n = strlen(NOW_S) + 1 + len;
    char *msg = malloc(n + 1), hex[65];
    unsigned char mac[32];
    hdrs h = {{"X-Pay-Timestamp", "X-Pay-Signature"}, {NOW_S, hex}, 2};
    if (msg == NULL)
        abort();
    memcpy(msg, NOW_S "\n", strlen(NOW_S) + 1);
    memcpy(msg + strlen(NOW_S) + 1, body, len);
    crypto_hmac_sha256(SECRET, strlen(SECRET), msg, n, mac);
    crypto_hex(mac, 32, hex);
    run(ch, &cf, body, len, &h);
    free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *rest = (const char *)data + 1;
    size_t len;
    char *s;

    if (size < 1)
        return 0;
    len = size - 1;
    s = fuzz_str(data + 1, len);
    switch (data[0] % 7) {
    case 0: alipay(rest, len, false); break;
    case 1: alipay(rest, len, true); break;
    case 2: wechat_raw(s); break;
    case 3: wechat_signed(rest, len); break;
    case 4: hmac_raw(s); break;
    case 5: hmac_signed(&pay_channel_policeapp, rest, len); break;
    default: hmac_signed(&pay_channel_govportal, rest, len); break;
    }
    free(s);
    return 0;
}
