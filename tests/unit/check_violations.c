/* Unit tests for modules/violations: licence class coverage, the 12-point
 * rule, the scoring cycle, licence usability, field syntax and the amount
 * due of a loaded row (late_fee.h boundaries through violations.h). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "modules/violations/violations.h"
#include "modules/violations/violations_rules.h"
#include "server/date.h"
#include "tests/unit/check_util.h"

static int32_t day_of(const char *s)
{
    int32_t v = 0;
    ck_assert_msg(date_parse(s, &v) == 0, "bad test date %s", s);
    return v;
}

/* ---- classes ---------------------------------------------------------- */

START_TEST(test_class_covers_listed)
{
    static const char *const a1[] = {"A1", "A3", "B1", "B2", "C1", "C2", "C3", "C4"};
    static const char *const a2[] = {"A2", "B2", "C1", "C2", "C3", "C4"};
    static const char *const b2[] = {"B2", "C1", "C2", "C3", "C4"};
    static const char *const c1[] = {"C1", "C2", "C3", "C4"};
    for (size_t i = 0; i < sizeof a1 / sizeof a1[0]; i++)
        ck_assert_msg(violations_class_covers("A1", a1[i]), "A1 covers %s", a1[i]);
    for (size_t i = 0; i < sizeof a2 / sizeof a2[0]; i++)
        ck_assert_msg(violations_class_covers("A2", a2[i]), "A2 covers %s", a2[i]);
    for (size_t i = 0; i < sizeof b2 / sizeof b2[0]; i++)
        ck_assert_msg(violations_class_covers("B2", b2[i]), "B2 covers %s", b2[i]);
    for (size_t i = 0; i < sizeof c1 / sizeof c1[0]; i++)
        ck_assert_msg(violations_class_covers("C1", c1[i]), "C1 covers %s", c1[i]);
    ck_assert(violations_class_covers("C2", "C2"));
    ck_assert(violations_class_covers("D", "E"));
}
END_TEST

START_TEST(test_class_does_not_cover)
{
    ck_assert(!violations_class_covers("A1", "A2"));
    ck_assert(!violations_class_covers("A1", "D"));
    ck_assert(!violations_class_covers("A1", "M"));
    ck_assert(!violations_class_covers("A2", "A1"));
    ck_assert(!violations_class_covers("A2", "B1"));
    ck_assert(!violations_class_covers("A2", "A3"));
    ck_assert(!violations_class_covers("B2", "B1"));
    ck_assert(!violations_class_covers("B2", "A2"));
    ck_assert(!violations_class_covers("C1", "B2"));
    ck_assert(!violations_class_covers("C1", "D"));
    ck_assert(!violations_class_covers("C2", "C1"));
    ck_assert(!violations_class_covers("C2", "C3"));
    ck_assert(!violations_class_covers("C2", "C4"));
    ck_assert(!violations_class_covers("E", "D"));
    /* unknown or missing classes cover nothing */
    ck_assert(!violations_class_covers("Z9", "C1"));
    ck_assert(!violations_class_covers("C1", "Z9"));
    ck_assert(!violations_class_covers("C1", ""));
    ck_assert(!violations_class_covers(NULL, "C1"));
    ck_assert(!violations_class_covers("C1", NULL));
    ck_assert(!violations_class_covers("c1", "c1"));
}
END_TEST

START_TEST(test_class_lists)
{
    ck_assert(violations_classes_cover("C1", "C1"));
    ck_assert(violations_classes_cover("A1,D", "E"));
    ck_assert(violations_classes_cover("A1,D", "B2"));
    ck_assert(violations_classes_cover("C1E", "E"));
    ck_assert(violations_classes_cover("C1E", "C2"));
    ck_assert(violations_classes_cover("B2 D", "D"));
    ck_assert(violations_classes_cover("C2/D", "D"));
    ck_assert(!violations_classes_cover("C1E", "B2"));
    ck_assert(!violations_classes_cover("C2", "C1"));
    ck_assert(!violations_classes_cover("", "C1"));
    ck_assert(!violations_classes_cover(NULL, "C1"));
    /* a malformed list covers nothing, even if part of it would */
    ck_assert(!violations_classes_cover("C1,X9", "C1"));
    ck_assert(!violations_classes_cover("C1;D", "C1"));
    ck_assert(!violations_classes_cover("c1", "C1"));
}
END_TEST

