/* Unit tests for the pure parts of the cases module: the state machine,
 * case numbers and query codes, deadlines with the holiday calendar, time
 * limit and supply decisions, next steps, ratings, figures arithmetic and
 * CSV escaping. Calendar: 2026 National Day, 2026-10-01..07 off (Thu..Wed),
 * make-up days 2026-09-27 (Sun) and 2026-10-10 (Sat). */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cases/cases_figures.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/workdays.h"
#include "server/app.h"
#include "server/date.h"
#include "tests/unit/check_util.h"

static int32_t D(const char *s)
{
    int32_t v = 0;
    ck_assert_msg(date_parse(s, &v) == 0, "bad test date %s", s);
    return v;
}

static cases_calendar *national_day(void)
{
    cases_calendar *c = cases_calendar_new(
        "2026-10-01,2026-10-02,2026-10-03,2026-10-04,2026-10-05,2026-10-06,2026-10-07",
        "2026-09-27,2026-10-10", NULL);
    ck_assert_ptr_nonnull(c);
    return c;
}

START_TEST(transitions_forward_only)
{
    ck_assert(cases_transition_ok("submitted", "accepted"));
    ck_assert(cases_transition_ok("submitted", "completed"));
    ck_assert(cases_transition_ok("accepted", "in_progress"));
    ck_assert(cases_transition_ok("in_progress", "rejected"));
    ck_assert(cases_transition_ok("accepted", "cancelled"));
    ck_assert(!cases_transition_ok("accepted", "submitted"));
    ck_assert(!cases_transition_ok("in_progress", "accepted"));
    ck_assert(!cases_transition_ok("accepted", "accepted"));
    ck_assert(!cases_transition_ok("completed", "rejected"));
    ck_assert(!cases_transition_ok("rejected", "accepted"));
    ck_assert(!cases_transition_ok("submitted", "flying"));
    ck_assert(!cases_transition_ok(NULL, "accepted"));
    ck_assert(cases_state_open("in_progress"));
    ck_assert(!cases_state_open("completed"));
}
END_TEST

START_TEST(case_number_format)
{
    char n[32];
    cases_format_number(D("2026-11-23"), 123, n);
    ck_assert_str_eq(n, "C202611230000123");
    ck_assert(cases_number_ok(n));
    cases_format_number(D("2026-01-02"), 10000123, n); /* sequence wraps at 10^7 */
    ck_assert_str_eq(n, "C202601020000123");
    ck_assert(!cases_number_ok("C20261123000012"));
    ck_assert(!cases_number_ok("X202611230000123"));
    ck_assert(!cases_number_ok("C2026112300001a3"));
    ck_assert(!cases_number_ok(NULL));
}
END_TEST

START_TEST(query_code_alphabet)
{
    unsigned char b[8];
    char out[16];
    for (int v = 0; v < 256; v += 8) {
        for (int i = 0; i < 8; i++)
            b[i] = (unsigned char)(v + i);
        cases_query_code_from_bytes(b, out);
        ck_assert_uint_eq(strlen(out), 8);
        ck_assert_ptr_null(strpbrk(out, "IO01"));
    }
    memset(b, 0, sizeof b);
    cases_query_code_from_bytes(b, out);
    ck_assert_str_eq(out, "AAAAAAAA");
    memset(b, 255, sizeof b);
    cases_query_code_from_bytes(b, out);
    ck_assert_str_eq(out, "99999999");
}
END_TEST

START_TEST(deadline_across_national_day)
{
    cases_calendar *c = national_day();
    /* Filed Wed 09-30 with 3 working days: Oct 8, 9, 10 (make-up Saturday). */
    ck_assert_int_eq(cases_add_workdays(c, D("2026-09-30"), 3), D("2026-10-10"));
    /* Filed Fri 09-25 with 1 day: Sunday 09-27 is a make-up working day. */
    ck_assert_int_eq(cases_add_workdays(c, D("2026-09-25"), 1), D("2026-09-27"));
    /* Filed on a holiday: counting starts the next working day. */
    ck_assert_int_eq(cases_add_workdays(c, D("2026-10-03"), 1), D("2026-10-08"));
    /* Plain weekend without calendar. */
    ck_assert_int_eq(cases_add_workdays(NULL, D("2026-11-20"), 1), D("2026-11-23"));
    cases_calendar_free(c);
}
END_TEST

