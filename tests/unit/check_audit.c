/* check_audit.c - the audit chain's hash (server/audit.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/audit.h"

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

Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, hash_known_vector);
    tcase_add_test(tc, hash_is_lower_hex_64);
    tcase_add_test(tc, chain_property);
    tcase_add_test(tc, prev_and_content_not_confusable);
    tcase_add_test(tc, canonical_layout);
    tcase_add_test(tc, canonical_unambiguous);
    suite_add_tcase(s, tc);
    return s;
}
