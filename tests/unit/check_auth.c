/* check_auth.c - pure parts of authentication (server/auth.c,
 * server/auth_token.h) and of identity management (ID numbers, roles,
 * public keys, certificate fingerprints, CLI arguments). */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>


#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "modules/identity/identity_cli.h"
#include "server/cli_util.h"
#include "modules/identity/login_policy.h"
#include "modules/people/people_id.h"
#include "server/app.h"
#include "server/auth_token.h"
#include "server/crypto.h"
#include "tests/unit/check_util.h"

/* ---- auth_check_times ------------------------------------------------------ */

#define NOW 1800000000L
/* A present nbf / iat claim (auth_check_times takes NULL for an absent one). */
#define P(v) (&(long){(v)})

START_TEST(times_valid)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW), P(NOW), NOW, 60, 600, &why), 0);
}
END_TEST

START_TEST(times_exp_skew_boundary)
{
    const char *why = NULL;
    /* expired exactly 60 s ago: still inside the allowed skew */
    ck_assert_int_eq(auth_check_times(NOW - 60, P(NOW - 300), P(NOW - 300), NOW, 60, 600, &why), 0);
    /* 61 s ago: out */
    ck_assert_int_eq(auth_check_times(NOW - 61, P(NOW - 300), P(NOW - 300), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_expired");
}
END_TEST

START_TEST(times_nbf_skew_boundary)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW + 60), P(NOW), NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW + 61), P(NOW), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_not_yet_valid");
}
END_TEST

START_TEST(times_iat_future_boundary)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW), P(NOW + 60), NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW), P(NOW + 61), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_issued_in_future");
}
END_TEST

