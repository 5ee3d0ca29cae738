/* Unit tests for modules/registration/registration_rules.c: the state
 * machine table and the pure rules. */
#include <check.h>
#include <string.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/registration_rules.h"
#include "server/date.h"
#include "tests/unit/check_util.h"

START_TEST(test_state_names_round_trip)
{
    for (int i = 0; i < REG_NSTATES; i++) {
        registration_state s;
        const char *n = registration_state_name((registration_state)i);
        ck_assert_ptr_nonnull(n);
        ck_assert_int_eq(registration_state_parse(n, &s), 0);
        ck_assert_int_eq(s, i);
    }
    ck_assert_ptr_null(registration_state_name(REG_NSTATES));
    {
        registration_state s = REG_DRAFT;
        ck_assert_int_eq(registration_state_parse("Draft", &s), -1);
        ck_assert_int_eq(registration_state_parse(NULL, &s), -1);
    }
    for (int e = 0; e < REG_NEVENTS; e++)
        ck_assert_ptr_nonnull(registration_event_name((registration_event)e));
}
END_TEST

static registration_state next_or(registration_state from, registration_event ev, int *ok)
{
    registration_state to = REG_NSTATES;
    *ok = registration_next_state(from, ev, &to) == 0;
    return to;
}

START_TEST(test_happy_path_mail)
{
    int ok;
    registration_state s = REG_DRAFT;
    const registration_event path[] = {REG_EV_SUBMIT, REG_EV_RESERVE_PLATE, REG_EV_BOOK,
                                       REG_EV_INSPECT_PASS, REG_EV_COMPLETE, REG_EV_MAILED};
    const registration_state want[] = {REG_SUBMITTED, REG_PLATE_RESERVED, REG_APPOINTMENT_BOOKED,
                                       REG_INSPECTED_PASSED, REG_REGISTERED, REG_DOCUMENTS_MAILED};
    for (int i = 0; i < 6; i++) {
        s = next_or(s, path[i], &ok);
        ck_assert_msg(ok, "step %d refused", i);
        ck_assert_int_eq(s, want[i]);
    }
    ck_assert_int_eq(next_or(REG_REGISTERED, REG_EV_COLLECTED, &ok), REG_COLLECTED);
    ck_assert(ok);
}
END_TEST

/* Issue 10: a check is recorded only on a booked appointment, so a failure
 * and a pass can never be recorded in one go without a new booking. */
START_TEST(test_checks_only_on_a_booked_appointment)
{
    int ok;
    for (int s = 0; s < REG_NSTATES; s++) {
        next_or((registration_state)s, REG_EV_INSPECT_PASS, &ok);
        ck_assert_int_eq(ok, s == REG_APPOINTMENT_BOOKED);
        next_or((registration_state)s, REG_EV_INSPECT_FAIL, &ok);
        ck_assert_int_eq(ok, s == REG_APPOINTMENT_BOOKED);
    }
    /* After a failure the only way back to a check is a new booking. */
    ck_assert_int_eq(next_or(REG_INSPECTED_FAILED, REG_EV_BOOK, &ok), REG_APPOINTMENT_BOOKED);
    ck_assert(ok);
    for (int e = 0; e < REG_NEVENTS; e++) {
        registration_state to = next_or(REG_INSPECTED_FAILED, (registration_event)e, &ok);
        if (ok)
            ck_assert(to != REG_INSPECTED_PASSED);
    }
}
END_TEST

START_TEST(test_lapse_returns_to_submitted)
{
    int ok;
    const registration_state yes[] = {REG_PLATE_RESERVED, REG_APPOINTMENT_BOOKED,
                                      REG_INSPECTED_FAILED};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(next_or(yes[i], REG_EV_PLATE_LAPSED, &ok), REG_SUBMITTED);
        ck_assert(ok);
    }
    /* Once passed, the number is kept for completion. */
    next_or(REG_INSPECTED_PASSED, REG_EV_PLATE_LAPSED, &ok);
    ck_assert(!ok);
    ck_assert_int_eq(next_or(REG_APPOINTMENT_BOOKED, REG_EV_NO_SHOW, &ok), REG_PLATE_RESERVED);
    ck_assert(ok);
    ck_assert_int_eq(next_or(REG_APPOINTMENT_BOOKED, REG_EV_CANCEL_BOOKING, &ok), REG_PLATE_RESERVED);
    ck_assert(ok);
}
END_TEST

