/* check_crypto.c - unit tests for server/crypto.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "server/crypto.h"
#include "tests/unit/check_util.h"

#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "2222222222222222222222222222222222222222222222222222222222222222"
#define KEY2_TAIL "2222222222222222222222222222222222222222222222222222222222"
#define LOOKUP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Decode a hex literal of a known-answer vector (test helper). */
static size_t unhex_lit(const char *hex, unsigned char *out, size_t cap)
{
    int n = crypto_unhex(hex, out, cap);

    ck_assert_int_ge(n, 0);
    return (size_t)n;
}

/* ---- hex ------------------------------------------------------------------ */

START_TEST(test_hex_roundtrip)
{
    const unsigned char in[] = {0x00, 0xff, 0x10, 0xab, 0x7f};
    unsigned char back[8];
    char hex[11];

    crypto_hex(in, sizeof(in), hex);
    ck_assert_str_eq(hex, "00ff10ab7f");
    ck_assert_int_eq(crypto_unhex(hex, back, sizeof(back)), 5);
    ck_assert_mem_eq(back, in, 5);
    ck_assert_int_eq(crypto_unhex("00FF10aB7F", back, sizeof(back)), 5);
    ck_assert_mem_eq(back, in, 5);
    crypto_hex(in, 0, hex);
    ck_assert_str_eq(hex, "");
    ck_assert_int_eq(crypto_unhex("", back, sizeof(back)), 0);
}
END_TEST

START_TEST(test_hex_bad)
{
    unsigned char out[4];

    ck_assert_int_eq(crypto_unhex("abc", out, sizeof(out)), -1);        /* odd */
    ck_assert_int_eq(crypto_unhex("zz", out, sizeof(out)), -1);         /* bad char */
    ck_assert_int_eq(crypto_unhex("0g", out, sizeof(out)), -1);
    ck_assert_int_eq(crypto_unhex(" 00", out, sizeof(out)), -1);
    ck_assert_int_eq(crypto_unhex("0011223344", out, sizeof(out)), -1); /* too long */
    ck_assert_int_eq(crypto_unhex(NULL, out, sizeof(out)), -1);
}
END_TEST

/* ---- base64 --------------------------------------------------------------- */

/* RFC 4648 section 10. */
static const struct {
    const char *plain, *b64, *url;
} b64_vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

START_TEST(test_b64_vectors)
{
    const char *plain = b64_vectors[_i].plain;
    size_t n = strlen(plain), outlen = 99;
    char *enc = crypto_b64_encode(plain, n);
    char *url = crypto_b64url_encode(plain, n);
    unsigned char *dec = NULL;

    ck_assert_str_eq(enc, b64_vectors[_i].b64);
    ck_assert_str_eq(url, b64_vectors[_i].url);
    dec = crypto_b64_decode(enc, &outlen);
    ck_assert_ptr_nonnull(dec);
    ck_assert_uint_eq(outlen, n);
    ck_assert_str_eq((char *)dec, plain); /* NUL-terminated */
    free(dec);
    outlen = 99;
    dec = crypto_b64url_decode(url, &outlen);
    ck_assert_ptr_nonnull(dec);
    ck_assert_uint_eq(outlen, n);
    ck_assert_str_eq((char *)dec, plain);
    free(dec);
    dec = crypto_b64_decode(enc, NULL); /* outlen may be NULL */
    ck_assert_ptr_nonnull(dec);
    free(dec);
    free(enc);
    free(url);
}
END_TEST

START_TEST(test_b64_alphabets)
{
    const unsigned char bin[] = {0xfb, 0xff, 0xbf, 0xfb, 0xff};
    unsigned char *dec = NULL;
    size_t len = 0;
    char *enc = crypto_b64_encode(bin, sizeof(bin));
    char *url = crypto_b64url_encode(bin, sizeof(bin));

    ck_assert_str_eq(enc, "+/+/+/8=");
    ck_assert_str_eq(url, "-_-_-_8");
    dec = crypto_b64url_decode(url, &len);
    ck_assert_ptr_nonnull(dec);
    ck_assert_uint_eq(len, sizeof(bin));
    ck_assert_mem_eq(dec, bin, sizeof(bin));
    free(dec);
    dec = crypto_b64_decode(enc, &len);
    ck_assert_ptr_nonnull(dec);
    ck_assert_mem_eq(dec, bin, sizeof(bin));
    free(dec);
    /* Each alphabet rejects the other's special characters. */
    ck_assert_ptr_null(crypto_b64_decode("-_-_", NULL));
    ck_assert_ptr_null(crypto_b64url_decode("+/+/", NULL));
    free(enc);
    free(url);
}
END_TEST

