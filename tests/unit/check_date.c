/* Unit tests for server/date.c. */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "server/date.h"
#include "tests/unit/check_util.h"

static int32_t ymd(int y, int m, int d)
{
    int32_t v = INT32_MIN;
    ck_assert_int_eq(date_from_ymd(y, m, d, &v), 0);
    return v;
}

START_TEST(test_from_ymd_known)
{
    ck_assert_int_eq(ymd(1970, 1, 1), 0);
    ck_assert_int_eq(ymd(1969, 12, 31), -1);
    ck_assert_int_eq(ymd(2000, 3, 1), 11017);
    ck_assert_int_eq(ymd(2026, 10, 1), 20727);
    ck_assert_int_eq(ymd(1, 1, 1), DATE_MIN);
    ck_assert_int_eq(ymd(9999, 12, 31), DATE_MAX);
    ck_assert_int_eq(ymd(2024, 2, 29), ymd(2024, 2, 28) + 1);
    ck_assert_int_eq(ymd(2000, 2, 29), ymd(2000, 3, 1) - 1);
}
END_TEST

START_TEST(test_from_ymd_invalid)
{
    int32_t v = 42;
    ck_assert_int_eq(date_from_ymd(2025, 2, 29, &v), -1);
    ck_assert_int_eq(date_from_ymd(1900, 2, 29, &v), -1); /* century, not /400 */
    ck_assert_int_eq(date_from_ymd(2025, 4, 31, &v), -1);
    ck_assert_int_eq(date_from_ymd(2025, 13, 1, &v), -1);
    ck_assert_int_eq(date_from_ymd(2025, 0, 1, &v), -1);
    ck_assert_int_eq(date_from_ymd(2025, 1, 0, &v), -1);
    ck_assert_int_eq(date_from_ymd(2025, 1, 32, &v), -1);
    ck_assert_int_eq(date_from_ymd(0, 1, 1, &v), -1);
    ck_assert_int_eq(date_from_ymd(10000, 1, 1, &v), -1);
    ck_assert_int_eq(date_from_ymd(-1, 1, 1, &v), -1);
    ck_assert_int_eq(v, 42); /* untouched on failure */
    ck_assert_int_eq(date_from_ymd(2024, 2, 29, NULL), 0);
}
END_TEST

START_TEST(test_leap_and_month_lengths)
{
    ck_assert(date_is_leap_year(2024));
    ck_assert(date_is_leap_year(2000));
    ck_assert(!date_is_leap_year(1900));
    ck_assert(!date_is_leap_year(2025));
    ck_assert_int_eq(date_days_in_month(2024, 2), 29);
    ck_assert_int_eq(date_days_in_month(2023, 2), 28);
    ck_assert_int_eq(date_days_in_month(2023, 4), 30);
    ck_assert_int_eq(date_days_in_month(2023, 12), 31);
    ck_assert_int_eq(date_days_in_month(2023, 0), 0);
    ck_assert_int_eq(date_days_in_month(2023, 13), 0);
}
END_TEST

/* Walk every day of the supported range: to_ymd must advance like a
 * calendar and from_ymd must invert it exactly. */