START_TEST(test_cancel_only_until_inspection)
{
    int ok;
    const registration_state yes[] = {REG_DRAFT, REG_SUBMITTED, REG_PLATE_RESERVED,
                                      REG_APPOINTMENT_BOOKED, REG_INSPECTED_FAILED};
    const registration_state no[] = {REG_INSPECTED_PASSED, REG_REGISTERED, REG_DOCUMENTS_MAILED,
                                     REG_COLLECTED, REG_CANCELLED};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(next_or(yes[i], REG_EV_CANCEL, &ok), REG_CANCELLED);
        ck_assert_msg(ok, "cancel refused from %s", registration_state_name(yes[i]));
        next_or(no[i], REG_EV_CANCEL, &ok);
        ck_assert_msg(!ok, "cancel allowed from %s", registration_state_name(no[i]));
    }
}
END_TEST

/* Every (state, event) pair not in the table is refused: count them. */
START_TEST(test_wrong_transitions_refused)
{
    int allowed = 0, ok;
    for (int s = 0; s < REG_NSTATES; s++)
        for (int e = 0; e < REG_NEVENTS; e++) {
            next_or((registration_state)s, (registration_event)e, &ok);
            allowed += ok;
        }
    ck_assert_int_eq(allowed, 21);
    next_or(REG_SUBMITTED, REG_EV_BOOK, &ok); /* no plate yet */
    ck_assert(!ok);
    next_or(REG_DRAFT, REG_EV_RESERVE_PLATE, &ok); /* not submitted */
    ck_assert(!ok);
    next_or(REG_PLATE_RESERVED, REG_EV_RESERVE_PLATE, &ok); /* one reservation */
    ck_assert(!ok);
    next_or(REG_INSPECTED_FAILED, REG_EV_COMPLETE, &ok);
    ck_assert(!ok);
    next_or(REG_CANCELLED, REG_EV_SUBMIT, &ok);
    ck_assert(!ok);
    next_or(REG_SUBMITTED, REG_EV_UPDATE, &ok); /* only drafts are edited */
    ck_assert(!ok);
}
END_TEST

START_TEST(test_open_states)
{
    ck_assert(!registration_state_is_open(REG_DRAFT));
    ck_assert(registration_state_is_open(REG_SUBMITTED));
    ck_assert(registration_state_is_open(REG_INSPECTED_PASSED));
    ck_assert(!registration_state_is_open(REG_REGISTERED));
    ck_assert(!registration_state_is_open(REG_CANCELLED));
}
END_TEST

/* A vehicle type and its licence class (NULL: not a type). */
static const struct {
    const char *type, *class_;
} classes[] = {
    {"K33", "C1"},
    {"K41", "C1"},
    {"K11", "A1"},
    {"K21", "B1"},
    {"H11", "B2"},
    {"H31", "C1"},
    {"M21", "E"},
    {"K3", NULL},
    {"k33", NULL},
    {"K9X", NULL},
    {"Z11", NULL},
    {NULL, NULL},
};

START_TEST(test_class_for_type)
{
    const char *got = registration_class_for_type(classes[_i].type);
    const char *want = classes[_i].class_;

    ck_assert_msg(want ? got && strcmp(got, want) == 0 : got == NULL, "class of %s: %s, want %s",
                  classes[_i].type ? classes[_i].type : "(null)", got ? got : "(null)",
                  want ? want : "(null)");
}
END_TEST

START_TEST(test_missing_materials_all_at_once)
{
    const char *req = "conformity_certificate, purchase_invoice,insurance_policy ,purchase_tax";
    char buf[128];
    const char *missing[8];
    const char *have[] = {"purchase_invoice", "other"};
    int n = registration_missing_materials(req, have, 2, buf, missing, 8);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(missing[0], "conformity_certificate");
    ck_assert_str_eq(missing[1], "insurance_policy");
    ck_assert_str_eq(missing[2], "purchase_tax");
    n = registration_missing_materials(req, NULL, 0, buf, missing, 2);
    ck_assert_int_eq(n, 4); /* counts beyond cap */
    {
        const char *all[] = {"purchase_tax", "insurance_policy", "purchase_invoice",
                             "conformity_certificate"};
        ck_assert_int_eq(registration_missing_materials(req, all, 4, buf, missing, 8), 0);
    }
    ck_assert_int_eq(registration_missing_materials("", NULL, 0, buf, missing, 8), 0);
}
END_TEST