/* Text that a decoder must refuse. */
static const struct b64_bad_case {
    unsigned char *(*decode)(const char *, size_t *);
    const char *decode_name;
    const char *in;
} b64_bad[] = {
#define B64_BAD(fn, in) {fn, #fn, in}
    B64_BAD(crypto_b64_decode, "Zg="), /* length not a multiple of 4 */
    B64_BAD(crypto_b64_decode, "Zg"), /* missing padding */
    B64_BAD(crypto_b64_decode, "Zm9"), /* missing padding */
    B64_BAD(crypto_b64_decode, "Z==="), /* too much padding */
    B64_BAD(crypto_b64_decode, "===="), /* only padding */
    B64_BAD(crypto_b64_decode, "Zg==Zg=="), /* padding in the middle */
    B64_BAD(crypto_b64_decode, "Z=g="), /* padding before data */
    B64_BAD(crypto_b64_decode, "Zm9v\n"), /* whitespace */
    B64_BAD(crypto_b64_decode, " Zm9v"), /* whitespace */
    B64_BAD(crypto_b64_decode, "Zm9*"), /* bad character */
    B64_BAD(crypto_b64_decode, "Zm\x80v"), /* non-ASCII */
    B64_BAD(crypto_b64_decode, "Zh=="), /* non-zero unused bits */
    B64_BAD(crypto_b64_decode, "Zm9="), /* non-zero unused bits */
    B64_BAD(crypto_b64url_decode, "Zg=="), /* padding is not accepted */
    B64_BAD(crypto_b64url_decode, "Zm8="), /* padding is not accepted */
    B64_BAD(crypto_b64url_decode, "Z"), /* a single leftover character cannot be */
    B64_BAD(crypto_b64url_decode, "Zm9vY"), /* ditto */
    B64_BAD(crypto_b64url_decode, "Zm 9"), /* whitespace */
    B64_BAD(crypto_b64url_decode, "Zm9*"), /* bad character */
    B64_BAD(crypto_b64url_decode, "Zh"), /* non-zero unused bits */
#undef B64_BAD
};

START_TEST(test_b64_malformed)
{
    const struct b64_bad_case *k = &b64_bad[_i];
    ck_assert_msg(k->decode(k->in, NULL) == NULL, "%s accepted %s", k->decode_name, k->in);
}
END_TEST

START_TEST(test_b64_null)
{
    ck_assert_ptr_null(crypto_b64_decode(NULL, NULL));
    ck_assert_ptr_null(crypto_b64url_decode(NULL, NULL));
}
END_TEST

START_TEST(test_b64_binary_roundtrip)
{
    unsigned char buf[1000], *dec = NULL;
    size_t len = 0;
    char *enc = NULL;

    for (size_t n = 0; n < 40; n++) {
        ck_assert_int_eq(crypto_random(buf, n), 0);
        enc = crypto_b64url_encode(buf, n);
        dec = crypto_b64url_decode(enc, &len);
        ck_assert_ptr_nonnull(dec);
        ck_assert_uint_eq(len, n);
        ck_assert(n == 0 || memcmp(dec, buf, n) == 0);
        free(dec);
        free(enc);
    }
    ck_assert_int_eq(crypto_random(buf, sizeof(buf)), 0);
    enc = crypto_b64_encode(buf, sizeof(buf));
    dec = crypto_b64_decode(enc, &len);
    ck_assert_uint_eq(len, sizeof(buf));
    ck_assert_mem_eq(dec, buf, sizeof(buf));
    free(dec);
    free(enc);
}
END_TEST

/* ---- hashes, comparison, randomness ---------------------------------------- */