START_TEST(time_check_warns_at_80_percent_and_flags_overdue)
{
    cases_calendar *c = national_day();
    int32_t s = D("2026-09-28"); /* Mon, 5 days: Sep 29, 30, Oct 8, 9, 10 (make-up Sat) */
    int32_t due = cases_add_workdays(c, s, 5);
    ck_assert_int_eq(due, D("2026-10-10"));
    /* Sep 30: 2 of 5 = 400 permille */
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-09-30"), false), CASES_TIME_OK);
    /* Oct 7: still 2 of 5 (holidays do not count) */
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-10-07"), false), CASES_TIME_OK);
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-10-08"), false), CASES_TIME_OK);
    /* Oct 9: 4 of 5 = 800 -> warn, once */
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-10-09"), false), CASES_TIME_WARN);
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-10-09"), true), CASES_TIME_OK);
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-10-10"), true), CASES_TIME_OK);
    /* Sunday after the deadline: overdue even though no working day passed */
    ck_assert_int_eq(cases_time_check(c, s, due, 5, D("2026-10-11"), true), CASES_TIME_OVERDUE);
    /* Instant items are not warned on their day, only overdue after. */
    ck_assert_int_eq(cases_time_check(c, s, s, 0, s, false), CASES_TIME_OK);
    ck_assert_int_eq(cases_time_check(c, s, s, 0, s + 1, false), CASES_TIME_OVERDUE);
    cases_calendar_free(c);
}
END_TEST

START_TEST(supply_reminds_then_escalates)
{
    cases_calendar *c = national_day();
    int32_t due = D("2026-10-09"); /* Fri */
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-09-30"), 2, "pending"), CASES_SUPPLY_NONE);
    /* Sep 30's next working day is Oct 8, not yet due */
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-08"), 2, "pending"), CASES_SUPPLY_REMIND);
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-08"), 2, "reminded"), CASES_SUPPLY_NONE);
    /* grace 2 working days after Oct 9: Oct 10 (make-up), Oct 12 */
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-12"), 2, "reminded"), CASES_SUPPLY_NONE);
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-13"), 2, "reminded"), CASES_SUPPLY_ESCALATE);
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-13"), 2, "pending"), CASES_SUPPLY_ESCALATE);
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-13"), 2, "supplied"), CASES_SUPPLY_NONE);
    ck_assert_int_eq(cases_supply_check(c, due, D("2026-10-13"), 2, "escalated"), CASES_SUPPLY_NONE);
    cases_calendar_free(c);
}
END_TEST

START_TEST(next_steps_and_ratings)
{
    ck_assert_str_eq(cases_next_step("submitted", "none", 1, 0, false).code, "visit_once");
    ck_assert_str_eq(cases_next_step("submitted", "none", 1, 1, false).code, "await_acceptance");
    ck_assert_str_eq(cases_next_step("submitted", "none", 0, 0, false).code, "await_acceptance");
    ck_assert_str_eq(cases_next_step("accepted", "pending", 0, 0, false).code, "supply_materials");
    ck_assert_str_eq(cases_next_step("accepted", "supplied", 0, 0, false).code, "await_completion");
    ck_assert_str_eq(cases_next_step("completed", "none", 0, 0, false).code, "rate");
    ck_assert_str_eq(cases_next_step("rejected", "none", 0, 0, false).code, "see_reason");
    ck_assert_ptr_null(cases_rating_check(1, NULL));
    ck_assert_ptr_null(cases_rating_check(5, "好"));
    ck_assert_str_eq(cases_rating_check(0, NULL), "bad_score");
    ck_assert_str_eq(cases_rating_check(6, NULL), "bad_score");
    {
        char big[600];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        ck_assert_str_eq(cases_rating_check(3, big), "comment_too_long");
    }
}
END_TEST