START_TEST(test_round_trip_whole_range)
{
    int y = 1, m = 1, d = 1;
    for (int32_t day = DATE_MIN; day <= DATE_MAX; day++) {
        int yy, mm, dd;
        date_to_ymd(day, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d)
            ck_abort_msg("day %d: got %04d-%02d-%02d want %04d-%02d-%02d", (int)day, yy, mm,
                         dd, y, m, d);
        if (day % 997 == 0)
            ck_assert_int_eq(ymd(y, m, d), day);
        if (++d > date_days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    ck_assert_int_eq(y, 10000);
}
END_TEST

START_TEST(test_to_ymd_null_outputs)
{
    int y = 0;
    date_to_ymd(20727, &y, NULL, NULL);
    ck_assert_int_eq(y, 2026);
    date_to_ymd(20727, NULL, NULL, NULL);
}
END_TEST

START_TEST(test_parse_ok)
{
    int32_t v = 0;
    ck_assert_int_eq(date_parse("1970-01-01", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(date_parse("2024-02-29", &v), 0);
    ck_assert_int_eq(v, ymd(2024, 2, 29));
    ck_assert_int_eq(date_parse("0001-01-01", &v), 0);
    ck_assert_int_eq(v, DATE_MIN);
    ck_assert_int_eq(date_parse("9999-12-31", &v), 0);
    ck_assert_int_eq(v, DATE_MAX);
    ck_assert_int_eq(date_parse("2026-10-01", NULL), 0);
}
END_TEST

START_TEST(test_parse_rejects)
{
    static const char *bad[] = {
        "", "2025", "2025-1-01", "2025-01-1", "2025/01/01", "2025-01-01 ", " 2025-01-01",
        "2025-01-01T00:00:00", "+025-01-01", "-025-01-01", "2025-02-29", "2025-13-01",
        "2025-00-10", "2025-01-32", "2025-01-00", "0000-01-01", "20250101", "2025-01-0a",
        "２０２５-01-01", "2025-01-01\n", "12025-01-01",
    };
    int32_t v = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(date_parse(bad[i], &v) == -1, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(date_parse(NULL, &v), -1);
    ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_format)
{
    char out[DATE_STR_SIZE];
    ck_assert_int_eq(date_format(0, out), 0);
    ck_assert_str_eq(out, "1970-01-01");
    ck_assert_int_eq(date_format(ymd(2024, 2, 29), out), 0);
    ck_assert_str_eq(out, "2024-02-29");
    ck_assert_int_eq(date_format(DATE_MIN, out), 0);
    ck_assert_str_eq(out, "0001-01-01");
    ck_assert_int_eq(date_format(DATE_MAX, out), 0);
    ck_assert_str_eq(out, "9999-12-31");
    ck_assert_int_eq(date_format(DATE_MAX + 1, out), -1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(date_format(DATE_MIN - 1, out), -1);
    ck_assert_int_eq(date_format(INT32_MIN, out), -1);
}
END_TEST

START_TEST(test_format_parse_round_trip)
{
    char out[DATE_STR_SIZE];
    for (int32_t day = DATE_MIN; day <= DATE_MAX; day += 331) {
        int32_t back = 0;
        ck_assert_int_eq(date_format(day, out), 0);
        ck_assert_int_eq(date_parse(out, &back), 0);
        ck_assert_int_eq(back, day);
    }
}
END_TEST

START_TEST(test_weekday)
{
    ck_assert_int_eq(date_weekday(0), 3);                 /* 1970-01-01 Thursday */
    ck_assert_int_eq(date_weekday(-1), 2);                /* Wednesday */
    ck_assert_int_eq(date_weekday(4), 0);                 /* 1970-01-05 Monday */
    ck_assert_int_eq(date_weekday(ymd(2026, 10, 1)), 3);  /* Thursday */
    ck_assert_int_eq(date_weekday(ymd(2026, 9, 27)), 6);  /* Sunday */
    ck_assert_int_eq(date_weekday(ymd(2026, 10, 10)), 5); /* Saturday */
    ck_assert_int_eq(date_weekday(ymd(2000, 1, 1)), 5);   /* Saturday */
    ck_assert_int_eq(date_weekday(ymd(1, 1, 1)), 0);      /* proleptic Monday */
    ck_assert_int_eq(date_weekday(INT32_MIN), (date_weekday(INT32_MIN + 7)));
    for (int32_t d = -30; d < 30; d++)
        ck_assert_int_eq(date_weekday(d + 1), (date_weekday(d) + 1) % 7);
}
END_TEST

START_TEST(test_today_in_tz)
{
    /* 2026-11-22T16:00:00Z is already 2026-11-23 00:00 in Shanghai. */
    time_t t = (time_t)ymd(2026, 11, 22) * 86400 + 16 * 3600;
    ck_assert_int_eq(date_today_in_tz(t, 0), ymd(2026, 11, 22));
    ck_assert_int_eq(date_shanghai_today(t), ymd(2026, 11, 23));
    ck_assert_int_eq(date_shanghai_today(t - 1), ymd(2026, 11, 22));
    ck_assert_int_eq(date_today_in_tz(t, 480), ymd(2026, 11, 23));
    ck_assert_int_eq(date_today_in_tz(t, -300), ymd(2026, 11, 22));
    /* Early UTC morning is the previous day west of Greenwich. */
    ck_assert_int_eq(date_today_in_tz((time_t)ymd(2026, 1, 1) * 86400 + 3600, -300),
                     ymd(2025, 12, 31));
    /* Before 1970: floor, not truncation. */
    ck_assert_int_eq(date_today_in_tz(-1, 0), -1);
    ck_assert_int_eq(date_today_in_tz(-86400, 0), -1);
    ck_assert_int_eq(date_today_in_tz(-86401, 0), -2);
    ck_assert_int_eq(date_shanghai_today(-1), 0); /* 1970-01-01 07:59:59 +08 */
    ck_assert_int_eq(date_today_in_tz(0, 0), 0);
    /* Clamped, never overflowing. */
    ck_assert_int_eq(date_today_in_tz((time_t)INT64_MAX, 480), DATE_MAX);
    ck_assert_int_eq(date_today_in_tz((time_t)INT64_MIN, -480), DATE_MIN);
}
END_TEST

/* Agrees with the C library's UTC conversion on a spread of instants. */
START_TEST(test_today_matches_gmtime)
{
    for (int64_t t = -2208988800LL; t < 4102444800LL; t += 7777777) {
        time_t tt = (time_t)t, shifted = (time_t)(t + 8 * 3600);
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&shifted, &tm));
        ck_assert_int_eq(date_shanghai_today(tt),
                         ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
        ck_assert_int_eq(date_weekday(date_shanghai_today(tt)), (tm.tm_wday + 6) % 7);
    }
}
END_TEST

START_TEST(test_parse_datetime_utc)
{
    time_t t = 0;
    time_t base = (time_t)ymd(2026, 11, 23) * 86400;
    ck_assert_int_eq(date_parse_datetime_utc("2026-11-23 01:02:03", &t), 0);
    ck_assert_int_eq((int64_t)t, (int64_t)base + 3723);
    ck_assert_int_eq(date_parse_datetime_utc("2026-11-23 01:02:03.999999", &t), 0);
    ck_assert_int_eq((int64_t)t, (int64_t)base + 3723); /* truncated */
    ck_assert_int_eq(date_parse_datetime_utc("2026-11-23 01:02:03.5", &t), 0);
    ck_assert_int_eq((int64_t)t, (int64_t)base + 3723);
    ck_assert_int_eq(date_parse_datetime_utc("1970-01-01 00:00:00", &t), 0);
    ck_assert_int_eq((int64_t)t, 0);
    ck_assert_int_eq(date_parse_datetime_utc("1969-12-31 23:59:59", &t), 0);
    ck_assert_int_eq((int64_t)t, -1);
    ck_assert_int_eq(date_parse_datetime_utc("2024-02-29 23:59:59.000", &t), 0);
    ck_assert_int_eq((int64_t)t, (int64_t)ymd(2024, 3, 1) * 86400 - 1);
    ck_assert_int_eq(date_parse_datetime_utc("9999-12-31 23:59:59", NULL), 0);
}
END_TEST

START_TEST(test_parse_datetime_rejects)
{
    static const char *bad[] = {
        "", "2026-11-23", "2026-11-23 ", "2026-11-23T01:02:03", "2026-11-23 01:02:03Z",
        "2026-11-23 01:02:03 ", "2026-11-23 1:02:03", "2026-11-23 24:00:00",
        "2026-11-23 23:60:00", "2026-11-23 23:59:60", "2026-11-23 01:02:03.",
        "2026-11-23 01:02:03.1234567", "2026-11-23 01:02:03.12a", "2026-11-23 01:02:03,5",
        "2025-02-29 00:00:00", "2026-11-23 01:02", "2026-11-23  01:02:03",
        "2026-11-23 01:02:03+08:00",
    };
    time_t t = 99;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(date_parse_datetime_utc(bad[i], &t) == -1, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(date_parse_datetime_utc(NULL, &t), -1);
    ck_assert_int_eq((int64_t)t, 99);
}
END_TEST

START_TEST(test_format_iso8601)
{
    char out[DATE_ISO_STR_SIZE];
    time_t t;
    ck_assert_int_eq(date_parse_datetime_utc("2026-11-23 01:02:03.250", &t), 0);
    ck_assert_int_eq(date_format_iso8601_utc(t, out), 0);
    ck_assert_str_eq(out, "2026-11-23T01:02:03Z");
    ck_assert_int_eq(date_format_iso8601_utc(0, out), 0);
    ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
    ck_assert_int_eq(date_format_iso8601_utc(-1, out), 0);
    ck_assert_str_eq(out, "1969-12-31T23:59:59Z");
    ck_assert_int_eq(date_format_iso8601_utc((time_t)DATE_MAX * 86400 + 86399, out), 0);
    ck_assert_str_eq(out, "9999-12-31T23:59:59Z");
    ck_assert_int_eq(date_format_iso8601_utc((time_t)DATE_MIN * 86400, out), 0);
    ck_assert_str_eq(out, "0001-01-01T00:00:00Z");
    ck_assert_int_eq(date_format_iso8601_utc((time_t)DATE_MAX * 86400 + 86400, out), -1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(date_format_iso8601_utc((time_t)INT64_MIN, out), -1);
    ck_assert_int_eq(date_format_iso8601_utc((time_t)INT64_MAX, out), -1);
}
END_TEST

START_TEST(test_iso8601_matches_gmtime)
{
    char out[DATE_ISO_STR_SIZE], want[DATE_ISO_STR_SIZE];
    /* From year 1000: glibc's %Y does not zero-pad smaller years. */
    for (int64_t t = -30610224000LL; t < 253402300800LL; t += 123456789) {
        time_t tt = (time_t)t;
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
        ck_assert_uint_gt(strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
        ck_assert_int_eq(date_format_iso8601_utc(tt, out), 0);
        ck_assert_str_eq(out, want);
    }
}
END_TEST

Suite *date_suite(void)
{
    Suite *s = suite_create("date");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(test_from_ymd_known, test_from_ymd_invalid,
                      test_leap_and_month_lengths, test_round_trip_whole_range,
                      test_to_ymd_null_outputs, test_parse_ok, test_parse_rejects, test_format,
                      test_format_parse_round_trip, test_weekday, test_today_in_tz,
                      test_today_matches_gmtime, test_parse_datetime_utc,
                      test_parse_datetime_rejects, test_format_iso8601,
                      test_iso8601_matches_gmtime));
    tcase_set_timeout(tc, 60);
    return s;
}
