/* check_audit.c - the audit chain's hashes (server/audit.c): the legacy
 * SHA-256 and the keyed HMAC-SHA256, and the chain key's configuration. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/audit.h"
#include "server/config.h"
#include "tests/unit/check_util.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

/* SHA-256 of prev || "\n" || canonical, computed independently (Python
 * hashlib) for this exact input. */
START_TEST(hash_known_vector)
{
    char out[65];
    audit_hash(ZERO64, "1\x1f" "2026-01-01 00:00:00.000000\x1fsystem", out);
    ck_assert_str_eq(out, "a6c9f1e2aa266a4a967e56e99333f82fc7f260ab9b2194d259e12ff587f1401f");
}
END_TEST

START_TEST(hash_is_lower_hex_64)
{
    char out[65];
    audit_hash(ZERO64, "", out);
    ck_assert_uint_eq(strlen(out), 64);
    for (int i = 0; i < 64; i++)
        ck_assert((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));
}
END_TEST

/* Each hash depends on the previous one: changing an early record changes
 * every later hash, which is what lets verify find edits and reorders. */
START_TEST(chain_property)
{
    char h1[65], h2[65], h1x[65], h2x[65], swapped1[65], swapped2[65];
    audit_hash(ZERO64, "record one", h1);
    audit_hash(h1, "record two", h2);
    audit_hash(ZERO64, "record one!", h1x);
    audit_hash(h1x, "record two", h2x);
    ck_assert_str_ne(h1, h1x);
    ck_assert_str_ne(h2, h2x);
    /* Same contents in the other order give different hashes. */
    audit_hash(ZERO64, "record two", swapped1);
    audit_hash(swapped1, "record one", swapped2);
    ck_assert_str_ne(swapped2, h2);
    ck_assert_str_ne(swapped1, h1);
    /* Deterministic. */
    audit_hash(h1, "record two", h2x);
    ck_assert_str_eq(h2, h2x);
}
END_TEST

/* The separator between prev and content is part of the hash input:
 * moving a character across it changes the result. */
START_TEST(prev_and_content_not_confusable)
{
    char a[65], b[65];
    audit_hash("ab", "c", a);
    audit_hash("a", "bc", b);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(canonical_layout)
{
    const char *f[4] = {"12", "", NULL, "a,b:c"};
    char *c = audit_canonical(f, 4);
    ck_assert_str_eq(c, "2:12,0:,~,5:a,b:c");
    free(c);
}
END_TEST

/* Content cannot move across a field boundary, and NULL is not "". */
START_TEST(canonical_unambiguous)
{
    const char *a[2] = {"a", "\x1f" "b"}, *b[2] = {"a\x1f", "b"};
    const char *n1[2] = {"x", NULL}, *n2[2] = {"x", ""};
    const char *s1[2] = {"a,1:b", "c"}, *s2[2] = {"a", "b,1:c"};
    char *ca = audit_canonical(a, 2), *cb = audit_canonical(b, 2);
    char *c1 = audit_canonical(n1, 2), *c2 = audit_canonical(n2, 2);
    char *d1 = audit_canonical(s1, 2), *d2 = audit_canonical(s2, 2);
    ck_assert_str_ne(ca, cb);
    ck_assert_str_ne(c1, c2);
    ck_assert_str_ne(d1, d2);
    free(ca);
    free(cb);
    free(c1);
    free(c2);
    free(d1);
    free(d2);
}
END_TEST

static const unsigned char KEY_0_31[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                           11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                           22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* HMAC-SHA256(key 00..1f, prev "\n" canonical), computed independently
 * (Python hmac) for this exact input. */
START_TEST(mac_known_vector)
{
    char out[65];
    audit_mac(KEY_0_31, ZERO64, "2:12,0:,~,5:a,b:c", out);
    ck_assert_str_eq(out, "15b02237442ef5d6b000aa59e477b89b7719d66af4510c4b0ccd286b1a8c1d30");
}
END_TEST

/* Without the key the keyed hash cannot be reproduced: the plain SHA-256
 * of the same input (what SHA2() in SQL gives) differs, and so does the
 * HMAC under any other key. */
START_TEST(mac_needs_the_key)
{
    unsigned char other[32];
    char keyed[65], plain[65], wrong[65];
    memcpy(other, KEY_0_31, 32);
    other[31] ^= 1;
    audit_mac(KEY_0_31, ZERO64, "record", keyed);
    audit_hash(ZERO64, "record", plain);
    audit_mac(other, ZERO64, "record", wrong);
    ck_assert_str_ne(keyed, plain);
    ck_assert_str_ne(keyed, wrong);
    ck_assert_uint_eq(strlen(keyed), 64);
}
END_TEST

/* Keyed records chain like the legacy ones: an edit or a swap changes every
 * later hash. */
START_TEST(mac_chain_property)
{
    char h1[65], h2[65], x1[65], x2[65], s1[65], s2[65];
    audit_mac(KEY_0_31, ZERO64, "one", h1);
    audit_mac(KEY_0_31, h1, "two", h2);
    audit_mac(KEY_0_31, ZERO64, "one!", x1);
    audit_mac(KEY_0_31, x1, "two", x2);
    ck_assert_str_ne(h2, x2);
    audit_mac(KEY_0_31, ZERO64, "two", s1);
    audit_mac(KEY_0_31, s1, "one", s2);
    ck_assert_str_ne(s2, h2);
    audit_mac(KEY_0_31, "ab", "c", s1);
    audit_mac(KEY_0_31, "a", "bc", s2);
    ck_assert_str_ne(s1, s2);
}
END_TEST

extern const app_module core_module;

static void core_keys(void)
{
    static int added;
    if (!added)
        ck_assert_int_eq(config_add_keys(core_module.conf, core_module.nconf), 0);
    added = 1;
    config_reset();
}

/* audit.chain_key is required and must be 32 bytes of hex. */
START_TEST(init_requires_chain_key)
{
    char err[256] = "";
    core_keys();
    ck_assert_int_eq(audit_init(err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "audit.chain_key"));
    ck_assert_int_eq(config_set("audit.chain_key", "00112233", "t", err, sizeof err), 0);
    ck_assert_int_eq(audit_init(err, sizeof err), -1);
    ck_assert_int_eq(config_set("audit.chain_key",
                                "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                "t", err, sizeof err), 0);
    ck_assert_int_eq(audit_init(err, sizeof err), -1);
    ck_assert_int_eq(config_set("audit.chain_key",
                                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                "t", err, sizeof err), 0);
    ck_assert_int_eq(audit_init(err, sizeof err), 0);
    audit_cleanup();
}
END_TEST

Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    check_tcase(s, "hash", CHECK_TESTS(hash_known_vector, hash_is_lower_hex_64, chain_property,
                      prev_and_content_not_confusable, canonical_layout, canonical_unambiguous,
                      mac_known_vector, mac_needs_the_key, mac_chain_property,
                      init_requires_chain_key));
    return s;
}