/* Issue 10, item 13: the next step is true in every state. */
START_TEST(next_step_is_true_in_every_state)
{
    static const char *const supply[] = {"none", "pending", "reminded", "escalated", "supplied",
                                         "committed"};
    cases_next n;

    /* completed: rate once, then nothing is left to do */
    ck_assert_str_eq(cases_next_step("completed", "none", 1, 1, false).code, "rate");
    ck_assert_str_eq(cases_next_step("completed", "none", 1, 1, true).code, "done");
    ck_assert_str_eq(cases_next_step("completed", "committed", 0, 0, true).code, "done");
    /* accepted or in progress: materials first, then the one visit still due */
    for (int s = 0; s < 2; s++) {
        const char *st = s ? "in_progress" : "accepted";
        ck_assert_str_eq(cases_next_step(st, "pending", 1, 0, false).code, "supply_materials");
        ck_assert_str_eq(cases_next_step(st, "reminded", 0, 0, false).code, "supply_materials");
        n = cases_next_step(st, "escalated", 0, 0, false);
        ck_assert_str_eq(n.code, "supply_materials");
        ck_assert_ptr_nonnull(strstr(n.text, "已过")); /* the deadline has passed */
        ck_assert_str_eq(cases_next_step(st, "none", 1, 0, false).code, "visit_once");
        ck_assert_str_eq(cases_next_step(st, "supplied", 1, 1, false).code, "await_completion");
        ck_assert_str_eq(cases_next_step(st, "committed", 0, 0, false).code, "await_completion");
    }
    /* closed cases never ask for anything, whatever their supply state */
    for (size_t i = 0; i < sizeof supply / sizeof supply[0]; i++) {
        ck_assert_str_eq(cases_next_step("rejected", supply[i], 1, 0, false).code, "see_reason");
        ck_assert_str_eq(cases_next_step("cancelled", supply[i], 1, 0, false).code, "none");
        ck_assert_str_ne(cases_next_step("completed", supply[i], 1, 0, true).code, "rate");
    }
    ck_assert_str_eq(cases_next_step("flying", "none", 0, 0, false).code, "unknown");
    ck_assert_str_eq(cases_next_step(NULL, "none", 0, 0, false).code, "unknown");
    ck_assert(cases_supply_open("pending") && cases_supply_open("reminded") &&
              cases_supply_open("escalated"));
    ck_assert(!cases_supply_open("none") && !cases_supply_open("supplied") &&
              !cases_supply_open("committed") && !cases_supply_open(NULL));
}
END_TEST

/* Issue 10, item 1: only the outlet serving an open, not online-only case
 * records its visits; an online case's first visit needs the query code. */
START_TEST(trip_refusals)
{
    cases_trip_in in = {.state = "accepted", .case_outlet = 7, .caller_outlet = 7,
                        .channel_offered = true};
    ck_assert_ptr_null(cases_trip_refusal(&in));
    in.caller_outlet = 8;
    ck_assert_str_eq(cases_trip_refusal(&in), "other_outlet");
    in.caller_outlet = 0;
    ck_assert_str_eq(cases_trip_refusal(&in), "no_outlet");
    in.caller_outlet = 7;
    in.state = "completed";
    ck_assert_str_eq(cases_trip_refusal(&in), "case_closed");
    in.state = "cancelled";
    ck_assert_str_eq(cases_trip_refusal(&in), "case_closed");
    in.state = "rejected";
    ck_assert_str_eq(cases_trip_refusal(&in), "case_closed");
    /* another outlet learns nothing about the state of a case not its own */
    in.caller_outlet = 8;
    ck_assert_str_eq(cases_trip_refusal(&in), "other_outlet");
    in.online_only = true;
    ck_assert_str_eq(cases_trip_refusal(&in), "online_only");

    /* filed online: no outlet yet */
    in = (cases_trip_in){.state = "submitted", .case_outlet = 0, .caller_outlet = 8,
                         .channel_offered = true, .code_given = true, .code_ok = true};
    ck_assert_ptr_null(cases_trip_refusal(&in));
    in.code_ok = false;
    ck_assert_str_eq(cases_trip_refusal(&in), "query_code_mismatch");
    in.code_given = false;
    ck_assert_str_eq(cases_trip_refusal(&in), "query_code_required");
    in.channel_offered = false;
    in.code_given = in.code_ok = true;
    ck_assert_str_eq(cases_trip_refusal(&in), "channel_not_offered");
    in.channel_offered = true;
    in.state = "completed";
    ck_assert_str_eq(cases_trip_refusal(&in), "case_closed");

    ck_assert_int_eq(cases_trip_refusal_status("online_only"), 409);
    ck_assert_int_eq(cases_trip_refusal_status("case_closed"), 409);
    ck_assert_int_eq(cases_trip_refusal_status("other_outlet"), 403);
    ck_assert_int_eq(cases_trip_refusal_status("query_code_mismatch"), 403);

    ck_assert(cases_online_only("app"));
    ck_assert(!cases_online_only("app,window"));
    ck_assert(!cases_online_only("window"));
    ck_assert(!cases_online_only("court"));
    ck_assert(!cases_online_only(""));
    ck_assert(!cases_online_only(NULL));
    ck_assert(!cases_online_only("apps"));
}
END_TEST