START_TEST(test_sha256)
{
    unsigned char d[32];
    char hex[65];

    crypto_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256("abc", 3, d);
    crypto_hex(d, 32, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_hmac_sha256)
{
    unsigned char mac[32];
    char hex[65];
    const char *data = "what do ya want for nothing?";

    /* RFC 4231 test case 2. */
    crypto_hmac_sha256("Jefe", 4, data, strlen(data), mac);
    crypto_hex(mac, 32, hex);
    ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Empty key and message must work too (RFC 2104 allows them). */
    crypto_hmac_sha256(NULL, 0, NULL, 0, mac);
    crypto_hex(mac, 32, hex);
    ck_assert_str_eq(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}
END_TEST

START_TEST(test_equal)
{
    ck_assert(crypto_equal("abc", 3, "abc", 3));
    ck_assert(!crypto_equal("abc", 3, "abd", 3));
    ck_assert(!crypto_equal("abc", 3, "abcd", 4));
    ck_assert(!crypto_equal("abc", 3, "ab", 2));
    ck_assert(crypto_equal("", 0, "", 0));
    ck_assert(crypto_equal(NULL, 0, NULL, 0));
}
END_TEST

START_TEST(test_random)
{
    unsigned char a[32], b[32];
    char hex[33], hex2[33];

    ck_assert_int_eq(crypto_random(a, sizeof(a)), 0);
    ck_assert_int_eq(crypto_random(b, sizeof(b)), 0);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    ck_assert_int_eq(crypto_random(a, 0), 0);
    ck_assert_int_eq(crypto_random_hex(16, hex), 0);
    ck_assert_int_eq(crypto_random_hex(16, hex2), 0);
    ck_assert_uint_eq(strlen(hex), 32);
    ck_assert_int_eq(crypto_unhex(hex, a, sizeof(a)), 16);
    ck_assert_str_ne(hex, hex2);
}
END_TEST

/* ---- passwords ------------------------------------------------------------ */

START_TEST(test_password_roundtrip)
{
    char *h1 = NULL, *h2 = NULL;

    ck_assert_int_eq(crypto_password_hash("correct horse", 1000, &h1), 0);
    ck_assert_int_eq(crypto_password_hash("correct horse", 1000, &h2), 0);
    ck_assert_ptr_nonnull(h1);
    ck_assert_int_eq(strncmp(h1, "pbkdf2-sha256$1000$", 19), 0);
    ck_assert_str_ne(h1, h2); /* fresh salt each time */
    ck_assert_int_eq(crypto_password_verify("correct horse", h1), 1);
    ck_assert_int_eq(crypto_password_verify("correct horse", h2), 1);
    ck_assert_int_eq(crypto_password_verify("correct horsf", h1), 0);
    ck_assert_int_eq(crypto_password_verify("correct hors", h1), 0);
    ck_assert_int_eq(crypto_password_verify("", h1), 0);
    free(h1);
    free(h2);
    ck_assert_int_eq(crypto_password_hash("", 1000, &h1), 0);
    ck_assert_int_eq(crypto_password_verify("", h1), 1);
    ck_assert_int_eq(crypto_password_verify("x", h1), 0);
    free(h1);
    h1 = NULL;
    ck_assert_int_eq(crypto_password_hash("pw", 0, &h1), -1);
    ck_assert_int_eq(crypto_password_hash("pw", -1, &h1), -1);
    ck_assert_int_eq(crypto_password_hash(NULL, 1000, &h1), -1);
    ck_assert_ptr_null(h1);
}
END_TEST

START_TEST(test_password_known_vector)
{
    /* PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64) from RFC 7914 section 11:
     * pins the stored format to the standard construction. */
    unsigned char dk[64];
    char *salt = NULL, *hash = NULL, stored[256];

    unhex_lit("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
              "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
              dk, sizeof(dk));
    salt = crypto_b64_encode("salt", 4);
    hash = crypto_b64_encode(dk, sizeof(dk));
    snprintf(stored, sizeof(stored), "pbkdf2-sha256$1$%s$%s", salt, hash);
    ck_assert_int_eq(crypto_password_verify("passwd", stored), 1);
    ck_assert_int_eq(crypto_password_verify("Passwd", stored), 0);
    free(salt);
    free(hash);
}
END_TEST

START_TEST(test_password_default_iterations)
{
    char *h = NULL;

    ck_assert_int_ge(CRYPTO_PBKDF2_ITERATIONS, 600000);
    /* The one slow test: the default cost really works end to end. */
    ck_assert_int_eq(crypto_password_hash("pw", CRYPTO_PBKDF2_ITERATIONS, &h), 0);
    ck_assert_int_eq(strncmp(h, "pbkdf2-sha256$600000$", 21), 0);
    free(h);
}
END_TEST

START_TEST(test_password_malformed)
{
    /* salt "c2FsdHNhbHQ=" is 8 bytes, hash below is 32 bytes */
    static const char *bad[] = {
        "",
        "pbkdf2-sha256$",
        "pbkdf2-sha256$1000",
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=",
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=$",
        "pbkdf2-sha1$1000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "bcrypt$1000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$0$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$-5$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$+5$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$01000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$abc$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$99999999999$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$1000$c2Fsd!NhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=$AAAA*AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$1000$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* empty salt */
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=$AAAA",                         /* hash too short */
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$x",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(crypto_password_verify("pw", bad[i]) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(crypto_password_verify("pw", NULL), -1);
    ck_assert_int_eq(crypto_password_verify(NULL, bad[3]), -1);
    /* The well-formed version of the above is a plain mismatch. */
    ck_assert_int_eq(crypto_password_verify(
                         "pw", "pbkdf2-sha256$1000$c2FsdHNhbHQ=$"
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                     0);
}
END_TEST

/* ---- keyring -------------------------------------------------------------- */

START_TEST(test_keyring_ok)
{
    const char *why = "unset";
    crypto_keyring *k = crypto_keyring_new("1:" KEY1, 1, LOOKUP, &why);

    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_null(why);
    crypto_keyring_free(k);
    k = crypto_keyring_new(" 1:" KEY1 " , 255:" KEY2 " ", 255, LOOKUP, NULL);
    ck_assert_ptr_nonnull(k);
    crypto_keyring_free(k);
    k = crypto_keyring_new("1:" KEY1 ",2:ABCDEF" KEY2_TAIL, 2, LOOKUP, NULL); /* upper hex */
    ck_assert_ptr_nonnull(k);
    crypto_keyring_free(k);
    crypto_keyring_free(NULL);
}
END_TEST

START_TEST(test_keyring_errors)
{
    static const struct {
        const char *spec;
        int active;
        const char *lookup;
    } bad[] = {
        {"", 1, LOOKUP},
        {"1", 1, LOOKUP},
        {"1:", 1, LOOKUP},
        {":" KEY1, 1, LOOKUP},
        {"1:" KEY1 ",", 1, LOOKUP},                                     /* empty entry */
        {"1:zz11111111111111111111111111111111111111111111111111111111111111", 1, LOOKUP},
        {"1:111111111111111111111111111111111111111111111111111111111111111", 1, LOOKUP},
        {"1:" KEY1 "11", 1, LOOKUP},                                    /* 66 hex */
        {"1:" KEY1 ",1:" KEY2, 1, LOOKUP},                              /* duplicate */
        {"0:" KEY1, 0, LOOKUP},                                         /* id 0 */
        {"256:" KEY1, 256, LOOKUP},                                     /* id > 255 */
        {"-1:" KEY1, -1, LOOKUP},
        {"x:" KEY1, 1, LOOKUP},
        {"1:" KEY1, 2, LOOKUP},                                         /* active absent */
        {"1:" KEY1 ",2:" KEY2, 3, LOOKUP},
        {"1:" KEY1, 1, ""},                                             /* lookup key */
        {"1:" KEY1, 1, "0011"},
        {"1:" KEY1, 1, LOOKUP "00"},
        {"1:" KEY1, 1, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
        {NULL, 1, LOOKUP},
        {"1:" KEY1, 1, NULL},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        crypto_keyring *k = crypto_keyring_new(bad[i].spec, bad[i].active, bad[i].lookup, &why);

        ck_assert_msg(k == NULL, "accepted case %zu", i);
        ck_assert_msg(why != NULL && why[0] != '\0', "no reason for case %zu", i);
        ck_assert_ptr_null(crypto_keyring_new(bad[i].spec, bad[i].active, bad[i].lookup, NULL));
    }
}
END_TEST

START_TEST(test_keyring_too_many)
{
    char spec[2048] = "";
    const char *why = NULL;
    crypto_keyring *k = NULL;

    for (int id = 1; id <= 17; id++) {
        char entry[80];

        snprintf(entry, sizeof(entry), "%s%d:%s", id > 1 ? "," : "", id, KEY1);
        strcat(spec, entry);
        k = crypto_keyring_new(spec, 1, LOOKUP, &why);
        if (id <= 16) {
            ck_assert_ptr_nonnull(k);
            crypto_keyring_free(k);
        } else {
            ck_assert_ptr_null(k);
            ck_assert_ptr_nonnull(why);
        }
    }
}
END_TEST

/* ---- sealed values -------------------------------------------------------- */

static crypto_keyring *ring(const char *spec, int active)
{
    const char *why = NULL;
    crypto_keyring *k = crypto_keyring_new(spec, active, LOOKUP, &why);

    ck_assert_msg(k != NULL, "keyring: %s", why ? why : "?");
    return k;
}

START_TEST(test_seal_roundtrip)
{
    crypto_keyring *k = ring("1:" KEY1, 1);
    const char *pt = "330102199001011234";
    unsigned char *s1 = NULL, *s2 = NULL, *out = NULL;
    size_t l1 = 0, l2 = 0, olen = 0;

    ck_assert_int_eq(crypto_seal(k, "citizen.id_number", pt, strlen(pt), &s1, &l1), 0);
    ck_assert_uint_eq(l1, 1 + 12 + strlen(pt) + 16);
    ck_assert_uint_eq(s1[0], 1);
    ck_assert_int_eq(crypto_open(k, "citizen.id_number", s1, l1, &out, &olen), 0);
    ck_assert_uint_eq(olen, strlen(pt));
    ck_assert_str_eq((char *)out, pt);
    free(out);
    /* Fresh nonce per seal: equal plaintexts give different ciphertexts. */
    ck_assert_int_eq(crypto_seal(k, "citizen.id_number", pt, strlen(pt), &s2, &l2), 0);
    ck_assert(memcmp(s1, s2, l1) != 0);
    free(s2);
    /* Empty plaintext. */
    ck_assert_int_eq(crypto_seal(k, "x", "", 0, &s2, &l2), 0);
    ck_assert_uint_eq(l2, 29);
    out = NULL;
    ck_assert_int_eq(crypto_open(k, "x", s2, l2, &out, NULL), 0);
    ck_assert_str_eq((char *)out, "");
    free(out);
    free(s2);
    free(s1);
    crypto_keyring_free(k);
}
END_TEST

START_TEST(test_seal_tamper)
{
    crypto_keyring *k = ring("1:" KEY1 ",2:" KEY2, 1);
    const char *pt = "13812345678";
    unsigned char *s = NULL, *out = NULL;
    size_t len = 0, olen = 0;
    /* key id, nonce, ciphertext, tag */
    size_t where[] = {0, 1, 12, 13, 13 + 5, 13 + 10, 13 + 11, 13 + 11 + 15};

    ck_assert_int_eq(crypto_seal(k, "citizen.phone", pt, strlen(pt), &s, &len), 0);
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        unsigned char save = s[where[i]];

        ck_assert_uint_lt(where[i], len);
        s[where[i]] ^= (where[i] == 0) ? 0x03 : 0x01; /* id 1 -> 2: a real but wrong key */
        out = NULL;
        ck_assert_msg(crypto_open(k, "citizen.phone", s, len, &out, &olen) == -1,
                      "tamper at %zu accepted", where[i]);
        ck_assert_ptr_null(out);
        s[where[i]] = save;
    }
    /* Unknown key id. */
    s[0] = 99;
    ck_assert_int_eq(crypto_open(k, "citizen.phone", s, len, &out, &olen), -1);
    s[0] = 1;
    /* Wrong purpose (AAD) or missing AAD. */
    ck_assert_int_eq(crypto_open(k, "citizen.name", s, len, &out, &olen), -1);
    ck_assert_int_eq(crypto_open(k, "", s, len, &out, &olen), -1);
    ck_assert_int_eq(crypto_open(k, NULL, s, len, &out, &olen), -1);
    /* Truncated or appended. */
    ck_assert_int_eq(crypto_open(k, "citizen.phone", s, len - 1, &out, &olen), -1);
    ck_assert_int_eq(crypto_open(k, "citizen.phone", s, 28, &out, &olen), -1);
    ck_assert_int_eq(crypto_open(k, "citizen.phone", s, 0, &out, &olen), -1);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(ERR_peek_error(), 0);
    /* Untouched value still opens. */
    ck_assert_int_eq(crypto_open(k, "citizen.phone", s, len, &out, &olen), 0);
    ck_assert_str_eq((char *)out, pt);
    free(out);
    free(s);
    crypto_keyring_free(k);
}
END_TEST

START_TEST(test_seal_rotation)
{
    crypto_keyring *old = ring("1:" KEY1, 1);
    crypto_keyring *cur = ring("1:" KEY1 ",2:" KEY2, 2);
    crypto_keyring *retired = ring("2:" KEY2, 2);
    unsigned char *s1 = NULL, *s2 = NULL, *out = NULL;
    size_t l1 = 0, l2 = 0;

    ck_assert_int_eq(crypto_seal(old, "citizen.name", "张三丰", strlen("张三丰"), &s1, &l1), 0);
    ck_assert_uint_eq(s1[0], 1);
    ck_assert_int_eq(crypto_open(cur, "citizen.name", s1, l1, &out, NULL), 0);
    ck_assert_str_eq((char *)out, "张三丰");
    free(out);
    ck_assert_int_eq(crypto_seal(cur, "citizen.name", "李四", strlen("李四"), &s2, &l2), 0);
    ck_assert_uint_eq(s2[0], 2);
    ck_assert_int_eq(crypto_open(cur, "citizen.name", s2, l2, &out, NULL), 0);
    ck_assert_str_eq((char *)out, "李四");
    free(out);
    /* The old ring cannot open new values; a ring without key 1 cannot open old ones. */
    ck_assert_int_eq(crypto_open(old, "citizen.name", s2, l2, &out, NULL), -1);
    ck_assert_int_eq(crypto_open(retired, "citizen.name", s1, l1, &out, NULL), -1);
    free(s1);
    free(s2);
    crypto_keyring_free(old);
    crypto_keyring_free(cur);
    crypto_keyring_free(retired);
}
END_TEST

START_TEST(test_lookup_hash)
{
    crypto_keyring *k = ring("1:" KEY1, 1);
    crypto_keyring *k2 = crypto_keyring_new("1:" KEY1, 1, KEY2, NULL);
    unsigned char a[32], b[32], lk[32], expect[32];
    const char msg[] = "citizen.id_number\0" "33010219900101123X";

    crypto_lookup_hash(k, "citizen.id_number", "33010219900101123X", a);
    crypto_lookup_hash(k, "citizen.id_number", "33010219900101123X", b);
    ck_assert_mem_eq(a, b, 32);
    /* Known construction: HMAC(lookup key, purpose || 0 || value). */
    unhex_lit(LOOKUP, lk, sizeof(lk));
    crypto_hmac_sha256(lk, 32, msg, sizeof(msg) - 1, expect);
    ck_assert_mem_eq(a, expect, 32);
    /* Normalization: surrounding blanks and ASCII case do not matter. */
    crypto_lookup_hash(k, "citizen.id_number", " 33010219900101123x\t", b);
    ck_assert_mem_eq(a, b, 32);
    /* Purpose separation. */
    crypto_lookup_hash(k, "driver.id_number", "33010219900101123X", b);
    ck_assert(memcmp(a, b, 32) != 0);
    crypto_lookup_hash(k, "ab", "C", a);
    crypto_lookup_hash(k, "a", "BC", b);
    ck_assert(memcmp(a, b, 32) != 0);
    /* Different values and different lookup keys. */
    crypto_lookup_hash(k, "citizen.id_number", "330102199001011234", a);
    crypto_lookup_hash(k, "citizen.id_number", "330102199001011235", b);
    ck_assert(memcmp(a, b, 32) != 0);
    ck_assert_ptr_nonnull(k2);
    crypto_lookup_hash(k2, "citizen.id_number", "330102199001011234", b);
    ck_assert(memcmp(a, b, 32) != 0);
    crypto_keyring_free(k);
    crypto_keyring_free(k2);
}
END_TEST

/* ---- masking -------------------------------------------------------------- */

/* One mask, its input and the output it must give. */
static const struct mask_case {
    char *(*fn)(const char *);
    const char *fn_name;
    const char *in;
    const char *want;
} masks[] = {
#define MASK(fn, in, want) {fn, #fn, in, want}
    MASK(crypto_mask_id, "330102199001011234", "330102********1234"),
    MASK(crypto_mask_id, "33010219900101123X", "330102********123X"),
    MASK(crypto_mask_id, "330102900101123", "330102*****1123"), /* old 15-digit */
    MASK(crypto_mask_id, "12345678901", "123456*8901"),
    MASK(crypto_mask_id, "1234567890", "**********"),
    MASK(crypto_mask_id, "12345", "*****"),
    MASK(crypto_mask_id, "", ""),
    MASK(crypto_mask_phone, "13812345678", "138****5678"),
    MASK(crypto_mask_phone, "+8613812345678", "+86*******5678"),
    MASK(crypto_mask_phone, "12345678", "123*5678"),
    MASK(crypto_mask_phone, "1234567", "*******"),
    MASK(crypto_mask_phone, "110", "***"),
    MASK(crypto_mask_phone, "", ""),
    MASK(crypto_mask_name, "张三丰", "张**"),
    MASK(crypto_mask_name, "张三", "张*"),
    MASK(crypto_mask_name, "欧阳娜娜", "欧***"),
    MASK(crypto_mask_name, "张", "*"),
    MASK(crypto_mask_name, "Smith", "S****"),
    MASK(crypto_mask_name, "李A", "李*"),
    MASK(crypto_mask_name, "Émile", "É****"),   /* 2-byte lead */
    MASK(crypto_mask_name, "😀ab", "😀**"),      /* 4-byte lead */
    MASK(crypto_mask_name, "", ""),
    /* Malformed UTF-8: bytes count one by one, nothing read past the end. */
    MASK(crypto_mask_name, "\xe5\xbc", "\xe5*"),
    MASK(crypto_mask_name, "\xe5", "*"),
    MASK(crypto_mask_name, "a\xff\xfe", "a**"),
    /* Multi-byte characters in ID and phone masks stay whole. */
    MASK(crypto_mask_phone, "电话一二三四五六七八", "电话一***五六七八"),
#undef MASK
};

START_TEST(test_mask)
{
    const struct mask_case *k = &masks[_i];
    char *got = k->fn(k->in);

    ck_assert_msg(got != NULL, "%s(%s) = NULL", k->fn_name, k->in);
    ck_assert_msg(strcmp(got, k->want) == 0, "%s(%s) = %s, want %s", k->fn_name, k->in, got,
                  k->want);
    free(got);
}
END_TEST

START_TEST(test_mask_null)
{
    ck_assert_ptr_null(crypto_mask_id(NULL));
    ck_assert_ptr_null(crypto_mask_phone(NULL));
    ck_assert_ptr_null(crypto_mask_name(NULL));
}
END_TEST

/* ---- signatures ----------------------------------------------------------- */

static char *priv_a, *priv_a_enc, *pub_a, *pub_a_pkcs1, *cert_a, *pub_b, *cert_b, *pub_ec, *priv_ec;

static char *bio_string(BIO *bio)
{
    char *data = NULL, *s = NULL;
    long n = BIO_get_mem_data(bio, &data);

    ck_assert_int_gt(n, 0);
    s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

static char *pem_private(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());

    ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
    return bio_string(bio);
}

/* Passphrase-protected private key: must fail, never prompt. */
static char *pem_private_encrypted(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());

    ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, EVP_aes_256_cbc(),
                                              (const unsigned char *)"secret", 6, NULL, NULL),
                     1);
    return bio_string(bio);
}

static char *pem_public(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());

    ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, k), 1);
    return bio_string(bio);
}

