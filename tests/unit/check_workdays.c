/* Unit tests for modules/cases/workdays.c.
 *
 * The holiday calendar used here is the test's own 2026 National Day
 * arrangement: 2026-10-01 (Thursday) .. 2026-10-07 off, with make-up working
 * days on 2026-09-27 (Sunday) and 2026-10-10 (Saturday).
 *
 *   Sep 25 Fri  work        Oct 01 Thu .. Oct 07 Wed  holiday
 *   Sep 26 Sat  off         Oct 08 Thu  work
 *   Sep 27 Sun  WORK        Oct 09 Fri  work
 *   Sep 28 Mon  work        Oct 10 Sat  WORK
 *   Sep 29 Tue  work        Oct 11 Sun  off
 *   Sep 30 Wed  work        Oct 12 Mon  work
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "modules/cases/workdays.h"
#include "server/date.h"
#include "tests/unit/check_util.h"

#define NATIONAL_DAY_HOLIDAYS \
    "2026-10-01,2026-10-02,2026-10-03,2026-10-04,2026-10-05,2026-10-06,2026-10-07"
#define NATIONAL_DAY_WORKDAYS "2026-09-27,2026-10-10"

static int32_t D(const char *s)
{
    int32_t v = 0;
    ck_assert_msg(date_parse(s, &v) == 0, "bad test date %s", s);
    return v;
}

static cases_calendar *cal;

static void setup(void)
{
    const char *why = NULL;
    cal = cases_calendar_new(NATIONAL_DAY_HOLIDAYS, NATIONAL_DAY_WORKDAYS, &why);
    ck_assert_msg(cal != NULL, "calendar: %s", why ? why : "?");
}

static void teardown(void)
{
    cases_calendar_free(cal);
    cal = NULL;
}

START_TEST(test_is_workday)
{
    ck_assert(cases_is_workday(cal, D("2026-09-25")));  /* Fri */
    ck_assert(!cases_is_workday(cal, D("2026-09-26"))); /* Sat */
    ck_assert(cases_is_workday(cal, D("2026-09-27")));  /* Sun, make-up */
    ck_assert(cases_is_workday(cal, D("2026-09-30")));  /* Wed */
    for (int32_t d = D("2026-10-01"); d <= D("2026-10-07"); d++)
        ck_assert(!cases_is_workday(cal, d));
    ck_assert(cases_is_workday(cal, D("2026-10-08")));
    ck_assert(cases_is_workday(cal, D("2026-10-10")));  /* Sat, make-up */
    ck_assert(!cases_is_workday(cal, D("2026-10-11"))); /* Sun */
    ck_assert(!cases_is_workday(cal, D("2026-10-17"))); /* an ordinary Saturday */
    /* NULL calendar: plain Monday..Friday. */
    ck_assert(cases_is_workday(NULL, D("2026-10-01")));
    ck_assert(!cases_is_workday(NULL, D("2026-09-27")));
}
END_TEST

START_TEST(test_plain_week)
{
    int32_t mon = D("2026-11-02");
    ck_assert_int_eq(date_weekday(mon), 0);
    ck_assert_int_eq(cases_add_workdays(cal, mon, 1), D("2026-11-03"));
    ck_assert_int_eq(cases_add_workdays(cal, mon, 3), D("2026-11-05"));
    ck_assert_int_eq(cases_add_workdays(cal, mon, 4), D("2026-11-06"));
    ck_assert_int_eq(cases_add_workdays(NULL, mon, 4), D("2026-11-06"));
    ck_assert_int_eq(cases_workdays_between(cal, mon, D("2026-11-06")), 4);
    ck_assert_int_eq(cases_workdays_between(NULL, mon, D("2026-11-06")), 4);
}
END_TEST

START_TEST(test_across_weekend)
{
    int32_t mon = D("2026-11-02");
    ck_assert_int_eq(cases_add_workdays(cal, mon, 5), D("2026-11-09"));
    ck_assert_int_eq(cases_add_workdays(cal, mon, 10), D("2026-11-16"));
    ck_assert_int_eq(cases_add_workdays(cal, mon, 15), D("2026-11-23"));
    ck_assert_int_eq(cases_workdays_between(cal, mon, D("2026-11-09")), 5);
    ck_assert_int_eq(cases_workdays_between(cal, mon, D("2026-11-08")), 4); /* Sunday */
    ck_assert_int_eq(cases_workdays_between(cal, D("2026-11-06"), D("2026-11-08")), 0);
}
END_TEST

START_TEST(test_submitted_friday_saturday_sunday)
{
    /* Counting starts the day after submission, whatever that day is. */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-06"), 1), D("2026-11-09")); /* Fri */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-07"), 1), D("2026-11-09")); /* Sat */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-08"), 1), D("2026-11-09")); /* Sun */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-07"), 5), D("2026-11-13"));
    /* Before the holiday, the make-up Sunday counts. */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-09-25"), 1), D("2026-09-27")); /* Fri */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-09-26"), 1), D("2026-09-27")); /* Sat */
    ck_assert_int_eq(cases_add_workdays(NULL, D("2026-09-25"), 1), D("2026-09-28"));
}
END_TEST

