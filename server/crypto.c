/* crypto.c - thin wrappers over OpenSSL 3 (EVP, HMAC, RAND, PEM).
 * Every primitive is OpenSSL's; this file only does encoding, parsing,
 * buffer layout and error mapping. See crypto.h for the contract.
 */
#include "crypto.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define GCM_TAG_LEN 16
#define SEAL_NONCE_LEN 12
#define SEAL_HDR_LEN (1 + SEAL_NONCE_LEN)
#define KEYRING_MAX 16
#define PW_PREFIX "pbkdf2-sha256$"
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_MAX_ITERATIONS 100000000L /* a corrupt row must not pin a CPU forever */

struct crypto_keyring {
    int n;
    int active; /* index into ids/keys */
    uint8_t ids[KEYRING_MAX];
    unsigned char keys[KEYRING_MAX][32];
    unsigned char lookup[32];
};

/* Out of memory is not recoverable here: callers treat it as fatal. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        abort();
    return p;
}

/* Wipe and free; for buffers that held keys or plaintext. */
static void secure_free(void *p, size_t n)
{
    if (p != NULL)
        OPENSSL_cleanse(p, n);
    free(p);
}

/* ---- hex ---------------------------------------------------------------- */

void crypto_hex(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

int crypto_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crypto_unhex(const char *hex, void *out, size_t outcap)
{
    unsigned char *o = out;
    size_t len = 0;
    int rc = -1;

    if (hex == NULL)
        goto fail;
    len = strlen(hex);
    if (len % 2 != 0 || len / 2 > outcap || len / 2 > INT_MAX)
        goto fail;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = crypto_hex_digit(hex[2 * i]), lo = crypto_hex_digit(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            goto fail;
        o[i] = (unsigned char)(hi << 4 | lo);
    }
    rc = (int)(len / 2);
fail:
    return rc;
}

/* ---- base64 ------------------------------------------------------------- */

/* EVP_EncodeBlock/DecodeBlock take int lengths: work in chunks well below
 * INT_MAX (multiples of 3 input / 4 output bytes). */
#define B64_CHUNK (3u * 1024u * 1024u)

int crypto_b64_digit(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}


char *crypto_b64_encode(const void *in, size_t n)
{
    const unsigned char *p = in;
    char *out = NULL;
    size_t o = 0;

    if (n > (SIZE_MAX - 8) / 4 * 3)
        abort(); /* the result could not be allocated anyway */
    out = xmalloc((n + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < n; i += B64_CHUNK) {
        size_t c = n - i < B64_CHUNK ? n - i : B64_CHUNK;

        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, p + i, (int)c);
    }
    out[o] = '\0';
    return out;
}

/* Strict RFC 4648 decode: length a multiple of 4, alphabet only, at most two
 * '=' and only at the end, unused bits zero (one canonical encoding each). */
unsigned char *crypto_b64_decode(const char *in, size_t *outlen)
{
    unsigned char *out = NULL, *ret = NULL;
    size_t len = 0, pad = 0, o = 0;

    if (in == NULL)
        goto fail;
    len = strlen(in);
    if (len % 4 != 0)
        goto fail;
    if (len > 0 && in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (crypto_b64_digit((unsigned char)in[i], false) < 0)
            goto fail;
    /* Non-zero bits left over by the last character are malformed. */
    if (pad == 2 && (crypto_b64_digit((unsigned char)in[len - 3], false) & 0x0f) != 0)
        goto fail;
    if (pad == 1 && (crypto_b64_digit((unsigned char)in[len - 2], false) & 0x03) != 0)
        goto fail;
    out = xmalloc(len / 4 * 3 + 1);
    for (size_t i = 0; i < len; i += B64_CHUNK / 3 * 4) {
        size_t c = len - i < B64_CHUNK / 3 * 4 ? len - i : B64_CHUNK / 3 * 4;
        int r = EVP_DecodeBlock(out + o, (const unsigned char *)in + i, (int)c);

        if (r < 0)
            goto fail;
        o += (size_t)r;
    }
    o -= pad; /* EVP_DecodeBlock counts padding as zero bytes */
    out[o] = '\0';
    if (outlen != NULL)
        *outlen = o;
    ret = out;
    out = NULL;
fail:
    free(out);
    return ret;
}

char *crypto_b64url_encode(const void *in, size_t n)
{
    char *s = crypto_b64_encode(in, n);
    size_t i = 0;

    for (; s[i] != '\0' && s[i] != '='; i++) {
        if (s[i] == '+')
            s[i] = '-';
        else if (s[i] == '/')
            s[i] = '_';
    }
    s[i] = '\0';
    return s;
}

/* base64url without padding (RFC 7515 style): '=' is rejected. */
unsigned char *crypto_b64url_decode(const char *in, size_t *outlen)
{
    char *std = NULL;
    unsigned char *out = NULL;
    size_t len = 0;

    if (in == NULL)
        goto fail;
    len = strlen(in);
    if (len % 4 == 1 || len > SIZE_MAX - 4)
        goto fail;
    std = xmalloc(len + 3);
    for (size_t i = 0; i < len; i++) {
        char c = in[i];

        /* '+', '/' and '=' belong to the other alphabet: malformed here. */
        if (c == '+' || c == '/' || c == '=')
            goto fail;
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (len % 4 != 0)
        std[len++] = '=';
    std[len] = '\0';
    out = crypto_b64_decode(std, outlen);
fail:
    free(std);
    return out;
}

/* ---- hashes ------------------------------------------------------------- */

void crypto_sha256(const void *in, size_t n, unsigned char out[32])
{
    static const unsigned char empty = 0;

    /* Only fails on allocation failure or a broken library. */
    if (!EVP_Digest(in != NULL ? in : &empty, n, out, NULL, EVP_sha256(), NULL))
        abort();
}

void crypto_sha256_hex(const void *in, size_t n, char out[65])
{
    unsigned char d[32];

    crypto_sha256(in, n, d);
    crypto_hex(d, sizeof(d), out);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *in, size_t n,
                        unsigned char out[32])
{
    static const unsigned char empty = 0;
    unsigned int len = 0;

    if (keylen > INT_MAX)
        abort();
    /* NULL pointers with zero length are legal for callers; OpenSSL wants
     * real pointers. */
    if (HMAC(EVP_sha256(), key != NULL ? key : &empty, (int)keylen,
             in != NULL ? in : &empty, n, out, &len) == NULL || len != 32)
        abort();
}

bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    /* Lengths are not secret; only the contents are compared in constant time. */
    return alen == blen && (alen == 0 || CRYPTO_memcmp(a, b, alen) == 0);
}

int crypto_random(void *out, size_t n)
{
    unsigned char *p = out;
    int rc = -1;

    while (n > 0) {
        int c = n > INT_MAX ? INT_MAX : (int)n;

        if (RAND_bytes(p, c) != 1)
            goto fail;
        p += c;
        n -= (size_t)c;
    }
    rc = 0;
fail:
    return rc;
}

int crypto_random_hex(size_t n, char *out)
{
    unsigned char *buf = xmalloc(n);
    int rc = -1;

    if (crypto_random(buf, n) != 0)
        goto fail;
    crypto_hex(buf, n, out);
    rc = 0;
fail:
    secure_free(buf, n);
    return rc;
}

/* ---- passwords ---------------------------------------------------------- */

static int pbkdf2(const char *password, const unsigned char *salt, size_t saltlen,
                  long iterations, unsigned char *out, size_t outlen)
{
    size_t pwlen = strlen(password);
    int rc = -1;

    if (pwlen > INT_MAX || saltlen > INT_MAX || outlen > INT_MAX || iterations < 1 ||
        iterations > INT_MAX)
        goto fail;
    if (PKCS5_PBKDF2_HMAC(password, (int)pwlen, salt, (int)saltlen, (int)iterations,
                          EVP_sha256(), (int)outlen, out) != 1)
        goto fail;
    rc = 0;
fail:
    return rc;
}

int crypto_password_hash(const char *password, int iterations, char **out)
{
    unsigned char salt[PW_SALT_LEN], hash[PW_HASH_LEN];
    char *salt64 = NULL, *hash64 = NULL, *s = NULL;
    size_t cap = 0;
    int rc = -1;

    if (password == NULL || out == NULL || iterations < 1 || iterations > PW_MAX_ITERATIONS)
        goto fail;
    if (crypto_random(salt, sizeof(salt)) != 0)
        goto fail;
    if (pbkdf2(password, salt, sizeof(salt), iterations, hash, sizeof(hash)) != 0)
        goto fail;
    salt64 = crypto_b64_encode(salt, sizeof(salt));
    hash64 = crypto_b64_encode(hash, sizeof(hash));
    cap = sizeof(PW_PREFIX) + 12 + strlen(salt64) + 1 + strlen(hash64) + 1;
    s = xmalloc(cap);
    snprintf(s, cap, PW_PREFIX "%d$%s$%s", iterations, salt64, hash64);
    *out = s;
    rc = 0;
fail:
    OPENSSL_cleanse(hash, sizeof(hash));
    free(salt64);
    free(hash64);
    return rc;
}

/* Strict decimal: digits only, no sign or leading zero, within 1..max. */
static long parse_decimal(const char *s, size_t len, long max)
{
    long v = 0, rc = -1;

    if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
        goto fail;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            goto fail;
        v = v * 10 + (s[i] - '0');
    }
    if (v >= 1 && v <= max)
        rc = v;
fail:
    return rc;
}

int crypto_password_verify(const char *password, const char *stored)
{
    char *copy = NULL, *iter_s = NULL, *salt_s = NULL, *hash_s = NULL;
    unsigned char *salt = NULL, *want = NULL, *got = NULL;
    size_t saltlen = 0, wantlen = 0;
    long iterations = -1;
    int rc = -1;

    if (password == NULL || stored == NULL || strncmp(stored, PW_PREFIX, strlen(PW_PREFIX)) != 0)
        goto fail;
    copy = xmalloc(strlen(stored) + 1);
    strcpy(copy, stored);
    iter_s = copy + strlen(PW_PREFIX);
    if ((salt_s = strchr(iter_s, '$')) == NULL)
        goto fail;
    *salt_s++ = '\0';
    if ((hash_s = strchr(salt_s, '$')) == NULL)
        goto fail;
    *hash_s++ = '\0';
    if (strchr(hash_s, '$') != NULL)
        goto fail;
    if ((iterations = parse_decimal(iter_s, strlen(iter_s), PW_MAX_ITERATIONS)) < 0)
        goto fail;
    if ((salt = crypto_b64_decode(salt_s, &saltlen)) == NULL || saltlen < 1 || saltlen > 64)
        goto fail;
    if ((want = crypto_b64_decode(hash_s, &wantlen)) == NULL || wantlen < 16 || wantlen > 64)
        goto fail;
    got = xmalloc(wantlen);
    if (pbkdf2(password, salt, saltlen, iterations, got, wantlen) != 0)
        goto fail;
    rc = CRYPTO_memcmp(got, want, wantlen) == 0 ? 1 : 0;
fail:
    free(copy);
    free(salt);
    secure_free(want, wantlen);
    secure_free(got, wantlen);
    return rc;
}

/* ---- keyring and sealed values ------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decode exactly 64 hex characters [s, s+len) into a 32-byte key. */
static int parse_key_hex(const char *s, size_t len, unsigned char key[32])
{
    char buf[65];
    int rc = -1;

    if (len != 64)
        goto fail;
    memcpy(buf, s, 64);
    buf[64] = '\0';
    if (crypto_unhex(buf, key, 32) == 32)
        rc = 0;
fail:
    return rc;
}

crypto_keyring *crypto_keyring_new(const char *spec, int active, const char *lookup_key_hex,
                                   const char **why)
{
    crypto_keyring *k = NULL, *ret = NULL;
    const char *p = NULL, *reason = "bad keyring";

    if (spec == NULL || lookup_key_hex == NULL) {
        reason = "keyring spec or lookup key missing";
        goto fail;
    }
    k = xmalloc(sizeof(*k));
    memset(k, 0, sizeof(*k));
    k->active = -1;
    p = spec;
    for (;;) {
        const char *end = strchr(p, ','), *colon = NULL;
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        long id = -1;

        /* Tolerate blanks around entries (keys come from env files). */
        while (len > 0 && is_space(*p))
            p++, len--;
        while (len > 0 && is_space(p[len - 1]))
            len--;
        colon = memchr(p, ':', len);
        if (colon == NULL) {
            reason = "keyring entry must be <id>:<64 hex>";
            goto fail;
        }
        if ((id = parse_decimal(p, (size_t)(colon - p), 255)) < 0) {
            reason = "keyring key id must be 1..255";
            goto fail;
        }
        for (int i = 0; i < k->n; i++)
            if (k->ids[i] == id) {
                reason = "duplicate keyring key id";
                goto fail;
            }
        if (k->n == KEYRING_MAX) {
            reason = "too many keyring keys (max 16)";
            goto fail;
        }
        if (parse_key_hex(colon + 1, len - (size_t)(colon + 1 - p), k->keys[k->n]) != 0) {
            reason = "keyring key must be 64 hex chars";
            goto fail;
        }
        k->ids[k->n] = (uint8_t)id;
        if (id == active)
            k->active = k->n;
        k->n++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (k->active < 0) {
        reason = "active key id not in keyring";
        goto fail;
    }
    if (parse_key_hex(lookup_key_hex, strlen(lookup_key_hex), k->lookup) != 0) {
        reason = "lookup key must be 64 hex chars";
        goto fail;
    }
    reason = NULL;
    ret = k;
    k = NULL;
fail:
    crypto_keyring_free(k);
    if (why != NULL)
        *why = reason;
    return ret;
}

void crypto_keyring_free(crypto_keyring *k)
{
    secure_free(k, sizeof(*k));
}

/* AES-256-GCM into a caller buffer, one way or the other. Encrypting, in is
 * the plaintext and out gets inlen bytes of ciphertext then the 16-byte tag;
 * decrypting, in is that and out gets inlen - 16 bytes, or -1 on a bad tag
 * (out cleansed: never leave unauthenticated plaintext). */
static int gcm_crypt(int enc, const unsigned char key[32], const void *nonce, size_t nlen,
                     const void *aad, size_t aadlen, const unsigned char *in, size_t inlen,
                     unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char tag[GCM_TAG_LEN];
    size_t ptlen = 0;
    int len = 0, rc = -1;

    if (nonce == NULL || nlen == 0 || nlen > INT_MAX || aadlen > INT_MAX ||
        (aad == NULL && aadlen > 0) || (in == NULL && inlen > 0) ||
        inlen > INT_MAX - 2 * GCM_TAG_LEN || (!enc && inlen < GCM_TAG_LEN))
        goto fail;
    ptlen = enc ? inlen : inlen - GCM_TAG_LEN;
    if (!enc)
        memcpy(tag, in + ptlen, GCM_TAG_LEN); /* SET_TAG wants a writable buffer */
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto fail;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)nlen, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
        goto fail;
    if (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
        goto fail;
    if (ptlen > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)ptlen) != 1)
        goto fail;
    if (enc ? EVP_CipherFinal_ex(ctx, out + ptlen, &len) != 1 ||
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, out + ptlen) != 1
            : EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, tag) != 1 ||
                  EVP_CipherFinal_ex(ctx, out + ptlen, &len) != 1)
        goto fail;
    rc = 0;
