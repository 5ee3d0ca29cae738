/* Unit tests for the supervision rules' pure parts (modules/supervision):
 * the bureau's hour of an event and the off_hours rule's working hours. */
#include <check.h>

#include "modules/supervision/supervision_internal.h"
#include "tests/unit/check_util.h"

START_TEST(shanghai_hour_is_utc_plus_eight)
{
    ck_assert_int_eq(sup_shanghai_hour("2026-03-01T00:30:00Z"), 8);
    ck_assert_int_eq(sup_shanghai_hour("2026-03-01T10:00:00Z"), 18);
    ck_assert_int_eq(sup_shanghai_hour("2026-03-01T16:00:00Z"), 0);
    ck_assert_int_eq(sup_shanghai_hour("2026-03-01T23:59:59Z"), 7);
}
END_TEST

START_TEST(day_shift_is_start_inclusive_end_exclusive)
{
    ck_assert(!sup_working_hour(7, 8, 18));
    ck_assert(sup_working_hour(8, 8, 18));
    ck_assert(sup_working_hour(17, 8, 18));
    ck_assert(!sup_working_hour(18, 8, 18));
    for (int h = 0; h < 24; h++) {
        ck_assert(sup_working_hour(h, 0, 24));
        ck_assert(!sup_working_hour(h, 0, 0));
        ck_assert(!sup_working_hour(h, 9, 9));
    }
}
END_TEST

/* Regression: a night shift (22 to 6) used to count every hour as off hours. */
START_TEST(night_shift_wraps_past_midnight)
{
    ck_assert(sup_working_hour(22, 22, 6));
    ck_assert(sup_working_hour(23, 22, 6));
    ck_assert(sup_working_hour(0, 22, 6));
    ck_assert(sup_working_hour(5, 22, 6));
    ck_assert(!sup_working_hour(6, 22, 6));
    ck_assert(!sup_working_hour(12, 22, 6));
    ck_assert(!sup_working_hour(21, 22, 6));
}
END_TEST

Suite *supervision_suite(void)
{
    Suite *s = suite_create("supervision");
    check_tcase(s, "core", CHECK_TESTS(shanghai_hour_is_utc_plus_eight,
                day_shift_is_start_inclusive_end_exclusive, night_shift_wraps_past_midnight));
    return s;
}