/* A text, whether registration_parse_instant takes it, and the instant. */
static const struct {
    const char *text;
    int rc;
    long long t;
} instants[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2025-03-01T08:00:00+08:00", 0, 1740787200LL},
    {"2025-03-01T00:00:00Z", 0, 1740787200LL},
    {"2025-02-28T19:00:00-05:00", 0, 1740787200LL},
    {"2025-02-29T00:00:00Z", -1, 0},
    {"2025-03-01 00:00:00Z", -1, 0},
    {"2025-03-01T24:00:00Z", -1, 0},
    {"2025-03-01T00:00:00", -1, 0},
    {"2025-03-01T00:00:00.5Z", -1, 0},
    {NULL, -1, 0},
};

START_TEST(test_parse_instant)
{
    time_t t = 0;
    int rc = registration_parse_instant(instants[_i].text, &t);

    ck_assert_msg(rc == instants[_i].rc, "%s: rc %d", instants[_i].text ? instants[_i].text : "(null)",
                  rc);
    if (rc == 0)
        ck_assert_msg((long long)t == instants[_i].t, "%s: %lld", instants[_i].text, (long long)t);
}
END_TEST

START_TEST(test_demo_plates_valid_and_distinct)
{
    char a[6], b[6];
    for (uint32_t i = 0; i < 2000; i++) {
        ck_assert_int_eq(registration_demo_plate(i, a), 0);
        ck_assert_int_eq(registration_plate_number_check(a, 2, NULL), 0);
        ck_assert_int_eq(registration_demo_plate(i + 1, b), 0);
        ck_assert_str_ne(a, b);
    }
    ck_assert_int_eq(registration_demo_plate(239999, a), 0);
    ck_assert_int_eq(registration_demo_plate(240000, a), -1);
}
END_TEST

START_TEST(test_certificate_no)
{
    char out[16];
    ck_assert_int_eq(registration_certificate_no(42, out), 0);
    ck_assert_str_eq(out, "330100000042");
    ck_assert_int_eq(strlen(out), 12);
    ck_assert_int_eq(registration_certificate_no(0, out), -1);
    ck_assert_int_eq(registration_certificate_no(100000000, out), -1);
}
END_TEST

START_TEST(test_selection_parse)
{
    unsigned m = 99;
    ck_assert_int_eq(registration_selection_parse("offer,custom", &m), 0);
    ck_assert_uint_eq(m, REG_SELECT_OFFER | REG_SELECT_CUSTOM);
    ck_assert_int_eq(registration_selection_parse("offer", &m), 0);
    ck_assert_uint_eq(m, REG_SELECT_OFFER);
    ck_assert_int_eq(registration_selection_parse("custom", &m), 0);
    ck_assert_uint_eq(m, REG_SELECT_CUSTOM);
    /* spaces around names are ignored (an operator writing "offer, custom"
     * must not silently lose the second mode) */
    ck_assert_int_eq(registration_selection_parse(" offer , custom ", &m), 0);
    ck_assert_uint_eq(m, REG_SELECT_OFFER | REG_SELECT_CUSTOM);
    ck_assert_int_eq(registration_selection_parse("custom,custom", &m), 0);
    ck_assert_uint_eq(m, REG_SELECT_CUSTOM);
    m = 99;
    ck_assert_int_eq(registration_selection_parse("", &m), -1);
    ck_assert_int_eq(registration_selection_parse(" ", &m), -1);
    ck_assert_int_eq(registration_selection_parse(NULL, &m), -1);
    ck_assert_int_eq(registration_selection_parse("offer,", &m), -1);
    ck_assert_int_eq(registration_selection_parse("random", &m), -1);
    ck_assert_int_eq(registration_selection_parse("Offer", &m), -1);
    ck_assert_int_eq(registration_selection_parse("offers", &m), -1);
    ck_assert_int_eq(registration_selection_parse("offer;custom", &m), -1);
    ck_assert_uint_eq(m, 99);
}
END_TEST

