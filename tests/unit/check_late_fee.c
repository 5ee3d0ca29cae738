/* Unit tests for modules/violations/late_fee.c. */
#include <check.h>
#include <stdint.h>

#include "modules/violations/late_fee.h"
#include "server/date.h"
#include "tests/unit/check_util.h"

static int32_t day_of(const char *s)
{
    int32_t v = 0;
    ck_assert_msg(date_parse(s, &v) == 0, "bad test date %s", s);
    return v;
}

/* Straightforward reference for fines small enough not to overflow. */
static int64_t reference_fee(int64_t fine, int64_t late_days)
{
    int64_t fee;
    if (fine <= 0 || late_days <= 0)
        return 0;
    if (late_days > 100)
        late_days = 100;
    fee = fine * 3 * late_days / 100;
    return fee < fine ? fee : fine;
}

START_TEST(test_deadline)
{
    ck_assert_int_eq(violations_payment_deadline(day_of("2026-11-01")), day_of("2026-11-16"));
    ck_assert_int_eq(violations_payment_deadline(day_of("2024-02-14")), day_of("2024-02-29"));
    ck_assert_int_eq(violations_payment_deadline(day_of("2023-02-14")), day_of("2023-03-01"));
    ck_assert_int_eq(violations_payment_deadline(day_of("2024-12-20")), day_of("2025-01-04"));
    ck_assert_int_eq(violations_payment_deadline(INT32_MAX - 3), INT32_MAX);
}
END_TEST

START_TEST(test_boundaries)
{
    const int64_t fine = 20000; /* 200 yuan */
    int32_t s = day_of("2026-03-02");

    ck_assert_int_eq(violations_late_fee(fine, s, s), 0);
    ck_assert_int_eq(violations_late_fee(fine, s, s + 1), 0);
    ck_assert_int_eq(violations_late_fee(fine, s, s + 15), 0);       /* last day to pay */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 16), 600);     /* 3% */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 17), 1200);    /* 6% */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 48), 19800);   /* 99% */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 49), 20000);   /* 102% -> capped */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 50), 20000);
    ck_assert_int_eq(violations_late_fee(fine, s, s + 3650), 20000); /* far future */
    ck_assert_int_eq(violations_late_fee(fine, s, DATE_MAX), 20000);

    ck_assert_int_eq(violations_amount_due(fine, s, s + 15), 20000);
    ck_assert_int_eq(violations_amount_due(fine, s, s + 16), 20600);
    ck_assert_int_eq(violations_amount_due(fine, s, s + 48), 39800);
    ck_assert_int_eq(violations_amount_due(fine, s, s + 49), 40000);
    ck_assert_int_eq(violations_amount_due(fine, s, s + 1000), 40000);
}
END_TEST

START_TEST(test_rounding_down)
{
    const int64_t fine = 5033; /* 50.33 yuan: 3% is 150.99 fen */
    int32_t s = day_of("2026-03-02");

    ck_assert_int_eq(violations_late_fee(fine, s, s + 16), 150);
    ck_assert_int_eq(violations_late_fee(fine, s, s + 17), 301);  /* 301.98 */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 18), 452);  /* 452.97 */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 48), 4982); /* 4982.67 */
    ck_assert_int_eq(violations_late_fee(fine, s, s + 49), 5033);
    ck_assert_int_eq(violations_amount_due(fine, s, s + 16), 5183);
    /* Small fines: 3% of 33 fen is 0.99 fen, still nothing on day 16. */
    ck_assert_int_eq(violations_late_fee(33, s, s + 16), 0);
    ck_assert_int_eq(violations_late_fee(34, s, s + 16), 1);
    ck_assert_int_eq(violations_late_fee(1, s, s + 48), 0);
    ck_assert_int_eq(violations_late_fee(1, s, s + 49), 1);
}
END_TEST

/* A fine of 100 yuan served on `served`: its deadline, and the late fee
 * owed on each listed day. */
typedef struct fee_on {
    const char *day;
    int64_t fee;
} fee_on;

static void expect_fees(const char *served, const char *deadline, const fee_on *on, size_t n)
{
    int32_t s = day_of(served);

    if (deadline)
        ck_assert_int_eq(violations_payment_deadline(s), day_of(deadline));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(violations_late_fee(10000, s, day_of(on[i].day)) == on[i].fee,
                      "served %s, paid %s: want %lld", served, on[i].day, (long long)on[i].fee);
}

#define EXPECT_FEES(served, deadline, ...)                                                 \
    expect_fees(served, deadline, (const fee_on[]){__VA_ARGS__},                           \
                sizeof((const fee_on[]){__VA_ARGS__}) / sizeof(fee_on))