/* ---- points ------------------------------------------------------------ */

START_TEST(test_points_online)
{
    int total = -1;
    bool full = true;
    const char *why = NULL;

    ck_assert_int_eq(violations_points_apply(0, 6, false, &total, &full, &why), 0);
    ck_assert_int_eq(total, 6);
    ck_assert(!full);
    ck_assert_int_eq(violations_points_apply(5, 6, false, &total, &full, &why), 0);
    ck_assert_int_eq(total, 11);
    ck_assert(!full);
    ck_assert_int_eq(violations_points_apply(0, 0, false, &total, &full, &why), 0);
    ck_assert_int_eq(total, 0);

    why = NULL;
    ck_assert_int_eq(violations_points_apply(6, 6, false, &total, &full, &why), -1);
    ck_assert_str_eq(why, "points_would_reach_12");
    why = NULL;
    ck_assert_int_eq(violations_points_apply(11, 1, false, &total, &full, &why), -1);
    ck_assert_str_eq(why, "points_would_reach_12");
    why = NULL;
    ck_assert_int_eq(violations_points_apply(0, 12, false, &total, &full, &why), -1);
    ck_assert_str_eq(why, "points_would_reach_12");
    why = NULL;
    ck_assert_int_eq(violations_points_apply(10, 9, false, &total, &full, &why), -1);
    ck_assert_str_eq(why, "points_would_reach_12");
}
END_TEST

START_TEST(test_points_window)
{
    int total = -1;
    bool full = false;
    const char *why = NULL;

    ck_assert_int_eq(violations_points_apply(6, 6, true, &total, &full, &why), 0);
    ck_assert_int_eq(total, 12);
    ck_assert(full);
    ck_assert_int_eq(violations_points_apply(6, 5, true, &total, &full, &why), 0);
    ck_assert_int_eq(total, 11);
    ck_assert(!full);
    ck_assert_int_eq(violations_points_apply(12, 3, true, &total, &full, &why), 0);
    ck_assert_int_eq(total, 15);
    ck_assert(full);
    ck_assert_int_eq(violations_points_apply(0, 13, true, &total, &full, &why), -1);
    ck_assert_str_eq(why, "points_invalid");
    ck_assert_int_eq(violations_points_apply(-1, 1, true, &total, &full, &why), -1);
    ck_assert_str_eq(why, "points_invalid");
    ck_assert_int_eq(violations_points_apply(0, -1, false, &total, &full, NULL), -1);
}
END_TEST

/* ---- cycle ------------------------------------------------------------- */

START_TEST(test_cycle)
{
    int32_t cur = 0;

    ck_assert(!violations_cycle_current(day_of("2025-03-10"), day_of("2025-03-10"), &cur));
    ck_assert_int_eq(cur, day_of("2025-03-10"));
    ck_assert(!violations_cycle_current(day_of("2025-03-10"), day_of("2026-03-09"), &cur));
    ck_assert_int_eq(cur, day_of("2025-03-10"));
    ck_assert(violations_cycle_current(day_of("2025-03-10"), day_of("2026-03-10"), &cur));
    ck_assert_int_eq(cur, day_of("2026-03-10"));
    ck_assert(violations_cycle_current(day_of("2020-03-10"), day_of("2026-01-05"), &cur));
    ck_assert_int_eq(cur, day_of("2025-03-10"));
    /* before the cycle start: unchanged */
    ck_assert(!violations_cycle_current(day_of("2025-03-10"), day_of("2024-01-01"), &cur));
    ck_assert_int_eq(cur, day_of("2025-03-10"));
    /* leap-day start: 1 March in common years, 29 February in leap ones */
    ck_assert(!violations_cycle_current(day_of("2024-02-29"), day_of("2025-02-28"), &cur));
    ck_assert(violations_cycle_current(day_of("2024-02-29"), day_of("2025-03-01"), &cur));
    ck_assert_int_eq(cur, day_of("2025-03-01"));
    ck_assert(violations_cycle_current(day_of("2024-02-29"), day_of("2028-02-29"), &cur));
    ck_assert_int_eq(cur, day_of("2028-02-29"));
    ck_assert(violations_cycle_current(day_of("2024-02-29"), day_of("2028-02-28"), &cur));
    ck_assert_int_eq(cur, day_of("2027-03-01"));
}
END_TEST