fail:
    EVP_CIPHER_CTX_free(ctx);
    if (rc != 0 && !enc && ptlen > 0)
        OPENSSL_cleanse(out, ptlen);
    return rc;
}

int crypto_aes256gcm_encrypt(const unsigned char key[32], const void *nonce, size_t nlen,
                             const void *aad, size_t aadlen, const void *pt, size_t ptlen,
                             unsigned char **out, size_t *outlen)
{
    unsigned char *buf = NULL;
    int rc = -1;

    if (key == NULL || out == NULL || outlen == NULL || ptlen > INT_MAX - 2 * GCM_TAG_LEN)
        goto fail;
    buf = xmalloc(ptlen + GCM_TAG_LEN);
    if (gcm_crypt(1, key, nonce, nlen, aad, aadlen, pt, ptlen, buf) != 0)
        goto fail;
    *out = buf;
    *outlen = ptlen + GCM_TAG_LEN;
    buf = NULL;
    rc = 0;
fail:
    free(buf);
    return rc;
}

int crypto_aes256gcm_decrypt(const unsigned char key[32], const void *nonce, size_t nlen,
                             const void *aad, size_t aadlen, const void *ct, size_t ctlen,
                             unsigned char **out, size_t *outlen)
{
    unsigned char *buf = NULL;
    size_t ptlen = 0;
    int rc = -1;

    if (key == NULL || ct == NULL || out == NULL || ctlen < GCM_TAG_LEN ||
        ctlen > INT_MAX - GCM_TAG_LEN)
        goto fail;
    ptlen = ctlen - GCM_TAG_LEN;
    buf = xmalloc(ptlen + 1);
    if (gcm_crypt(0, key, nonce, nlen, aad, aadlen, ct, ctlen, buf) != 0)
        goto fail;
    buf[ptlen] = '\0';
    *out = buf;
    if (outlen != NULL)
        *outlen = ptlen;
    buf = NULL;
    rc = 0;
fail:
    secure_free(buf, ptlen + 1);
    return rc;
}