START_TEST(times_lifetime)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 600, P(NOW), P(NOW), NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 601, P(NOW), P(NOW), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_lifetime_too_long");
    /* exp before iat is never a valid lifetime */
    ck_assert_int_eq(auth_check_times(NOW + 10, P(NOW), P(NOW + 20), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_lifetime_too_long");
}
END_TEST

/* Signed claims at the edges of long: no overflow may turn a ten-year
 * token (iat far in the past) into an accepted one, or call a far-future exp
 * "expired". */
START_TEST(times_extreme_values)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 315360000L, P(NOW), P(LONG_MIN + 100), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_lifetime_too_long");
    ck_assert_int_eq(auth_check_times(LONG_MAX, P(NOW), P(NOW), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_lifetime_too_long");
    ck_assert_int_eq(auth_check_times(NOW + 300, P(LONG_MIN), P(NOW), NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW), P(NOW), NOW, 60, LONG_MAX, &why), 0);
    ck_assert_int_eq(auth_check_times(LONG_MIN, P(LONG_MIN), P(LONG_MIN), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_expired");
    ck_assert_int_eq(auth_check_times(NOW + 300, P(LONG_MAX), P(NOW), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_not_yet_valid");
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW), P(LONG_MAX), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_issued_in_future");
}
END_TEST

START_TEST(times_zero_skew)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW, P(NOW), P(NOW), NOW, 0, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW - 1, P(NOW - 10), P(NOW - 10), NOW, 0, 600, &why), -1);
}
END_TEST

/* Issue 10 item 15: RFC 7519 makes nbf and iat optional; absent, they are
 * not checked (jose's SignJWT adds neither unless asked). */
START_TEST(times_optional_claims)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 300, NULL, P(NOW), NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 300, NULL, NULL, NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW), NULL, NOW, 60, 600, &why), 0);
    /* present ones are still checked */
    ck_assert_int_eq(auth_check_times(NOW + 300, P(NOW + 61), NULL, NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_not_yet_valid");
    ck_assert_int_eq(auth_check_times(NOW + 300, NULL, P(NOW + 61), NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_issued_in_future");
    ck_assert_int_eq(auth_check_times(NOW - 61, NULL, NULL, NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_expired");
}
END_TEST

/* Without iat the lifetime left is bounded from our clock, with the skew. */
START_TEST(times_lifetime_without_iat)
{
    const char *why = NULL;
    ck_assert_int_eq(auth_check_times(NOW + 660, NULL, NULL, NOW, 60, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 661, NULL, NULL, NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_lifetime_too_long");
    ck_assert_int_eq(auth_check_times(LONG_MAX, NULL, NULL, NOW, 60, 600, &why), -1);
    ck_assert_str_eq(why, "token_lifetime_too_long");
    ck_assert_int_eq(auth_check_times(LONG_MAX, NULL, NULL, NOW, 300, LONG_MAX, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 600, NULL, NULL, NOW, 0, 600, &why), 0);
    ck_assert_int_eq(auth_check_times(NOW + 601, NULL, NULL, NOW, 0, 600, &why), -1);
}
END_TEST

/* ---- auth_jws_compact_check / auth_es256_sig_high_s (issue 10 item 7) ------------ */

/* An ES256-shaped token: header, payload and a 64-byte signature (bytes 0..63). */
#define GOOD_JWS                                                                                   \
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIxIn0."                                          \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw"

/* A compact JWS and what auth_jws_compact_check must answer (0 or -1). */
static const struct compact_case {
    const char *group;
    const char *in;
    int want;
} compacts[] = {
    {"well formed", GOOD_JWS, 0},
    {"well formed", "e30.e30.c2ln", 0}, /* lengths % 4 == 3, 0 */
    {"well formed", "e30.e30.AA", 0}, /* % 4 == 2 */
    {"well formed", "e30.e30.AQ", 0}, /* 'Q' = 010000: bits unused are 0 */
    {"well formed", "e30.e30.AAE", 0}, /* 'E' = 000100 */
    {"well formed", "e30.e30.-_-_", 0},
    {"trailing garbage or other alphabet", GOOD_JWS "!!!", -1},
    {"trailing garbage or other alphabet", GOOD_JWS "=", -1},
    {"trailing garbage or other alphabet", GOOD_JWS "==", -1},
    {"trailing garbage or other alphabet", GOOD_JWS " ", -1},
    {"trailing garbage or other alphabet", GOOD_JWS "\n", -1},
    {"trailing garbage or other alphabet", "e30.e30.c2l+", -1},
    {"trailing garbage or other alphabet", "e30.e30.c2l/", -1},
    {"trailing garbage or other alphabet", "e3=.e30.c2ln", -1},
    {"trailing garbage or other alphabet", "e30.e 0.c2ln", -1},
    {"trailing garbage or other alphabet", "e30.e30.c2l\x80", -1},
    {"segment count", NULL, -1},
    {"segment count", "", -1},
    {"segment count", "e30", -1},
    {"segment count", "e30.e30", -1},
    {"segment count", "e30.e30.c2ln.c2ln", -1},
    {"segment count", "e30.e30.c2ln.", -1},
    {"segment count", "e30.e30.", 0}, /* unsecured: well-formed, alg check refuses */
    {"segment count", "e30..", -1},
    {"segment count", ".e30.c2ln", -1},
    {"segment count", "e30..c2ln", -1},
    {"segment count", "..", -1},
    {"non-canonical length or bits", "e30.e30.c2lnA", -1}, /* % 4 == 1: no encoding is this long */
    {"non-canonical length or bits", "e30.e30.AB", -1}, /* low 4 bits set */
    {"non-canonical length or bits", "e30.e30.AR", -1},
    {"non-canonical length or bits", "e30.e30.AAB", -1}, /* low 2 bits set */
    {"non-canonical length or bits", "e30.e30.AAH", -1},
    {"non-canonical length or bits", "e31.e30.c2ln", -1}, /* "{}" with a stray bit */
    /* the signature of GOOD_JWS with the last character's unused bits set */
    {"non-canonical length or bits",
     "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIxIn0."
     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Px",
     -1},
};

START_TEST(compact_check_cases)
{
    const struct compact_case *k = &compacts[_i];
    int got = auth_jws_compact_check(k->in);

    ck_assert_msg(got == k->want, "%s: \"%s\" gives %d, want %d", k->group,
                  k->in ? k->in : "(null)", got, k->want);
}
END_TEST

/* R || S with S as the big-endian 32 bytes of bn, base64url. */
static char *sig_with_s(const BIGNUM *bn)
{
    unsigned char raw[64];
    memset(raw, 0x11, 32);
    ck_assert_int_eq(BN_bn2binpad(bn, raw + 32, 32), 32);
    return crypto_b64url_encode(raw, sizeof raw);
}

static int high_s_of(const BIGNUM *bn)
{
    char *sig = sig_with_s(bn);
    int rc = auth_es256_sig_high_s(sig);
    free(sig);
    return rc;
}

START_TEST(es256_high_s)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *n = BN_dup(EC_GROUP_get0_order(g)), *half = BN_new(), *x = BN_new(), *want = NULL;
    unsigned char raw[65];
    char *sig;

    /* the order really is P-256's */
    ck_assert(BN_hex2bn(&want, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") > 0);
    ck_assert_int_eq(BN_cmp(n, want), 0);
    ck_assert(BN_rshift1(half, n));
    ck_assert_int_eq(high_s_of(half), 0);        /* (n - 1) / 2: the largest low S */
    ck_assert(BN_add(x, half, BN_value_one()));
    ck_assert_int_eq(high_s_of(x), 1);           /* its twin n - x = half */
    ck_assert(BN_sub(x, n, BN_value_one()));
    ck_assert_int_eq(high_s_of(x), 1);
    ck_assert_int_eq(high_s_of(BN_value_one()), 0);
    ck_assert_int_eq(high_s_of(n), 1);           /* out of range counts as high */
    /* exactly one of S and n - S is high */
    for (int i = 0; i < 64; i++) {
        ck_assert(BN_rand_range(x, n));
        if (BN_is_zero(x))
            continue;
        ck_assert(BN_sub(half, n, x));
        ck_assert_int_eq(high_s_of(x) + high_s_of(half), 1);
    }
    /* not a 64-byte signature */
    memset(raw, 0, sizeof raw);
    sig = crypto_b64url_encode(raw, 63);
    ck_assert_int_eq(auth_es256_sig_high_s(sig), -1);
    free(sig);
    sig = crypto_b64url_encode(raw, 65);
    ck_assert_int_eq(auth_es256_sig_high_s(sig), -1);
    free(sig);
    ck_assert_int_eq(auth_es256_sig_high_s("!!"), -1);
    BN_free(want);
    BN_free(x);
    BN_free(half);
    BN_free(n);
    EC_GROUP_free(g);
}
END_TEST

/* ---- login policy (issue 10 item 4) ------------------------------------------------- */

static identity_login_source fresh_source(void)
{
    identity_login_source s = {.quiet_s = LONG_MAX};
    return s;
}

START_TEST(login_backoff_then_lockout_then_doubling)
{
    const identity_login_policy p = {.max_failures = 4, .lock_s = 900, .backoff_s = 1};
    identity_login_source s = fresh_source();
    int fresh = 0;

    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
    ck_assert_int_eq(fresh, 1);
    ck_assert_int_eq(s.block, LOGIN_BLOCK_BACKOFF);
    ck_assert_int_eq(s.blocked_s, 1);
    s.blocked_s = 0; /* waited it out */
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
    ck_assert_int_eq(fresh, 0);
    ck_assert_int_eq(s.blocked_s, 2);
    s.blocked_s = 0;
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
    ck_assert_int_eq(s.blocked_s, 4);
    s.blocked_s = 0;
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 1);
    ck_assert_int_eq(s.block, LOGIN_BLOCK_LOCKOUT);
    ck_assert_int_eq(s.blocked_s, 900);
    ck_assert_int_eq(s.lockouts, 1);
    ck_assert_int_eq(s.failures, 0);
    /* after the lockout: back-off again from the start, then a lockout twice as long */
    for (int i = 0; i < 3; i++) {
        s.blocked_s = 0;
        s.quiet_s = 60;
        ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
        ck_assert_int_eq(s.blocked_s, 1L << i);
    }
    s.blocked_s = 0;
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 1);
    ck_assert_int_eq(s.blocked_s, 1800);
    ck_assert_int_eq(s.lockouts, 2);
    /* at most a day, however many lockouts */
    s.lockouts = 40;
    s.failures = 3;
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 1);
    ck_assert_int_eq(s.blocked_s, IDENTITY_LOGIN_MAX_LOCK_S);
    s.lockouts = INT_MAX;
    s.failures = 3;
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 1);
    ck_assert_int_eq(s.blocked_s, IDENTITY_LOGIN_MAX_LOCK_S);
    ck_assert_int_eq(s.lockouts, INT_MAX);
}
END_TEST

START_TEST(login_quiet_day_forgets)
{
    const identity_login_policy p = {.max_failures = 3, .lock_s = 600, .backoff_s = 1};
    identity_login_source s = {.failures = 2, .lockouts = 5, .quiet_s = IDENTITY_LOGIN_FORGET_S};
    int fresh = 0;

    /* a day exactly: still remembered, so this failure locks for 600 * 2^5 */
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 1);
    ck_assert_int_eq(fresh, 0);
    ck_assert_int_eq(s.blocked_s, 19200);
    s = (identity_login_source){.failures = 2, .lockouts = 5, .quiet_s = IDENTITY_LOGIN_FORGET_S + 1};
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
    ck_assert_int_eq(fresh, 1);
    ck_assert_int_eq(s.failures, 1);
    ck_assert_int_eq(s.lockouts, 0);
    ck_assert_int_eq(s.blocked_s, 1);
}
END_TEST

START_TEST(login_backoff_capped_and_optional)
{
    const identity_login_policy p = {.max_failures = 100, .lock_s = 10, .backoff_s = 4};
    const identity_login_policy addr = {.max_failures = 3, .lock_s = 900, .backoff_s = 0};
    identity_login_source s = fresh_source();
    static const long want[] = {4, 8, 10, 10, 10};
    int fresh;

    for (int i = 0; i < 5; i++) {
        s.blocked_s = 0;
        ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
        ck_assert_int_eq(s.blocked_s, want[i]);
    }
    s = fresh_source();
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(identity_login_failure(&addr, &s, &fresh), 0);
        ck_assert_int_eq(s.blocked_s, 0);
        ck_assert_int_eq(s.block, LOGIN_BLOCK_NONE);
    }
    ck_assert_int_eq(identity_login_failure(&addr, &s, &fresh), 1);
    ck_assert_int_eq(s.blocked_s, 900);
}
END_TEST

/* Failures that raced past the check never shorten a block in force. */
START_TEST(login_block_never_shortened)
{
    const identity_login_policy p = {.max_failures = 5, .lock_s = 900, .backoff_s = 1};
    identity_login_source s = {.failures = 0, .lockouts = 1, .quiet_s = 0, .blocked_s = 850,
                               .block = LOGIN_BLOCK_LOCKOUT};
    int fresh;

    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 0);
    ck_assert_int_eq(s.block, LOGIN_BLOCK_LOCKOUT);
    ck_assert_int_eq(s.blocked_s, 850);
    s = (identity_login_source){.failures = 4, .lockouts = 0, .quiet_s = 0, .blocked_s = 5000,
                                .block = LOGIN_BLOCK_BACKOFF};
    ck_assert_int_eq(identity_login_failure(&p, &s, &fresh), 1);
    ck_assert_int_eq(s.blocked_s, 5000);
    ck_assert_int_eq(s.lockouts, 1);
}
END_TEST

START_TEST(login_source_keys)
{
    char k[IDENTITY_LOGIN_SOURCE_LEN];
    ck_assert_int_eq(identity_login_source_key("127.0.0.2", k), 0);
    ck_assert_str_eq(k, "127.0.0.2");
    ck_assert_int_eq(identity_login_source_key("::ffff:10.1.2.3", k), 0);
    ck_assert_str_eq(k, "10.1.2.3");
    ck_assert_int_eq(identity_login_source_key("2001:db8:1:2:3:4:5:6", k), 0);
    ck_assert_str_eq(k, "2001:db8:1:2::/64");
    ck_assert_int_eq(identity_login_source_key("2001:0DB8:0001:0002:ffff::1", k), 0);
    ck_assert_str_eq(k, "2001:db8:1:2::/64");
    ck_assert_int_eq(identity_login_source_key("::1", k), 0);
    ck_assert_str_eq(k, "::/64");
    ck_assert_int_eq(identity_login_source_key("unknown", k), -1);
    ck_assert_str_eq(k, "unknown");
    ck_assert_int_eq(identity_login_source_key("127.0.0.1 ", k), -1);
    ck_assert_int_eq(identity_login_source_key("", k), -1);
    ck_assert_int_eq(identity_login_source_key(NULL, k), -1);
    ck_assert_str_eq(k, "");
}
END_TEST

/* ---- auth_token_header --------------------------------------------------------- */

static char *b64(const char *s)
{
    return crypto_b64url_encode(s, strlen(s));
}

/* header.payload.sig with the given header JSON */
static char *token_with(const char *header)
{
    char *h = b64(header), *out = malloc(strlen(h) + 16);
    strcpy(out, h);
    strcat(out, ".e30.c2ln");
    free(h);
    return out;
}

/* A token with this header gives alg and kid ("" when it has none). */
static void header_gives(const char *header, const char *want_alg, const char *want_kid)
{
    char alg[32], kid[80] = "x";
    char *t = token_with(header);
    ck_assert_int_eq(auth_token_header(t, alg, sizeof alg, kid, sizeof kid), 0);
    ck_assert_str_eq(alg, want_alg);
    ck_assert_str_eq(kid, want_kid);
    free(t);
}

START_TEST(header_ok)
{
    header_gives("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", "ES256", "k1");
}
END_TEST

START_TEST(header_no_kid)
{
    header_gives("{\"alg\":\"none\"}", "none", "");
}
END_TEST

START_TEST(header_malformed)
{
    static const char *bad_headers[] = {
        "{\"alg\":1,\"kid\":\"k\"}",                  /* alg not a string */
        "{\"kid\":\"k\"}",                            /* no alg */
        "{\"alg\":\"ES256\",\"kid\":7}",              /* kid not a string */
        "[\"alg\"]",                                  /* not an object */
        "{\"alg\":\"ES256\",\"alg\":\"none\"}",       /* duplicate member */
        "not json",
    };
    char alg[32], kid[80];
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        char *t = token_with(bad_headers[i]);
        ck_assert_msg(auth_token_header(t, alg, sizeof alg, kid, sizeof kid) == -1, "%s", bad_headers[i]);
        free(t);
    }
    ck_assert_int_eq(auth_token_header("", alg, sizeof alg, kid, sizeof kid), -1);
    ck_assert_int_eq(auth_token_header("abc", alg, sizeof alg, kid, sizeof kid), -1);
    ck_assert_int_eq(auth_token_header("abc.def", alg, sizeof alg, kid, sizeof kid), -1);
    ck_assert_int_eq(auth_token_header("a.b.c.d", alg, sizeof alg, kid, sizeof kid), -1);
    ck_assert_int_eq(auth_token_header("!!!.e30.c2ln", alg, sizeof alg, kid, sizeof kid), -1);
    ck_assert_int_eq(auth_token_header(".e30.c2ln", alg, sizeof alg, kid, sizeof kid), -1);
}
END_TEST