START_TEST(test_across_national_day)
{
    int32_t wed = D("2026-09-30");
    ck_assert_int_eq(cases_add_workdays(cal, wed, 1), D("2026-10-08"));
    ck_assert_int_eq(cases_add_workdays(cal, wed, 2), D("2026-10-09"));
    ck_assert_int_eq(cases_add_workdays(cal, wed, 3), D("2026-10-10")); /* make-up Saturday */
    ck_assert_int_eq(cases_add_workdays(cal, wed, 4), D("2026-10-12"));
    ck_assert_int_eq(cases_add_workdays(NULL, wed, 1), D("2026-10-01"));

    ck_assert_int_eq(cases_add_workdays(cal, D("2026-09-25"), 5), D("2026-10-08"));
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-09-25"), 10), D("2026-10-14"));
    ck_assert_int_eq(cases_workdays_between(cal, D("2026-09-25"), D("2026-10-12")), 8);
    ck_assert_int_eq(cases_workdays_between(cal, wed, D("2026-10-07")), 0);
    ck_assert_int_eq(cases_workdays_between(NULL, D("2026-09-25"), D("2026-10-12")), 11);
}
END_TEST

START_TEST(test_submitted_on_holiday)
{
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-10-01"), 1), D("2026-10-08"));
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-10-03"), 1), D("2026-10-08"));
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-10-07"), 1), D("2026-10-08"));
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-10-05"), 3), D("2026-10-10"));
}
END_TEST

START_TEST(test_zero_and_negative_n)
{
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-02"), 0), D("2026-11-02"));
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-10-03"), 0), D("2026-10-03")); /* holiday */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-07"), 0), D("2026-11-07")); /* Sat */
    ck_assert_int_eq(cases_add_workdays(cal, D("2026-11-02"), -5), D("2026-11-02"));
    ck_assert_int_eq(cases_workdays_between(cal, D("2026-11-02"), D("2026-11-02")), 0);
    ck_assert_int_eq(cases_workdays_between(cal, D("2026-11-09"), D("2026-11-02")), 0);
}
END_TEST

START_TEST(test_elapsed_permille)
{
    int32_t mon = D("2026-11-02");
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, mon, 5), 0);
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-03"), 5), 200);
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-05"), 5), 600);
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-06"), 5), CASES_WARN_PERMILLE);
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-08"), 5), 800); /* weekend */
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-09"), 5), 1000);
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-10"), 5), 1200); /* overdue */
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-04"), 3), 666); /* floor */
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-10-30"), 5), 0);  /* before */

    /* Ten working days from Friday 2026-09-25 straddle the holiday:
     * Sep 27, 28, 29, 30, Oct 8, 9, 10, 12 reach 800 on Oct 12. */
    int32_t fri = D("2026-09-25");
    ck_assert_int_eq(cases_elapsed_permille(cal, fri, D("2026-10-07"), 10), 400);
    ck_assert_int_eq(cases_elapsed_permille(cal, fri, D("2026-10-09"), 10), 600);
    ck_assert_int_eq(cases_elapsed_permille(cal, fri, D("2026-10-10"), 10), 700);
    ck_assert_int_eq(cases_elapsed_permille(cal, fri, D("2026-10-11"), 10), 700);
    ck_assert_int_eq(cases_elapsed_permille(cal, fri, D("2026-10-12"), 10), 800);
    ck_assert_int_eq(cases_elapsed_permille(NULL, fri, D("2026-10-07"), 10), 800);

    ck_assert_int_eq(cases_elapsed_permille(cal, mon, mon, 0), 1000);
    ck_assert_int_eq(cases_elapsed_permille(cal, mon, D("2026-11-10"), -1), 1000);
}
END_TEST

/* add and between agree with each other and with a day-by-day count over
 * a window around the holiday, for every start and n. */
START_TEST(test_consistency)
{
    int32_t lo = D("2026-09-01"), hi = D("2026-11-15");
    for (int32_t s = lo; s <= hi; s++) {
        int count = 0;
        for (int32_t t = s; t <= hi; t++) {
            if (t > s && cases_is_workday(cal, t))
                count++;
            ck_assert_int_eq(cases_workdays_between(cal, s, t), count);
        }
        for (int n = 0; n <= 30; n++) {
            int32_t due = cases_add_workdays(cal, s, n);
            ck_assert_int_eq(cases_workdays_between(cal, s, due), n);
            if (n > 0) {
                ck_assert(cases_is_workday(cal, due));
                ck_assert_int_eq(cases_workdays_between(cal, s, due - 1), n - 1);
            }
        }
    }
}
END_TEST