int crypto_seal(const crypto_keyring *k, const char *aad, const void *pt, size_t ptlen,
                unsigned char **out, size_t *outlen)
{
    unsigned char *buf = NULL;
    size_t total = 0;
    int rc = -1;

    if (k == NULL || out == NULL || outlen == NULL || (pt == NULL && ptlen > 0) ||
        ptlen > INT_MAX - 2 * GCM_TAG_LEN - SEAL_HDR_LEN)
        goto fail;
    if (aad == NULL)
        aad = "";
    total = SEAL_HDR_LEN + ptlen + GCM_TAG_LEN;
    buf = xmalloc(total);
    buf[0] = k->ids[k->active];
    /* Random 96-bit nonces: safe far beyond the row counts of this system. */
    if (crypto_random(buf + 1, SEAL_NONCE_LEN) != 0)
        goto fail;
    if (gcm_crypt(1, k->keys[k->active], buf + 1, SEAL_NONCE_LEN, aad, strlen(aad), pt,
                         ptlen, buf + SEAL_HDR_LEN) != 0)
        goto fail;
    *out = buf;
    *outlen = total;
    buf = NULL;
    rc = 0;
fail:
    free(buf);
    return rc;
}

int crypto_open(const crypto_keyring *k, const char *aad, const void *sealed, size_t len,
                unsigned char **out, size_t *outlen)
{
    const unsigned char *s = sealed;

    if (k == NULL || s == NULL || out == NULL || len < SEAL_HDR_LEN + GCM_TAG_LEN)
        return -1;
    for (int i = 0; i < k->n; i++)
        if (k->ids[i] == s[0])
            return crypto_aes256gcm_decrypt(k->keys[i], s + 1, SEAL_NONCE_LEN, aad ? aad : "",
                                            aad ? strlen(aad) : 0, s + SEAL_HDR_LEN,
                                            len - SEAL_HDR_LEN, out, outlen);
    return -1; /* unknown key id: retired key or garbage */
}