START_TEST(header_long_values_truncated_safely)
{
    char alg[8], kid[8];
    char *t = token_with("{\"alg\":\"ES256ES256ES256\",\"kid\":\"0123456789abcdef\"}");
    ck_assert_int_eq(auth_token_header(t, alg, sizeof alg, kid, sizeof kid), 0);
    ck_assert_uint_eq(strlen(alg), 7);
    ck_assert_uint_eq(strlen(kid), 7);
    free(t);
}
END_TEST

/* ---- auth_hmac_string ------------------------------------------------------------ */

#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

START_TEST(hmac_string_layout)
{
    char *s = auth_hmac_string("POST", "/v1/x", "a=1&b=2", "1800000000", "nonce123", "", 0);
    ck_assert_str_eq(s, "POST\n/v1/x?a=1&b=2\n1800000000\nnonce123\n" SHA256_EMPTY);
    free(s);
    s = auth_hmac_string("GET", "/v1/me", NULL, "1", "nnnnnnnn", NULL, 0);
    ck_assert_str_eq(s, "GET\n/v1/me\n1\nnnnnnnnn\n" SHA256_EMPTY);
    free(s);
    s = auth_hmac_string("GET", "/v1/me", "", "1", "nnnnnnnn", NULL, 0);
    ck_assert_str_eq(s, "GET\n/v1/me\n1\nnnnnnnnn\n" SHA256_EMPTY);
    free(s);
    /* SHA-256("abc") */
    s = auth_hmac_string("PUT", "/p", NULL, "2", "nonce-xx", "abc", 3);
    ck_assert_str_eq(s, "PUT\n/p\n2\nnonce-xx\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(s);
}
END_TEST

/* ---- partner types and roles ---------------------------------------------------- */

START_TEST(partner_type_bits)
{
    ck_assert_uint_eq(auth_partner_type_bit("post"), PARTNER_POST);
    ck_assert_uint_eq(auth_partner_type_bit("insurer"), PARTNER_INSURER);
    ck_assert_uint_eq(auth_partner_type_bit("hospital"), PARTNER_HOSPITAL);
    ck_assert_uint_eq(auth_partner_type_bit("court"), PARTNER_COURT);
    ck_assert_uint_eq(auth_partner_type_bit("dealer"), PARTNER_DEALER);
    ck_assert_uint_eq(auth_partner_type_bit("agency"), PARTNER_AGENCY);
    ck_assert_uint_eq(auth_partner_type_bit("station"), PARTNER_STATION);
    ck_assert_uint_eq(auth_partner_type_bit("Post"), 0);
    ck_assert_uint_eq(auth_partner_type_bit("window"), 0);
    ck_assert_uint_eq(auth_partner_type_bit(""), 0);
    ck_assert_uint_eq(auth_partner_type_bit(NULL), 0);
}
END_TEST

START_TEST(roles_parse)
{
    ck_assert_uint_eq(identity_roles_parse("window"), ROLE_WINDOW);
    ck_assert_uint_eq(identity_roles_parse("window,supervisor"), ROLE_WINDOW | ROLE_SUPERVISOR);
    ck_assert_uint_eq(identity_roles_parse("reviewer,auditor,admin,inspector"),
                      ROLE_REVIEWER | ROLE_AUDITOR | ROLE_ADMIN | ROLE_INSPECTOR);
    ck_assert_uint_eq(identity_roles_parse("window,boss"), 0);
    ck_assert_uint_eq(identity_roles_parse("window,"), 0);
    ck_assert_uint_eq(identity_roles_parse(""), 0);
    ck_assert_uint_eq(identity_roles_parse(NULL), 0);
    ck_assert_uint_eq(identity_roles_parse("windows"), 0);
}
END_TEST

START_TEST(names)
{
    ck_assert_int_eq(identity_name_ok("demo-app_1.x", 64), 1);
    ck_assert_int_eq(identity_name_ok("", 64), 0);
    ck_assert_int_eq(identity_name_ok("a b", 64), 0);
    ck_assert_int_eq(identity_name_ok("a'b", 64), 0);
    ck_assert_int_eq(identity_name_ok("abcd", 3), 0);
}
END_TEST

/* ---- GB 11643 ID numbers and phones -------------------------------------------------- */

START_TEST(id_number_valid)
{
    char norm[19];
    int32_t birth = 0;
    const char *why = NULL;
    /* The standard's own example: 11010519491231002X */
    ck_assert_int_eq(people_id_number_check("11010519491231002X", norm, &birth, &why), 0);
    ck_assert_str_eq(norm, "11010519491231002X");
    ck_assert_int_eq(birth, -7306); /* 1949-12-31 */
    ck_assert_int_eq(people_id_number_check("11010519491231002x", norm, NULL, &why), 0);
    ck_assert_str_eq(norm, "11010519491231002X");
    ck_assert_int_eq(people_id_check_char("11010519491231002"), 'X');
    ck_assert_int_eq(people_id_check_char("44052418800101001"), '4');
}
END_TEST

START_TEST(id_number_invalid)
{
    const char *why = NULL;
    ck_assert_int_eq(people_id_number_check("110105194912310021", NULL, NULL, &why), -1);
    ck_assert_str_eq(why, "id_number_check_digit");
    ck_assert_int_eq(people_id_number_check("11010519491231002", NULL, NULL, &why), -1);
    ck_assert_str_eq(why, "id_number_format");
    ck_assert_int_eq(people_id_number_check("1101051949123100200", NULL, NULL, &why), -1);
    ck_assert_int_eq(people_id_number_check("A1010519491231002X", NULL, NULL, &why), -1);
    ck_assert_str_eq(why, "id_number_format");
    ck_assert_int_eq(people_id_number_check("11010519491231002Y", NULL, NULL, &why), -1);
    ck_assert_int_eq(people_id_number_check(NULL, NULL, NULL, &why), -1);
    /* 1949-02-30 is no day */
    ck_assert_int_eq(people_id_number_check("110105194902300020", NULL, NULL, &why), -1);
    ck_assert_str_eq(why, "id_number_birth_date");
}
END_TEST

START_TEST(phones)
{
    ck_assert_int_eq(people_phone_check("13812345678"), 0);
    ck_assert_int_eq(people_phone_check("19912345678"), 0);
    ck_assert_int_eq(people_phone_check("12812345678"), -1);
    ck_assert_int_eq(people_phone_check("1381234567"), -1);
    ck_assert_int_eq(people_phone_check("138123456789"), -1);
    ck_assert_int_eq(people_phone_check("1381234567a"), -1);
    ck_assert_int_eq(people_phone_check(NULL), -1);
}
END_TEST

/* ---- public keys and certificates ------------------------------------------------- */

static char *pem_of(EVP_PKEY *k, int priv)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out;
    long n;
    if (priv)
        PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_bio_PUBKEY(b, k);
    n = BIO_get_mem_data(b, &data);
    out = check_copy_n(data, (size_t)n);
    BIO_free(b);
    return out;
}

