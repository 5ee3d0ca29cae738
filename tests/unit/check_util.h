/* check_util.h - shared pieces of the Check suites. */
#ifndef ONETRIP_CHECK_UTIL_H
#define ONETRIP_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* The tests of a test case as (array, count): CHECK_TESTS(a, b, c). */
#define CHECK_TESTS(...)                                                                      \
    (const TTest *const[]){__VA_ARGS__},                                                      \
        (int)(sizeof((const TTest *const[]){__VA_ARGS__}) / sizeof(const TTest *))

/* Adds a test case named name, holding tests in order, to s; returns it for
 * fixtures and timeouts (which Check allows setting after it is added). */
static inline TCase *check_tcase(Suite *s, const char *name, const TTest *const *tests, int n)
{
    TCase *tc = tcase_create(name);
    for (int i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return tc;
}

/* Adds a test case named name that runs test once per element of the array
 * cases (the test reads its case as cases[_i]); returns it like check_tcase. */
#define CHECK_LOOP(s, name, test, cases)                                                      \
    check_loop_tcase(s, name, test, (int)(sizeof(cases) / sizeof((cases)[0])))

static inline TCase *check_loop_tcase(Suite *s, const char *name, const TTest *test, int n)
{
    TCase *tc = tcase_create(name);
    tcase_add_loop_test(tc, test, 0, n);
    suite_add_tcase(s, tc);
    return tc;
}

/* The string member name of the JSON object o is want (the message names
 * the member; a missing or non-string member fails). */
#define ck_assert_member(o, name, want)                                                       \
    do {                                                                                      \
        const char *got_ = json_string_value(json_object_get((o), (name)));                  \
        ck_assert_msg(got_ != NULL && strcmp(got_, (want)) == 0, "member %s: \"%s\", want \"%s\"", \
                      (name), got_ ? got_ : "(none)", (want));                               \
    } while (0)

/* Exactly n bytes of p, NUL-terminated (BIO memory is not NUL-terminated:
 * strndup would scan past the end looking for a NUL). Aborts on OOM. */
static inline char *check_copy_n(const char *p, size_t n)
{
    char *out = malloc(n + 1);
    if (out == NULL)
        abort();
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

#endif