/* Normalization for lookups: surrounding ASCII whitespace is dropped and
 * ASCII letters are upper-cased (ID check digit 'x'/'X', plate letters), so
 * "33010219900101123x " and "33010219900101123X" find the same row. */
void crypto_lookup_hash(const crypto_keyring *k, const char *purpose, const char *value,
                        unsigned char out[32])
{
    size_t plen = 0, vlen = 0;
    unsigned char *msg = NULL;

    if (k == NULL)
        abort(); /* a programming error, not a runtime condition */
    if (purpose == NULL)
        purpose = "";
    if (value == NULL)
        value = "";
    while (is_space(*value))
        value++;
    vlen = strlen(value);
    while (vlen > 0 && is_space(value[vlen - 1]))
        vlen--;
    plen = strlen(purpose);
    msg = xmalloc(plen + 1 + vlen);
    memcpy(msg, purpose, plen);
    msg[plen] = 0;
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];

        msg[plen + 1 + i] = c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
    }
    crypto_hmac_sha256(k->lookup, sizeof(k->lookup), msg, plen + 1 + vlen, out);
    secure_free(msg, plen + 1 + vlen);
}

/* ---- masking ------------------------------------------------------------ */

/* Byte length of the UTF-8 character at s; malformed bytes count as one
 * character each so we never read past the terminator. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = 1;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    /* A truncated sequence stops at the first non-continuation byte (the
     * terminator included), so this never reads past the string. */
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            n = 1;
    return n;
}