START_TEST(pubkey_check)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256"), *ec384 = EVP_EC_gen("P-384"), *rsa = EVP_RSA_gen(2048),
             *rsa1k = EVP_RSA_gen(1024);
    char *pec = pem_of(ec, 0), *pec384 = pem_of(ec384, 0), *prsa = pem_of(rsa, 0),
         *prsa1k = pem_of(rsa1k, 0), *priv = pem_of(ec, 1), *out;
    const char *why = NULL;

    out = identity_pubkey_check(pec, strlen(pec), "ES256", &why);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, pec);
    free(out);
    out = identity_pubkey_check(prsa, strlen(prsa), "RS256", &why);
    ck_assert_ptr_nonnull(out);
    free(out);
    ck_assert_ptr_null(identity_pubkey_check(prsa, strlen(prsa), "ES256", &why));
    ck_assert_ptr_null(identity_pubkey_check(pec, strlen(pec), "RS256", &why));
    ck_assert_ptr_null(identity_pubkey_check(pec384, strlen(pec384), "ES256", &why));
    ck_assert_ptr_null(identity_pubkey_check(prsa1k, strlen(prsa1k), "RS256", &why));
    ck_assert_ptr_null(identity_pubkey_check(pec, strlen(pec), "HS256", &why));
    ck_assert_ptr_null(identity_pubkey_check(priv, strlen(priv), "ES256", &why));
    ck_assert_ptr_null(identity_pubkey_check("garbage", 7, "ES256", &why));
    free(pec);
    free(pec384);
    free(prsa);
    free(prsa1k);
    free(priv);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa1k);
}
END_TEST