/* PKCS#1 "RSA PUBLIC KEY" form. */
static char *pem_public_pkcs1(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    OSSL_ENCODER_CTX *enc =
        OSSL_ENCODER_CTX_new_for_pkey(k, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);

    ck_assert_ptr_nonnull(enc);
    ck_assert_int_eq(OSSL_ENCODER_to_bio(enc, bio), 1);
    OSSL_ENCODER_CTX_free(enc);
    return bio_string(bio);
}

/* Self-signed certificate for k. */
static char *pem_cert(EVP_PKEY *k)
{
    X509 *x = X509_new();
    X509_NAME *name = NULL;
    BIO *bio = BIO_new(BIO_s_mem());

    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    ck_assert_int_eq(X509_set_pubkey(x, k), 1);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"onetrip test",
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    ck_assert_int_eq(PEM_write_bio_X509(bio, x), 1);
    X509_free(x);
    return bio_string(bio);
}

/* Unchecked fixture: RSA key generation is slow, do it once per test case. */
static void rsa_setup(void)
{
    EVP_PKEY *a = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(ec);
    priv_a = pem_private(a);
    priv_a_enc = pem_private_encrypted(a);
    pub_a = pem_public(a);
    pub_a_pkcs1 = pem_public_pkcs1(a);
    cert_a = pem_cert(a);
    pub_b = pem_public(b);
    cert_b = pem_cert(b);
    pub_ec = pem_public(ec);
    priv_ec = pem_private(ec);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(ec);
}