/* Keep the first `head` and last `tail` characters and replace each other
 * character by '*'; inputs of at most head+tail characters are all '*'. */
static char *mask(const char *s, size_t head, size_t tail)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = 0, nchars = 0, head_end = 0, tail_start = 0, o = 0;
    char *out = NULL;

    if (s == NULL)
        goto done;
    len = strlen(s);
    for (size_t i = 0; i < len; i += utf8_len(u + i))
        nchars++;
    /* Each character is at least one byte, so len + 1 always suffices. */
    out = xmalloc(len + 1);
    if (nchars <= head + tail) {
        memset(out, '*', nchars);
        out[nchars] = '\0';
        goto done;
    }
    tail_start = len;
    for (size_t i = 0, c = 0; i < len; i += utf8_len(u + i), c++) {
        if (c == head)
            head_end = i;
        if (c == nchars - tail)
            tail_start = i;
    }
    memcpy(out, s, head_end);
    o = head_end;
    memset(out + o, '*', nchars - head - tail);
    o += nchars - head - tail;
    memcpy(out + o, s + tail_start, len - tail_start);
    o += len - tail_start;
    out[o] = '\0';
done:
    return out;
}

char *crypto_mask_id(const char *id)
{
    return mask(id, 6, 4);
}

char *crypto_mask_phone(const char *phone)
{
    return mask(phone, 3, 4);
}