START_TEST(rates_are_exact_and_half_up)
{
    char s[16];
    ck_assert_int_eq(cases_rate_str(5, 6, s), 0);
    ck_assert_str_eq(s, "0.8333");
    cases_rate_str(2, 3, s);
    ck_assert_str_eq(s, "0.6667");
    cases_rate_str(1, 8, s); /* 0.125 exactly */
    ck_assert_str_eq(s, "0.1250");
    cases_rate_str(1, 20000, s); /* 0.00005 -> half up */
    ck_assert_str_eq(s, "0.0001");
    cases_rate_str(1, 20001, s);
    ck_assert_str_eq(s, "0.0000");
    cases_rate_str(7, 7, s);
    ck_assert_str_eq(s, "1.0000");
    cases_rate_str(0, 7, s);
    ck_assert_str_eq(s, "0.0000");
    cases_rate_str(999999, 1000000, s);
    ck_assert_str_eq(s, "1.0000");
    ck_assert_int_eq(cases_rate_str(1, 0, s), -1);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(cases_rate_str(3, 2, s), -1);
    ck_assert_int_eq(cases_rate_str(-1, 2, s), -1);
}
END_TEST

START_TEST(figures_add_up)
{
    cases_fig a = {1, 2, 3, 4, 5, 6, 7, 8, 9}, b = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    cases_fig_add(&a, &b);
    ck_assert_int_eq(a.completed, 11);
    ck_assert_int_eq(a.satisfied, 99);
    ck_assert_int_eq(a.at_partner, 77);
}
END_TEST

static char *csv(const char *s)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    cases_csv_field(&b, &len, &cap, s);
    return b;
}

START_TEST(csv_escaping)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"=SUM(A1:A9)", "'=SUM(A1:A9)"},
        {"-1,2", "\"'-1,2\""},
        {"车管所窗口", "车管所窗口"},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = csv(cases[i].in);
        ck_assert_str_eq(s, cases[i].out);
        free(s);
    }
}
END_TEST

START_TEST(query_ints_are_digits_only_and_bounded)
{
    /* the cases routes' limit and cursor are declared JF_INT keys, read
     * through app_parse_int */
    int64_t v = -7;
    ck_assert_int_eq(app_parse_int("10", 1, 100, &v), 0);
    ck_assert_int_eq(v, 10);
    ck_assert_int_eq(app_parse_int("1", 1, 100, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(app_parse_int("100", 1, 100, &v), 0);
    ck_assert_int_eq(v, 100);
    ck_assert_int_eq(app_parse_int("0010", 1, 100, &v), 0);
    ck_assert_int_eq(v, 10);
    ck_assert_int_eq(app_parse_int("9223372036854775807", 1, INT64_MAX, &v), 0);
    ck_assert(v == INT64_MAX);
    v = -7;
    /* trailing junk, signs, blanks, empty, out of range, overflow */
    ck_assert_int_eq(app_parse_int("10abc", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("abc", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int(NULL, 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int(" 10", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("10 ", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("+10", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("-1", 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("1e2", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("0x10", 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("0", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("101", 1, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("9223372036854775808", 1, INT64_MAX, &v), -1);
    ck_assert_int_eq(app_parse_int("99999999999999999999999", 1, INT64_MAX, &v), -1);
    ck_assert_int_eq(v, -7);
}
END_TEST

Suite *cases_suite(void)
{
    Suite *s = suite_create("cases");
    check_tcase(s, "core", CHECK_TESTS(transitions_forward_only, case_number_format,
                      query_code_alphabet, deadline_across_national_day,
                      time_check_warns_at_80_percent_and_flags_overdue,
                      supply_reminds_then_escalates, next_steps_and_ratings,
                      next_step_is_true_in_every_state, trip_refusals,
                      rates_are_exact_and_half_up, figures_add_up, csv_escaping,
                      query_ints_are_digits_only_and_bounded));
    return s;
}