static int32_t ymd(int y, int m, int d)
{
    int32_t out = 0;
    ck_assert_int_eq(date_from_ymd(y, m, d, &out), 0);
    return out;
}

START_TEST(test_next_inspection_by_type)
{
    static const struct {
        const char *type, *use;
        int months;
        int y, m, d; /* due, registered 2025-03-15 */
    } cases[] = {
        {"K33", "private", 72, 2031, 3, 31},    /* small car: exempt 6 years */
        {"K43", "government", 72, 2031, 3, 31}, /* mini car, non-operating */
        {"K39", "private", 24, 2027, 3, 31},    /* small van: every 2 years */
        {"K33", "taxi", 12, 2026, 3, 31},       /* operating: yearly */
        {"K33", "business", 12, 2026, 3, 31},
        {"K11", "private", 12, 2026, 3, 31},    /* large passenger */
        {"K21", "bus", 12, 2026, 3, 31},
        {"K38", "private", 6, 2025, 9, 30},     /* school bus: every 6 months */
        {"H11", "freight", 12, 2026, 3, 31},    /* trucks: yearly */
        {"H31", "private", 12, 2026, 3, 31},
        {"M11", "private", 24, 2027, 3, 31},    /* motorcycles: every 2 years */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t due = 0;
        int months = 0;
        ck_assert_msg(registration_next_inspection(cases[i].type, cases[i].use, ymd(2025, 3, 15),
                                                   &due, &months) == 0,
                      "%s/%s refused", cases[i].type, cases[i].use);
        ck_assert_int_eq(months, cases[i].months);
        ck_assert_int_eq(due, ymd(cases[i].y, cases[i].m, cases[i].d));
    }
}
END_TEST

START_TEST(test_next_inspection_month_ends_and_refusals)
{
    int32_t due = 0;
    /* End of the due month, leap years included; months wrap the year. */
    ck_assert_int_eq(registration_next_inspection("K33", "private", ymd(2022, 2, 1), &due, NULL), 0);
    ck_assert_int_eq(due, ymd(2028, 2, 29));
    ck_assert_int_eq(registration_next_inspection("K38", "private", ymd(2025, 11, 30), &due, NULL), 0);
    ck_assert_int_eq(due, ymd(2026, 5, 31));
    ck_assert_int_eq(registration_next_inspection("H11", "freight", ymd(2025, 12, 31), &due, NULL), 0);
    ck_assert_int_eq(due, ymd(2026, 12, 31));
    due = 7;
    ck_assert_int_eq(registration_next_inspection("Q11", "private", ymd(2025, 1, 1), &due, NULL), -1);
    ck_assert_int_eq(registration_next_inspection("K33", "spaceship", ymd(2025, 1, 1), &due, NULL), -1);
    ck_assert_int_eq(registration_next_inspection(NULL, "private", ymd(2025, 1, 1), &due, NULL), -1);
    ck_assert_int_eq(registration_next_inspection("K33", NULL, ymd(2025, 1, 1), &due, NULL), -1);
    ck_assert_int_eq(registration_next_inspection("K33", "private", ymd(9999, 1, 1), &due, NULL), -1);
    ck_assert_int_eq(due, 7);
}
END_TEST

Suite *registration_suite(void)
{
    Suite *s = suite_create("registration");
    check_tcase(s, "rules", CHECK_TESTS(test_state_names_round_trip, test_happy_path_mail,
                      test_checks_only_on_a_booked_appointment, test_lapse_returns_to_submitted,
                      test_cancel_only_until_inspection, test_wrong_transitions_refused,
                      test_open_states, test_missing_materials_all_at_once,
                      test_demo_plates_valid_and_distinct,
                      test_certificate_no, test_selection_parse, test_next_inspection_by_type,
                      test_next_inspection_month_ends_and_refusals));
    CHECK_LOOP(s, "instants", test_parse_instant, instants);
    CHECK_LOOP(s, "classes", test_class_for_type, classes);
    return s;
}