char *crypto_mask_name(const char *name)
{
    return mask(name, 1, 0);
}

/* ---- signatures --------------------------------------------------------- */

/* Never prompt for a passphrase: that would block on the terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

/* A public key from an X.509 certificate, a PEM "PUBLIC KEY" (SPKI) block
 * or a PKCS#1 "RSA PUBLIC KEY" block (as some payment gateways hand out). */
static EVP_PKEY *load_public(const char *pem)
{
    BIO *bio = NULL;
    X509 *cert = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dec = NULL;

    if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
        goto fail;
    if (strstr(pem, "CERTIFICATE-----") != NULL) {
        if ((cert = PEM_read_bio_X509(bio, NULL, no_password, NULL)) == NULL)
            goto fail;
        pkey = X509_get_pubkey(cert);
    } else if (strstr(pem, "-----BEGIN RSA PUBLIC KEY-----") != NULL) {
        dec = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", "type-specific", "RSA",
                                            OSSL_KEYMGMT_SELECT_PUBLIC_KEY, NULL, NULL);
        if (dec == NULL || OSSL_DECODER_from_bio(dec, bio) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    } else {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    }
fail:
    OSSL_DECODER_CTX_free(dec);
    X509_free(cert);
    BIO_free(bio);
    return pkey;
}

int crypto_rsa_sha256_verify(const char *pem, const void *msg, size_t n, const void *sig,
                             size_t siglen)
{
    static const unsigned char empty = 0;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    int rc = -1;

    ERR_set_mark();
    if (pem == NULL || (pkey = load_public(pem)) == NULL || !EVP_PKEY_is_a(pkey, "RSA"))
        goto fail;
    if ((md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1)
        goto fail;
    /* From here the key is good: every failure means "invalid signature". */
    rc = 0;
    if (sig == NULL || siglen == 0)
        goto fail;
    if (EVP_DigestVerify(md, sig, siglen, msg != NULL ? msg : &empty, n) == 1)
        rc = 1;
fail:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    /* Drop our parse/verify noise, but not errors queued before we ran. */
    ERR_pop_to_mark();
    return rc;
}

int crypto_rsa_sha256_sign(const char *pem_priv, const void *msg, size_t n, unsigned char **sig,
                           size_t *siglen)
{
    static const unsigned char empty = 0;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = -1;

    ERR_set_mark();
    if (pem_priv == NULL || sig == NULL || siglen == NULL)
        goto fail;
    if ((bio = BIO_new_mem_buf(pem_priv, -1)) == NULL ||
        (pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL)) == NULL ||
        !EVP_PKEY_is_a(pkey, "RSA"))
        goto fail;
    if (msg == NULL)
        msg = &empty;
    if ((md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, NULL, &len, msg, n) != 1)
        goto fail;
    buf = xmalloc(len);
    if (EVP_DigestSign(md, buf, &len, msg, n) != 1)
        goto fail;
    *sig = buf;
    *siglen = len;
    buf = NULL;
    rc = 0;
fail:
    free(buf);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    ERR_pop_to_mark();
    return rc;
}
