/* Unit tests for server/ratelimit.c: token buckets per key in a fixed table.
 * Times are pinned (nanoseconds passed in), so nothing depends on the
 * machine's speed. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "server/ratelimit.h"
#include "tests/unit/check_util.h"

#define SEC 1000000000LL
#define T0 (1000 * SEC)

START_TEST(burst_then_refused_with_retry_after)
{
    ratelimit *rl = ratelimit_new(64, 60, 5); /* one token a second */
    int retry = 0;
    ck_assert_ptr_nonnull(rl);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ratelimit_take(rl, "10.0.0.1", T0, &retry), 0);
    ck_assert_int_eq(ratelimit_take(rl, "10.0.0.1", T0, &retry), -1);
    ck_assert_int_eq(retry, 1);
    /* half a second later: still nothing; one second: one token */
    ck_assert_int_eq(ratelimit_take(rl, "10.0.0.1", T0 + SEC / 2, &retry), -1);
    ck_assert_int_eq(retry, 1);
    ck_assert_int_eq(ratelimit_take(rl, "10.0.0.1", T0 + SEC, &retry), 0);
    ck_assert_int_eq(ratelimit_take(rl, "10.0.0.1", T0 + SEC, &retry), -1);
    ratelimit_free(rl);
}
END_TEST

START_TEST(slow_rates_report_the_wait_and_lose_nothing_to_rounding)
{
    ratelimit *rl = ratelimit_new(64, 7, 1); /* one token every 8.57 s */
    int retry = 0;
    ck_assert_int_eq(ratelimit_take(rl, "k", T0, &retry), 0);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0, &retry), -1);
    ck_assert_int_eq(retry, 9);
    /* many small steps add up like one big one */
    for (int i = 1; i < 85; i++)
        ck_assert_int_eq(ratelimit_take(rl, "k", T0 + i * SEC / 10, NULL), -1);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0 + 86 * SEC / 10, &retry), 0);
    ratelimit_free(rl);
}
END_TEST

START_TEST(refill_is_capped_at_burst)
{
    ratelimit *rl = ratelimit_new(64, 600, 3);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0, NULL), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ratelimit_take(rl, "k", T0 + 3600 * SEC, NULL), 0);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0 + 3600 * SEC, NULL), -1);
    ratelimit_free(rl);
}
END_TEST

START_TEST(keys_are_independent)
{
    ratelimit *rl = ratelimit_new(64, 60, 2);
    ck_assert_int_eq(ratelimit_take(rl, "a", T0, NULL), 0);
    ck_assert_int_eq(ratelimit_take(rl, "a", T0, NULL), 0);
    ck_assert_int_eq(ratelimit_take(rl, "a", T0, NULL), -1);
    ck_assert_int_eq(ratelimit_take(rl, "b", T0, NULL), 0);
    ck_assert_int_eq(ratelimit_take(rl, "", T0, NULL), 0);
    ratelimit_free(rl);
}
END_TEST

START_TEST(failures_only_peek_and_charge_with_bounded_debt)
{
    ratelimit *rl = ratelimit_new(64, 60, 3);
    int retry = 0;
    /* an unknown key passes and peeking stores and takes nothing */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(ratelimit_peek(rl, "k", T0, &retry), 0);
    ratelimit_charge(rl, "k", T0);
    ratelimit_charge(rl, "k", T0);
    ck_assert_int_eq(ratelimit_peek(rl, "k", T0, NULL), 0);
    ratelimit_charge(rl, "k", T0);
    ck_assert_int_eq(ratelimit_peek(rl, "k", T0, &retry), -1);
    ck_assert_int_eq(retry, 1);
    /* concurrent failures that passed the peek still pay, down to -burst */
    for (int i = 0; i < 100; i++)
        ratelimit_charge(rl, "k", T0);
    ck_assert_int_eq(ratelimit_peek(rl, "k", T0, &retry), -1);
    ck_assert_int_eq(retry, 4); /* from -3 back to 1 token at one a second */
    ck_assert_int_eq(ratelimit_peek(rl, "k", T0 + 3 * SEC + SEC / 2, NULL), -1);
    ck_assert_int_eq(ratelimit_peek(rl, "k", T0 + 4 * SEC, NULL), 0);
    ratelimit_free(rl);
}
END_TEST

/* The memory is fixed: a table of one set (8 slots) serves 10000 keys, and
 * an exhausted key is not forgotten while fresh keys stream through (it is
 * never the fullest bucket of its set). */