static void rsa_teardown(void)
{
    free(priv_a);
    free(priv_a_enc);
    free(pub_a);
    free(pub_a_pkcs1);
    free(cert_a);
    free(pub_b);
    free(cert_b);
    free(pub_ec);
    free(priv_ec);
}

START_TEST(test_rsa_sign_verify)
{
    const char *msg = "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n";
    unsigned char *sig = NULL;
    size_t siglen = 0;

    ck_assert_int_eq(crypto_rsa_sha256_sign(priv_a, msg, strlen(msg), &sig, &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, msg, strlen(msg), sig, siglen), 1);
    ck_assert_int_eq(crypto_rsa_sha256_verify(cert_a, msg, strlen(msg), sig, siglen), 1);
    ck_assert(strstr(pub_a_pkcs1, "BEGIN RSA PUBLIC KEY") != NULL);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a_pkcs1, msg, strlen(msg), sig, siglen), 1);
    /* Altered message. */
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, msg, strlen(msg) - 1, sig, siglen), 0);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, "x", 1, sig, siglen), 0);
    /* Key or certificate of someone else. */
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_b, msg, strlen(msg), sig, siglen), 0);
    ck_assert_int_eq(crypto_rsa_sha256_verify(cert_b, msg, strlen(msg), sig, siglen), 0);
    /* Altered or truncated signature. */
    sig[10] ^= 1;
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, msg, strlen(msg), sig, siglen), 0);
    sig[10] ^= 1;
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, msg, strlen(msg), sig, siglen - 1), 0);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, msg, strlen(msg), sig, 0), 0);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, msg, strlen(msg), sig, siglen), 1);
    free(sig);
    /* Empty message signs and verifies. */
    ck_assert_int_eq(crypto_rsa_sha256_sign(priv_a, "", 0, &sig, &siglen), 0);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_a, "", 0, sig, siglen), 1);
    free(sig);
}
END_TEST