START_TEST(cert_fingerprint)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIO *b = BIO_new(BIO_s_mem());
    unsigned char *der = NULL;
    char *data = NULL, *pem, fp[65], want[65];
    unsigned char md[32];
    int dlen;
    long n;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    PEM_write_bio_X509(b, x);
    n = BIO_get_mem_data(b, &data);
    pem = check_copy_n(data, (size_t)n);
    dlen = i2d_X509(x, &der);
    crypto_sha256(der, (size_t)dlen, md);
    crypto_hex(md, 32, want);
    ck_assert_int_eq(identity_cert_sha256(pem, strlen(pem), fp), 0);
    ck_assert_str_eq(fp, want);
    ck_assert_int_eq(identity_cert_sha256("nope", 4, fp), -1);
    OPENSSL_free(der);
    free(pem);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- CLI arguments ---------------------------------------------------------------- */

START_TEST(args_parse)
{
    static const char *const valued[] = {"--kid", "--alg", NULL};
    static const char *const flags[] = {"--rotate", NULL};
    char *ok[] = {"key", "add", "app", "--kid", "k1", "--alg=ES256", "--rotate"};
    char *unknown[] = {"add", "--bogus", "x"};
    char *missing[] = {"add", "--kid"};
    char *twice[] = {"--kid", "a", "--kid", "b"};
    char *flagval[] = {"--rotate=1"};
    cli_args a;

    ck_assert_int_eq(cli_args_parse("t", 7, ok, valued, flags, &a), 0);
    ck_assert_int_eq(a.npos, 3);
    ck_assert_str_eq(a.pos[2], "app");
    ck_assert_str_eq(cli_args_get(&a, "--kid"), "k1");
    ck_assert_str_eq(cli_args_get(&a, "--alg"), "ES256");
    ck_assert_str_eq(cli_args_get(&a, "--rotate"), "1");
    ck_assert_int_eq(cli_args_parse("t", 3, unknown, valued, flags, &a), -1);
    ck_assert_int_eq(cli_args_parse("t", 2, missing, valued, flags, &a), -1);
    ck_assert_int_eq(cli_args_parse("t", 4, twice, valued, flags, &a), -1);
    ck_assert_int_eq(cli_args_parse("t", 1, flagval, valued, flags, &a), -1);
}
END_TEST

Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    check_tcase(s, "times", CHECK_TESTS(times_valid, times_exp_skew_boundary,
                      times_nbf_skew_boundary, times_iat_future_boundary, times_lifetime,
                      times_zero_skew, times_extreme_values, times_optional_claims,
                      times_lifetime_without_iat));
    check_tcase(s, "token_header", CHECK_TESTS(header_ok, header_no_kid, header_malformed,
                      header_long_values_truncated_safely));
    check_tcase(s, "hmac_string", CHECK_TESTS(hmac_string_layout));
    TCase *i = check_tcase(s, "identities", CHECK_TESTS(partner_type_bits, roles_parse, names,
                      id_number_valid, id_number_invalid, phones, pubkey_check, cert_fingerprint,
                      args_parse));
    check_tcase(s, "jws_compact", CHECK_TESTS(es256_high_s));
    CHECK_LOOP(s, "jws_compact_cases", compact_check_cases, compacts);
    check_tcase(s, "login_policy", CHECK_TESTS(login_backoff_then_lockout_then_doubling,
                      login_quiet_day_forgets, login_backoff_capped_and_optional,
                      login_block_never_shortened, login_source_keys));

    tcase_set_timeout(i, 30);
    return s;
}