/* ---- cancelling ------------------------------------------------------- */

START_TEST(test_points_on_cancel_current_cycle)
{
    int after = -1;
    bool lift = true;

    /* handled in the licence's cycle: the points go back, never below 0 */
    ck_assert(violations_points_on_cancel(4, day_of("2026-06-30"), "valid", 3, day_of("2026-08-01"),
                                          day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 1);
    ck_assert(!lift);
    ck_assert(violations_points_on_cancel(2, day_of("2026-06-30"), "valid", 3, day_of("2026-06-30"),
                                          day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 0);
    /* a cycle start still ahead (today before it) is the current cycle */
    ck_assert(violations_points_on_cancel(5, day_of("2026-12-01"), "valid", 5, day_of("2026-12-01"),
                                          day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 0);
}
END_TEST

START_TEST(test_points_on_cancel_other_cycle)
{
    int after = -1;
    bool lift = true;

    /* handled before the licence's cycle began (the cycle rolled over since
     * and new points were counted): nothing comes off the new total */
    ck_assert(!violations_points_on_cancel(2, day_of("2026-06-30"), "valid", 3, day_of("2026-06-29"),
                                           day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 2);
    ck_assert(!lift);
    /* stored cycle finished (not yet rolled by a handling): its points lapse,
     * so a cancel of one of them gives nothing back either */
    ck_assert(!violations_points_on_cancel(6, day_of("2025-06-30"), "valid", 3, day_of("2026-01-10"),
                                           day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 6);
    /* unknown handling day: in doubt, nothing */
    ck_assert(!violations_points_on_cancel(6, day_of("2026-06-30"), "valid", 3, 0,
                                           day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 6);
}
END_TEST

START_TEST(test_points_on_cancel_full_score)
{
    int after = -1;
    bool lift = false;

    /* 12 reached in this cycle, back below 12: lifted */
    ck_assert(violations_points_on_cancel(12, day_of("2026-06-30"), "full_score", 6,
                                          day_of("2026-08-01"), day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 6);
    ck_assert(lift);
    /* still 12 or more: kept */
    ck_assert(violations_points_on_cancel(15, day_of("2026-06-30"), "full_score", 3,
                                          day_of("2026-08-01"), day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 12);
    ck_assert(!lift);
    /* full score without 12 points counted (set otherwise): kept */
    ck_assert(violations_points_on_cancel(3, day_of("2026-06-30"), "full_score", 3,
                                          day_of("2026-08-01"), day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 0);
    ck_assert(!lift);
    /* a full score licence does not roll its cycle: the points of the cycle
     * it reached 12 in still go back after the anniversary, and lift it */
    ck_assert(violations_points_on_cancel(12, day_of("2025-06-30"), "full_score", 3,
                                          day_of("2026-01-10"), day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 9);
    ck_assert(lift);
    /* handled before that cycle: nothing, no lift */
    ck_assert(!violations_points_on_cancel(12, day_of("2026-06-30"), "full_score", 6,
                                           day_of("2026-06-01"), day_of("2026-11-23"), &after, &lift));
    ck_assert_int_eq(after, 12);
    ck_assert(!lift);
    /* a 'valid' licence is never "lifted" */
    ck_assert(violations_points_on_cancel(12, day_of("2026-06-30"), "valid", 6, day_of("2026-08-01"),
                                          day_of("2026-11-23"), &after, &lift));
    ck_assert(!lift);
}
END_TEST

/* ---- licence ----------------------------------------------------------- */

START_TEST(test_licence_usable)
{
    const char *why = NULL;
    int32_t today = day_of("2026-05-01");

    ck_assert_int_eq(violations_licence_usable("valid", today, today, false, &why), 0);
    ck_assert_int_eq(violations_licence_usable("valid", today - 1, today, false, &why), -1);
    ck_assert_str_eq(why, "licence_expired");
    ck_assert_int_eq(violations_licence_usable("valid", today - 1, today, true, &why), -1);
    ck_assert_str_eq(why, "licence_expired");
    ck_assert_int_eq(violations_licence_usable("full_score", today + 9, today, false, &why), -1);
    ck_assert_str_eq(why, "licence_full_score");
    ck_assert_int_eq(violations_licence_usable("full_score", today + 9, today, true, &why), 0);
    ck_assert_int_eq(violations_licence_usable("suspended", today + 9, today, false, &why), -1);
    ck_assert_str_eq(why, "licence_not_valid");
    ck_assert_int_eq(violations_licence_usable("revoked", today + 9, today, true, &why), -1);
    ck_assert_str_eq(why, "licence_not_valid");
    ck_assert_int_eq(violations_licence_usable("expired", today + 9, today, false, &why), -1);
    ck_assert_str_eq(why, "licence_not_valid");
    ck_assert_int_eq(violations_licence_usable(NULL, today + 9, today, false, &why), -1);
}
END_TEST

/* ---- fields ------------------------------------------------------------ */

START_TEST(test_plate)
{
    const char *why = NULL;
    char out[VIOLATIONS_PLATE_CANON_SIZE];

    ck_assert_int_eq(violations_plate_normalize("浙A·12345", out, &why), 0);
    ck_assert_str_eq(out, "浙A12345");
    ck_assert_int_eq(violations_plate_normalize("浙A12345", out, &why), 0);
    ck_assert_str_eq(out, "浙A12345");
    ck_assert_int_eq(violations_plate_normalize("京B·AB123", out, &why), 0);
    ck_assert_str_eq(out, "京BAB123");
    ck_assert_int_eq(violations_plate_normalize("ABCD·12345", out, &why), -1);
    ck_assert_str_eq(why, "plate_prefix");
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(violations_plate_normalize("浙I·12345", out, &why), -1);
    ck_assert_str_eq(why, "plate_prefix");
    ck_assert_int_eq(violations_plate_normalize("浙a·12345", out, &why), -1);
    ck_assert_str_eq(why, "plate_prefix");
    ck_assert_int_eq(violations_plate_normalize("浙A·1234", out, &why), -1);
    ck_assert_str_eq(why, "plate_length");
    ck_assert_int_eq(violations_plate_normalize("浙A·123456", out, &why), -1);
    ck_assert_str_eq(why, "plate_length");
    ck_assert_int_eq(violations_plate_normalize("浙A·1O345", out, &why), -1);
    ck_assert_str_eq(why, "plate_forbidden_letter");
    ck_assert_int_eq(violations_plate_normalize("浙A·12a45", out, &why), -1);
    ck_assert_str_eq(why, "plate_character");
    ck_assert_int_eq(violations_plate_normalize("浙A 12345", out, &why), -1);
    ck_assert_str_eq(why, "plate_length");
    ck_assert_int_eq(violations_plate_normalize("浙A", out, &why), -1);
    ck_assert_str_eq(why, "plate_format");
    ck_assert_int_eq(violations_plate_normalize(NULL, out, &why), -1);
    ck_assert_str_eq(why, "plate_format");
}
END_TEST

START_TEST(test_codes)
{
    const char *why = NULL;

    ck_assert_int_eq(violations_decision_no_check("330100-2026-000123", &why), 0);
    ck_assert_int_eq(violations_decision_no_check("ABC123", &why), 0);
    ck_assert_int_eq(violations_decision_no_check("AB123", &why), -1);
    ck_assert_str_eq(why, "decision_no_format");
    ck_assert_int_eq(violations_decision_no_check("-ABC123", &why), -1);
    ck_assert_int_eq(violations_decision_no_check("abc123", &why), -1);
    ck_assert_int_eq(violations_decision_no_check("ABC 123", &why), -1);
    ck_assert_int_eq(violations_decision_no_check("A23456789012345678901234567890123", &why), -1);

    ck_assert_int_eq(violations_code_check("1625", &why), 0);
    ck_assert_int_eq(violations_code_check("13441", &why), 0);
    ck_assert_int_eq(violations_code_check("162", &why), -1);
    ck_assert_str_eq(why, "code_format");
    ck_assert_int_eq(violations_code_check("1625A", &why), -1);
    ck_assert_int_eq(violations_code_check("1234567", &why), -1);

    ck_assert_int_eq(violations_vehicle_type_check("K33", &why), 0);
    ck_assert_int_eq(violations_vehicle_type_check("k33", &why), -1);
    ck_assert_str_eq(why, "vehicle_type_format");
    ck_assert_int_eq(violations_vehicle_type_check("K3", &why), -1);
    ck_assert_int_eq(violations_vehicle_type_check("K333", &why), -1);

    ck_assert(violations_agency_valid("traffic"));
    ck_assert(violations_agency_valid("urban"));
    ck_assert(!violations_agency_valid("police"));
    ck_assert(!violations_agency_valid(NULL));
    ck_assert(violations_source_valid("camera"));
    ck_assert(violations_source_valid("officer"));
    ck_assert(!violations_source_valid("drone"));
}
END_TEST

START_TEST(test_instant)
{
    time_t t = 0;

    ck_assert_int_eq(violations_parse_instant("2026-03-01T08:30:00Z", &t), 0);
    ck_assert_int_eq((long long)t, 1772353800LL);
    ck_assert_int_eq(violations_parse_instant("2026-03-01T16:30:00+08:00", &t), 0);
    ck_assert_int_eq((long long)t, 1772353800LL);
    ck_assert_int_eq(violations_parse_instant("2026-03-01T03:30:00-05:00", &t), 0);
    ck_assert_int_eq((long long)t, 1772353800LL);
    ck_assert_int_eq(violations_parse_instant("2026-03-01T08:30:00", &t), -1);
    ck_assert_int_eq(violations_parse_instant("2026-03-01 08:30:00Z", &t), -1);
    ck_assert_int_eq(violations_parse_instant("2026-03-01T08:30:00.5Z", &t), -1);
    ck_assert_int_eq(violations_parse_instant("2026-02-29T08:30:00Z", &t), -1);
    ck_assert_int_eq(violations_parse_instant("2026-03-01T24:00:00Z", &t), -1);
    ck_assert_int_eq(violations_parse_instant("2026-03-01T08:30:00+15:00", &t), -1);
    ck_assert_int_eq(violations_parse_instant(" 2026-03-01T08:30:00Z", &t), -1);
    ck_assert_int_eq(violations_parse_instant(NULL, &t), -1);
}
END_TEST

START_TEST(test_text)
{
    ck_assert(violations_text_ok("杭州市文一路", 255));
    ck_assert(violations_text_ok("a", 1));
    ck_assert(!violations_text_ok("ab", 1));
    ck_assert(violations_text_ok("杭州", 2));
    ck_assert(!violations_text_ok("杭州市", 2));
    ck_assert(!violations_text_ok("", 10));
    ck_assert(!violations_text_ok("   ", 10));
    ck_assert(!violations_text_ok("a\nb", 10));
    ck_assert(!violations_text_ok("a\x7f", 10));
    ck_assert(!violations_text_ok("\xc3\x28", 10));
    ck_assert(!violations_text_ok("\xed\xa0\x80", 10));
    ck_assert(!violations_text_ok(NULL, 10));
}
END_TEST

/* ---- amount due -------------------------------------------------------- */

START_TEST(test_amount_due_boundaries)
{
    violations_row v;
    int64_t fine = -1, fee = -1;
    int32_t served = day_of("2026-01-10");

    memset(&v, 0, sizeof v);
    v.fine_fen = 20000;
    v.served_date = served;
    violations_amount_due_on(&v, served, &fine, &fee);
    ck_assert_int_eq(fine, 20000);
    ck_assert_int_eq(fee, 0);
    violations_amount_due_on(&v, served + 15, &fine, &fee); /* deadline day */
    ck_assert_int_eq(fee, 0);
    violations_amount_due_on(&v, served + 16, &fine, &fee); /* first late day: 3% */
    ck_assert_int_eq(fee, 600);
    violations_amount_due_on(&v, served + 20, &fine, &fee); /* 5 late days: 15% */
    ck_assert_int_eq(fee, 3000);
    violations_amount_due_on(&v, served + 48, &fine, &fee); /* 33 late days: 99% */
    ck_assert_int_eq(fee, 19800);
    violations_amount_due_on(&v, served + 49, &fine, &fee); /* capped at the fine */
    ck_assert_int_eq(fee, 20000);
    violations_amount_due_on(&v, served + 50, &fine, &fee);
    ck_assert_int_eq(fee, 20000);
    violations_amount_due_on(&v, served + 4000, &fine, &fee);
    ck_assert_int_eq(fee, 20000);
    ck_assert_int_eq(fine, 20000);
}
END_TEST

START_TEST(test_amount_due_leap_day)
{
    violations_row v;
    int64_t fine = 0, fee = 0;

    memset(&v, 0, sizeof v);
    v.fine_fen = 10000;
    v.served_date = day_of("2024-02-14");
    violations_amount_due_on(&v, day_of("2024-02-29"), &fine, &fee); /* deadline is the leap day */
    ck_assert_int_eq(fee, 0);
    violations_amount_due_on(&v, day_of("2024-03-01"), &fine, &fee);
    ck_assert_int_eq(fee, 300);
    v.served_date = day_of("2025-02-14");
    violations_amount_due_on(&v, day_of("2025-03-01"), &fine, &fee); /* no leap day in 2025 */
    ck_assert_int_eq(fee, 0);
    violations_amount_due_on(&v, day_of("2025-03-02"), &fine, &fee);
    ck_assert_int_eq(fee, 300);
    /* a free fine earns no fee */
    v.fine_fen = 0;
    violations_amount_due_on(&v, day_of("2026-03-02"), &fine, &fee);
    ck_assert_int_eq(fine, 0);
    ck_assert_int_eq(fee, 0);
}
END_TEST

/* Issue 10, item 12: points go online only to a licence tied to the vehicle. */
START_TEST(test_handling_tie)
{
    const char *why = NULL;
    unsigned docs = VIOLATIONS_DOC_VEHICLE_LICENCE | VIOLATIONS_DOC_OWNER_AUTHORIZATION;

    ck_assert_str_eq(violations_handling_tie(true, false, false, 0, &why), "owner");
    ck_assert_str_eq(violations_handling_tie(true, true, true, 0, &why), "owner");
    ck_assert_str_eq(violations_handling_tie(false, true, false, 0, &why), "bound");
    ck_assert_str_eq(violations_handling_tie(false, true, true, 0, &why), "bound");
    /* a stranger online: refused, whatever documents are claimed */
    ck_assert_ptr_null(violations_handling_tie(false, false, false, docs, &why));
    ck_assert_str_eq(why, "no_tie_to_vehicle");
    /* at a window, with the vehicle's licence and the owner's ID or authorisation */
    ck_assert_str_eq(violations_handling_tie(false, false, true, docs, &why), "window_documents");
    ck_assert_str_eq(violations_handling_tie(false, false, true,
                                             VIOLATIONS_DOC_VEHICLE_LICENCE | VIOLATIONS_DOC_OWNER_ID,
                                             &why),
                     "window_documents");
    why = NULL;
    ck_assert_ptr_null(violations_handling_tie(false, false, true, 0, &why));
    ck_assert_str_eq(why, "documents_required");
    ck_assert_ptr_null(violations_handling_tie(false, false, true,
                                               VIOLATIONS_DOC_VEHICLE_LICENCE | VIOLATIONS_DOC_DECISION,
                                               &why));
    ck_assert_ptr_null(violations_handling_tie(false, false, true, VIOLATIONS_DOC_OWNER_ID, &why));
    ck_assert_uint_eq(violations_document_bit("vehicle_licence"), VIOLATIONS_DOC_VEHICLE_LICENCE);
    ck_assert_uint_eq(violations_document_bit("owner_authorization"),
                      VIOLATIONS_DOC_OWNER_AUTHORIZATION);
    ck_assert_uint_eq(violations_document_bit("driver_licence"), 0);
    ck_assert_uint_eq(violations_document_bit(""), 0);
    ck_assert_uint_eq(violations_document_bit(NULL), 0);
}
END_TEST

Suite *violations_suite(void)
{
    Suite *s = suite_create("violations");
    check_tcase(s, "core", CHECK_TESTS(test_class_covers_listed, test_class_does_not_cover,
                      test_class_lists, test_points_online, test_points_window, test_cycle,
                      test_points_on_cancel_current_cycle, test_points_on_cancel_other_cycle,
                      test_points_on_cancel_full_score, test_licence_usable, test_plate,
                      test_codes, test_instant, test_text, test_amount_due_boundaries,
                      test_amount_due_leap_day, test_handling_tie));
    return s;
}