START_TEST(test_rsa_bad_keys)
{
    unsigned char sig[256] = {0};
    unsigned char *out = NULL;
    size_t outlen = 0;

    ck_assert_int_eq(crypto_rsa_sha256_verify("garbage", "m", 1, sig, sizeof(sig)), -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify("", "m", 1, sig, sizeof(sig)), -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify(NULL, "m", 1, sig, sizeof(sig)), -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify("-----BEGIN PUBLIC KEY-----\nAAAA\n"
                                              "-----END PUBLIC KEY-----\n",
                                              "m", 1, sig, sizeof(sig)),
                     -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                              "-----END CERTIFICATE-----\n",
                                              "m", 1, sig, sizeof(sig)),
                     -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n"
                                              "-----END RSA PUBLIC KEY-----\n",
                                              "m", 1, sig, sizeof(sig)),
                     -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify(priv_a, "m", 1, sig, sizeof(sig)), -1);
    ck_assert_int_eq(crypto_rsa_sha256_verify(pub_ec, "m", 1, sig, sizeof(sig)), -1);
    ck_assert_int_eq(crypto_rsa_sha256_sign("garbage", "m", 1, &out, &outlen), -1);
    ck_assert_int_eq(crypto_rsa_sha256_sign(pub_a, "m", 1, &out, &outlen), -1);
    ck_assert_int_eq(crypto_rsa_sha256_sign(priv_ec, "m", 1, &out, &outlen), -1);
    ck_assert_int_eq(crypto_rsa_sha256_sign(NULL, "m", 1, &out, &outlen), -1);
    ck_assert(strstr(priv_a_enc, "ENCRYPTED") != NULL);
    ck_assert_int_eq(crypto_rsa_sha256_sign(priv_a_enc, "m", 1, &out, &outlen), -1);
    ck_assert_ptr_null(out);
    /* Failures leave nothing behind in this thread's OpenSSL error queue. */
    ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