START_TEST(fixed_table_keeps_exhausted_keys_under_a_flood)
{
    ratelimit *rl = ratelimit_new(1, 1, 5);
    char key[32];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ratelimit_take(rl, "attacker", T0, NULL), 0);
    ck_assert_int_eq(ratelimit_take(rl, "attacker", T0, NULL), -1);
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "10.1.%d.%d", i / 256, i % 256);
        ck_assert_int_eq(ratelimit_take(rl, key, T0 + i, NULL), 0);
        ck_assert_int_eq(ratelimit_take(rl, "attacker", T0 + i, NULL), -1);
    }
    ratelimit_free(rl);
}
END_TEST

START_TEST(slots_round_up_to_whole_sets_and_bad_arguments_refused)
{
    ratelimit *rl = ratelimit_new(3, 60, 1);
    ck_assert_ptr_nonnull(rl);
    ratelimit_free(rl);
    ratelimit_free(NULL);
    ck_assert_ptr_null(ratelimit_new(0, 60, 1));
    ck_assert_ptr_null(ratelimit_new(64, 0, 1));
    ck_assert_ptr_null(ratelimit_new(64, 60, 0));
    ck_assert_ptr_null(ratelimit_new(64, RATELIMIT_MAX_PER_MIN + 1, 1));
    ck_assert_ptr_null(ratelimit_new(64, 60, RATELIMIT_MAX_BURST + 1));
    ck_assert_ptr_null(ratelimit_new(RATELIMIT_MAX_SLOTS + 1, 60, 1));
    /* the extremes work and do not overflow */
    rl = ratelimit_new(8, RATELIMIT_MAX_PER_MIN, RATELIMIT_MAX_BURST);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0, NULL), 0);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0 + 365LL * 86400 * SEC, NULL), 0);
    ratelimit_free(rl);
    rl = ratelimit_new(8, 1, RATELIMIT_MAX_BURST);
    for (int i = 0; i < 3; i++)
        ratelimit_charge(rl, "k", T0);
    ck_assert_int_eq(ratelimit_take(rl, "k", T0, NULL), 0);
    ratelimit_free(rl);
}
END_TEST

typedef struct race {
    ratelimit *rl;
    atomic_int ok;
} race;

static void *taker(void *arg)
{
    race *r = arg;
    for (int i = 0; i < 20000; i++)
        if (ratelimit_take(r->rl, i % 2 ? "shared" : "also-shared", T0, NULL) == 0)
            atomic_fetch_add(&r->ok, 1);
    return NULL;
}

/* Four threads on two keys at one pinned instant: exactly the burst of each
 * key is granted, never more. */
START_TEST(concurrent_takes_never_exceed_the_burst)
{
    race r;
    pthread_t th[4];
    r.rl = ratelimit_new(64, 1, 1000);
    atomic_init(&r.ok, 0);
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, taker, &r);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&r.ok), 2000);
    ratelimit_free(r.rl);
}
END_TEST

START_TEST(address_keys)
{
    char k[64];
    ratelimit_addr_key("192.0.2.7", k, sizeof k);
    ck_assert_str_eq(k, "192.0.2.7");
    ratelimit_addr_key("::ffff:192.0.2.7", k, sizeof k);
    ck_assert_str_eq(k, "192.0.2.7");
    ratelimit_addr_key("2001:db8:1:2:3:4:5:6", k, sizeof k);
    ck_assert_str_eq(k, "2001:db8:1:2::/64");
    ratelimit_addr_key("2001:db8:1:2:ffff:ffff:ffff:ffff", k, sizeof k);
    ck_assert_str_eq(k, "2001:db8:1:2::/64");
    ratelimit_addr_key("::1", k, sizeof k);
    ck_assert_str_eq(k, "::/64");
    ratelimit_addr_key("unknown", k, sizeof k);
    ck_assert_str_eq(k, "unknown");
    ratelimit_addr_key(NULL, k, sizeof k);
    ck_assert_str_eq(k, "");
}
END_TEST

Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    check_tcase(s, "buckets", CHECK_TESTS(burst_then_refused_with_retry_after,
                      slow_rates_report_the_wait_and_lose_nothing_to_rounding,
                      refill_is_capped_at_burst, keys_are_independent,
                      failures_only_peek_and_charge_with_bounded_debt,
                      fixed_table_keeps_exhausted_keys_under_a_flood,
                      slots_round_up_to_whole_sets_and_bad_arguments_refused,
                      concurrent_takes_never_exceed_the_burst, address_keys));
    return s;
}