START_TEST(test_leap_day_service)
{
    EXPECT_FEES("2024-02-28", "2024-03-14", {"2024-03-14", 0}, {"2024-03-15", 300},
                {"2024-04-16", 9900}, {"2024-04-17", 10000});
    EXPECT_FEES("2024-02-29", "2024-03-15", {"2024-03-15", 0}, {"2024-03-16", 300},
                {"2024-04-17", 9900}, {"2024-04-18", 10000});
    /* Deadline landing on the leap day itself. */
    EXPECT_FEES("2024-02-14", NULL, {"2024-02-29", 0}, {"2024-03-01", 300});
}
END_TEST

START_TEST(test_non_leap_february)
{
    EXPECT_FEES("2023-02-28", "2023-03-15", {"2023-03-15", 0}, {"2023-03-16", 300},
                {"2023-04-17", 9900}, {"2023-04-18", 10000});
    /* 2023-02-28 -> 2023-03-01 is one day: deadline on March 1. */
    EXPECT_FEES("2023-02-14", "2023-03-01", {"2023-02-28", 0}, {"2023-03-01", 0},
                {"2023-03-02", 300});
}
END_TEST

START_TEST(test_year_end)
{
    EXPECT_FEES("2024-12-20", "2025-01-04", {"2024-12-31", 0}, {"2025-01-04", 0},
                {"2025-01-05", 300}, {"2025-02-06", 9900}, {"2025-02-07", 10000});
    ck_assert_int_eq(violations_amount_due(10000, day_of("2024-12-20"), day_of("2025-01-05")), 10300);
}
END_TEST

START_TEST(test_degenerate_inputs)
{
    int32_t s = day_of("2026-03-02");

    ck_assert_int_eq(violations_late_fee(0, s, s + 30), 0);
    ck_assert_int_eq(violations_late_fee(-20000, s, s + 30), 0);
    ck_assert_int_eq(violations_amount_due(-20000, s, s + 30), -20000);
    ck_assert_int_eq(violations_amount_due(INT64_MIN, s, s + 30), INT64_MIN);
    ck_assert_int_eq(violations_amount_due(0, s, s + 30), 0);
    /* today before service (bad data): no fee. */
    ck_assert_int_eq(violations_late_fee(20000, s, s - 1), 0);
    ck_assert_int_eq(violations_late_fee(20000, s, s - 100), 0);
    ck_assert_int_eq(violations_late_fee(20000, INT32_MAX, INT32_MIN), 0);
    /* Extreme dates neither overflow nor leave the cap. */
    ck_assert_int_eq(violations_late_fee(20000, INT32_MIN, INT32_MAX), 20000);
}
END_TEST

START_TEST(test_large_fines)
{
    const int64_t max_fine = VIOLATIONS_FINE_MAX_FEN; /* 10^12 fen */
    int32_t s = day_of("2026-03-02");

    ck_assert_int_eq(violations_late_fee(max_fine, s, s + 16), INT64_C(30000000000));
    ck_assert_int_eq(violations_late_fee(max_fine, s, s + 48), INT64_C(990000000000));
    ck_assert_int_eq(violations_late_fee(max_fine, s, s + 49), max_fine);
    ck_assert_int_eq(violations_amount_due(max_fine, s, s + 49), 2 * max_fine);
    /* Beyond the documented bound the result stays exact: floor(max * 0.99). */
    ck_assert_int_eq(violations_late_fee(INT64_MAX, s, s + 48), INT64_C(9131138316486228048));
    ck_assert_int_eq(violations_late_fee(INT64_MAX, s, s + 49), INT64_MAX);
    ck_assert_int_eq(violations_amount_due(INT64_MAX, s, s + 16), INT64_MAX); /* saturates */
    ck_assert_int_eq(violations_amount_due(INT64_MAX, s, s + 15), INT64_MAX);
}
END_TEST

START_TEST(test_against_reference)
{
    int32_t s = day_of("2025-06-30");
    static const int64_t fines[] = {1, 2, 33, 34, 99, 100, 101, 5033, 9999, 20000, 123457,
                                    INT64_C(999999999999), VIOLATIONS_FINE_MAX_FEN};
    for (size_t i = 0; i < sizeof fines / sizeof fines[0]; i++)
        for (int32_t d = -5; d <= 80; d++)
            ck_assert_int_eq(violations_late_fee(fines[i], s, s + d),
                             reference_fee(fines[i], (int64_t)d - 15));
}
END_TEST

Suite *late_fee_suite(void)
{
    Suite *s = suite_create("late_fee");
    check_tcase(s, "core", CHECK_TESTS(test_deadline, test_boundaries, test_rounding_down,
                      test_leap_day_service, test_non_leap_february, test_year_end,
                      test_degenerate_inputs, test_large_fines, test_against_reference));
    return s;
}