/* ---- AES-256-GCM ---------------------------------------------------------- */

START_TEST(test_gcm_known_vector)
{
    /* McGrew & Viega GCM spec, test case 14: zero key, zero IV, zero block. */
    unsigned char key[32] = {0}, nonce[12] = {0}, pt[16] = {0};
    unsigned char *ct = NULL, *back = NULL;
    size_t ctlen = 0, len = 0;
    char hex[65];

    ck_assert_int_eq(crypto_aes256gcm_encrypt(key, nonce, 12, NULL, 0, pt, 16, &ct, &ctlen), 0);
    ck_assert_uint_eq(ctlen, 32);
    crypto_hex(ct, ctlen, hex);
    ck_assert_str_eq(hex, "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, NULL, 0, ct, ctlen, &back, &len),
                     0);
    ck_assert_uint_eq(len, 16);
    ck_assert_mem_eq(back, pt, 16);
    free(back);
    free(ct);
    /* Test case 13: empty plaintext, tag only. */
    ck_assert_int_eq(crypto_aes256gcm_encrypt(key, nonce, 12, NULL, 0, NULL, 0, &ct, &ctlen), 0);
    crypto_hex(ct, ctlen, hex);
    ck_assert_str_eq(hex, "530f8afbc74536b9a963b4f1c4cb738b");
    free(ct);
}
END_TEST