/* The O(1) weekday count holds far from 1970 too, in both directions. */
START_TEST(test_between_far_dates)
{
    for (int32_t s = D("1900-01-01"); s < D("1900-01-15"); s++) {
        int count = 0;
        for (int32_t t = s + 1; t <= s + 800; t++)
            count += date_weekday(t) < 5;
        ck_assert_int_eq(cases_workdays_between(NULL, s, s + 800), count);
        ck_assert_int_eq(cases_workdays_between(cal, s, s + 800), count);
    }
    /* (0001-01-01, 9999-12-31] is 3652058 days: 521722 weeks and 4 more
     * (Tue..Fri after the Monday start), 2608610 + 4 weekdays. The test
     * calendar removes 5 weekday holidays (Oct 3/4 are a weekend) and adds
     * 2 make-up days. */
    ck_assert_int_eq(cases_workdays_between(NULL, DATE_MIN, DATE_MAX), 2608614);
    ck_assert_int_eq(cases_workdays_between(cal, DATE_MIN, DATE_MAX), 2608614 - 5 + 2);
    ck_assert_int_eq(date_weekday(DATE_MAX), 4); /* 9999-12-31 is a Friday */
    ck_assert_int_eq(cases_add_workdays(NULL, DATE_MAX - 3, 3), DATE_MAX);
    ck_assert_int_eq(cases_add_workdays(NULL, DATE_MAX - 3, 100), DATE_MAX); /* clamped */
    ck_assert_int_eq(cases_add_workdays(NULL, D("2026-11-02"), CASES_MAX_WORKDAYS + 5),
                     cases_add_workdays(NULL, D("2026-11-02"), CASES_MAX_WORKDAYS));
}
END_TEST

START_TEST(test_calendar_parsing_ok)
{
    const char *why = NULL;
    cases_calendar *c;

    c = cases_calendar_new(NULL, NULL, &why);
    ck_assert_ptr_nonnull(c);
    ck_assert(cases_is_workday(c, D("2026-10-01")));
    cases_calendar_free(c);

    c = cases_calendar_new("", "  ", &why);
    ck_assert_ptr_nonnull(c);
    cases_calendar_free(c);

    /* Blanks around items, duplicates, unsorted input. */
    c = cases_calendar_new(" 2026-10-02 ,2026-10-01,\t2026-10-01", "2026-10-10 ", &why);
    ck_assert_ptr_nonnull(c);
    ck_assert(!cases_is_workday(c, D("2026-10-01")));
    ck_assert(!cases_is_workday(c, D("2026-10-02")));
    ck_assert(cases_is_workday(c, D("2026-10-10")));
    ck_assert_int_eq(cases_workdays_between(c, D("2026-09-30"), D("2026-10-12")), 7);
    cases_calendar_free(c);

    /* A holiday on a Saturday and a "make-up" Monday change nothing. */
    c = cases_calendar_new("2026-10-03", "2026-10-05", &why);
    ck_assert_ptr_nonnull(c);
    ck_assert(!cases_is_workday(c, D("2026-10-03")));
    ck_assert(cases_is_workday(c, D("2026-10-05")));
    ck_assert_int_eq(cases_workdays_between(c, D("2026-09-30"), D("2026-10-07")), 5);
    cases_calendar_free(c);

    cases_calendar_free(NULL);
}
END_TEST

static const struct {
    const char *holidays, *workdays, *why;
} bad_calendars[] = {
    {"2026-10-01,2026-13-01", NULL, "calendar_holiday_date"},
    {"2026-10-01,,2026-10-02", NULL, "calendar_holiday_date"},
    {"2026-10-01,", NULL, "calendar_holiday_date"},
    {",2026-10-01", NULL, "calendar_holiday_date"},
    {"2026-10-1", NULL, "calendar_holiday_date"},
    {"2026-10-01;2026-10-02", NULL, "calendar_holiday_date"},
    {"2026-10-01 2026-10-02", NULL, "calendar_holiday_date"},
    {"2025-02-29", NULL, "calendar_holiday_date"},
    {"20261001", NULL, "calendar_holiday_date"},
    {NULL, "2026-09-27,x", "calendar_workday_date"},
    {"", "2026-02-30", "calendar_workday_date"},
    {"2026-10-01", "2026-10-01", "calendar_conflict"},
    {"2026-10-01,2026-10-03", "2026-09-27,2026-10-03", "calendar_conflict"},
};

START_TEST(test_calendar_parsing_rejects)
{
    const char *why = NULL;
    cases_calendar *c = cases_calendar_new(bad_calendars[_i].holidays, bad_calendars[_i].workdays,
                                           &why);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(why, bad_calendars[_i].why);
    ck_assert_ptr_null(cases_calendar_new(bad_calendars[_i].holidays, bad_calendars[_i].workdays,
                                          NULL));
}
END_TEST

Suite *workdays_suite(void)
{
    Suite *s = suite_create("workdays");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(test_is_workday, test_plain_week,
                      test_across_weekend, test_submitted_friday_saturday_sunday,
                      test_across_national_day, test_submitted_on_holiday,
                      test_zero_and_negative_n, test_elapsed_permille, test_consistency,
                      test_between_far_dates, test_calendar_parsing_ok));
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_calendar_parsing_rejects, 0,
                        (int)(sizeof bad_calendars / sizeof bad_calendars[0]));
    return s;
}