START_TEST(test_gcm_roundtrip_tamper)
{
    unsigned char key[32], *ct = NULL, *out = NULL;
    const char *nonce = "fdc3cba49e24"; /* WeChat v3 nonces are 12 ASCII chars */
    const char *aad = "transaction";
    const char *pt = "{\"out_trade_no\":\"OT202401010001\",\"trade_state\":\"SUCCESS\"}";
    size_t ctlen = 0, len = 0;

    ck_assert_int_eq(crypto_random(key, sizeof(key)), 0);
    ck_assert_int_eq(crypto_aes256gcm_encrypt(key, nonce, 12, aad, strlen(aad), pt, strlen(pt),
                                              &ct, &ctlen),
                     0);
    ck_assert_uint_eq(ctlen, strlen(pt) + 16);
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, aad, strlen(aad), ct, ctlen, &out,
                                              &len),
                     0);
    ck_assert_uint_eq(len, strlen(pt));
    ck_assert_str_eq((char *)out, pt);
    free(out);
    out = NULL;
    /* Tag, ciphertext, AAD, nonce, key. */
    ct[ctlen - 1] ^= 1;
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, aad, strlen(aad), ct, ctlen, &out,
                                              &len),
                     -1);
    ct[ctlen - 1] ^= 1;
    ct[0] ^= 1;
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, aad, strlen(aad), ct, ctlen, &out,
                                              &len),
                     -1);
    ct[0] ^= 1;
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, "transactioN", 11, ct, ctlen, &out,
                                              &len),
                     -1);
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, NULL, 0, ct, ctlen, &out, &len), -1);
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, "fdc3cba49e25", 12, aad, strlen(aad), ct,
                                              ctlen, &out, &len),
                     -1);
    key[0] ^= 1;
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, aad, strlen(aad), ct, ctlen, &out,
                                              &len),
                     -1);
    key[0] ^= 1;
    /* Too short to hold a tag; empty nonce. */
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, aad, strlen(aad), ct, 15, &out,
                                              &len),
                     -1);
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 0, aad, strlen(aad), ct, ctlen, &out,
                                              &len),
                     -1);
    ck_assert_int_eq(crypto_aes256gcm_encrypt(key, nonce, 0, aad, strlen(aad), pt, strlen(pt),
                                              &out, &len),
                     -1);
    ck_assert_ptr_null(out);
    /* Still intact after all that. */
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, aad, strlen(aad), ct, ctlen, &out,
                                              NULL),
                     0);
    ck_assert_str_eq((char *)out, pt);
    free(out);
    free(ct);
}
END_TEST

START_TEST(test_gcm_long_nonce)
{
    unsigned char key[32] = {7}, nonce[32] = {9}, *ct = NULL, *out = NULL;
    size_t ctlen = 0, len = 0;

    ck_assert_int_eq(crypto_aes256gcm_encrypt(key, nonce, sizeof(nonce), NULL, 0, "hi", 2, &ct,
                                              &ctlen),
                     0);
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, sizeof(nonce), NULL, 0, ct, ctlen, &out,
                                              &len),
                     0);
    ck_assert_str_eq((char *)out, "hi");
    free(out);
    ck_assert_int_eq(crypto_aes256gcm_decrypt(key, nonce, 12, NULL, 0, ct, ctlen, &out, &len), -1);
    free(ct);
}
END_TEST

Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = check_tcase(s, "encoding", CHECK_TESTS(test_hex_roundtrip, test_hex_bad,
                      test_b64_alphabets, test_b64_null, test_b64_binary_roundtrip));

    tcase_add_loop_test(tc, test_b64_vectors, 0, (int)(sizeof(b64_vectors) / sizeof(b64_vectors[0])));
    tcase_add_loop_test(tc, test_b64_malformed, 0, (int)(sizeof(b64_bad) / sizeof(b64_bad[0])));

    check_tcase(s, "hash", CHECK_TESTS(test_sha256, test_hmac_sha256, test_equal, test_random));

    tc = check_tcase(s, "password", CHECK_TESTS(test_password_roundtrip,
                      test_password_known_vector, test_password_default_iterations,
                      test_password_malformed));
    tcase_set_timeout(tc, 30); /* one test runs the full default cost */

    check_tcase(s, "keyring", CHECK_TESTS(test_keyring_ok, test_keyring_errors,
                      test_keyring_too_many, test_seal_roundtrip, test_seal_tamper,
                      test_seal_rotation, test_lookup_hash));

    check_tcase(s, "mask", CHECK_TESTS(test_mask_null));
    CHECK_LOOP(s, "mask_cases", test_mask, masks);

    tc = check_tcase(s, "rsa", CHECK_TESTS(test_rsa_sign_verify, test_rsa_bad_keys));
    tcase_set_timeout(tc, 30); /* key generation under sanitizers/valgrind */
    tcase_add_unchecked_fixture(tc, rsa_setup, rsa_teardown);

    check_tcase(s, "gcm", CHECK_TESTS(test_gcm_known_vector, test_gcm_roundtrip_tamper,
                      test_gcm_long_nonce));
    return s;
}
