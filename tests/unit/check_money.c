/* Unit tests for modules/payments/money.c. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "modules/payments/money.h"
#include "tests/unit/check_util.h"

static const struct {
    const char *in;
    int64_t fen;
} good[] = {
    {"0", 0},
    {"0.0", 0},
    {"0.00", 0},
    {"0.01", 1},
    {"0.1", 10},
    {"0.10", 10},
    {"0.99", 99},
    {"1", 100},
    {"100", 10000},
    {"100.1", 10010},
    {"100.10", 10010},
    {"100.01", 10001},
    {"200.5", 20050},
    {"9999999", 999999900},
    {"100000000000", INT64_C(10000000000000)},     /* exactly MONEY_MAX_FEN */
    {"100000000000.00", INT64_C(10000000000000)},
    {"99999999999.99", INT64_C(9999999999999)},
};

static const struct {
    const char *in;
    const char *why;
} bad[] = {
    {"", "money_empty"},
    {"1e2", "money_character"},
    {"-0.01", "money_sign"},
    {"-1", "money_sign"},
    {"+1", "money_sign"},
    {"100.101", "money_fraction"},
    {"0.001", "money_fraction"},
    {"1.", "money_fraction"},
    {".5", "money_integer"},
    {".", "money_integer"},
    {" 100", "money_character"},
    {"100 ", "money_character"},
    {"\t100", "money_character"},
    {"100\n", "money_character"},
    {"01", "money_leading_zero"},
    {"00", "money_leading_zero"},
    {"00.1", "money_leading_zero"},
    {"007", "money_leading_zero"},
    {"1,000", "money_character"},
    {"1,000.00", "money_character"},
    {"0x10", "money_character"},
    {"1.2.3", "money_character"},
    {"1..2", "money_fraction"},
    {"1.2a", "money_character"},
    {"abc", "money_character"},
    {"NaN", "money_character"},
    {"\xef\xbc\x91\xef\xbc\x90\xef\xbc\x90", "money_character"}, /* "１００" full width */
    {"1\xc2\xa0", "money_character"},                             /* trailing NBSP */
    {"100000000000.01", "money_range"},
    {"100000000001", "money_range"},
    {"99999999999999999999999999999", "money_range"},
    {"9223372036854775807", "money_range"},
    {"99999999999999999999999999999x", "money_character"}, /* syntax before range */
};

START_TEST(test_parse_accepts)
{
    int64_t fen = -1;
    const char *why = NULL;
    ck_assert_int_eq(money_parse_yuan(good[_i].in, &fen, &why), 0);
    ck_assert_int_eq(fen, good[_i].fen);
    ck_assert_ptr_null(why);
}
END_TEST

START_TEST(test_parse_rejects)
{
    int64_t fen = 777;
    const char *why = NULL;
    ck_assert_msg(money_parse_yuan(bad[_i].in, &fen, &why) == -1, "accepted \"%s\"", bad[_i].in);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(why, bad[_i].why);
    ck_assert_int_eq(fen, 777);
}
END_TEST

START_TEST(test_parse_null_and_optional_out)
{
    int64_t fen = 777;
    const char *why = NULL;
    ck_assert_int_eq(money_parse_yuan(NULL, &fen, &why), -1);
    ck_assert_str_eq(why, "money_empty");
    ck_assert_int_eq(fen, 777);
    ck_assert_int_eq(money_parse_yuan("12.34", NULL, NULL), 0);
    ck_assert_int_eq(money_parse_yuan("12.345", NULL, NULL), -1);
    ck_assert_int_eq(money_parse_yuan(NULL, NULL, NULL), -1);
}
END_TEST

START_TEST(test_format)
{
    char out[MONEY_STR_SIZE];
    money_format_yuan(10010, out);
    ck_assert_str_eq(out, "100.10");
    money_format_yuan(1, out);
    ck_assert_str_eq(out, "0.01");
    money_format_yuan(0, out);
    ck_assert_str_eq(out, "0.00");
    money_format_yuan(10, out);
    ck_assert_str_eq(out, "0.10");
    money_format_yuan(100, out);
    ck_assert_str_eq(out, "1.00");
    money_format_yuan(-150, out);
    ck_assert_str_eq(out, "-1.50");
    money_format_yuan(-1, out);
    ck_assert_str_eq(out, "-0.01");
    money_format_yuan(MONEY_MAX_FEN, out);
    ck_assert_str_eq(out, "100000000000.00");
    money_format_yuan(INT64_MAX, out);
    ck_assert_str_eq(out, "92233720368547758.07");
    money_format_yuan(INT64_MIN, out);
    ck_assert_str_eq(out, "-92233720368547758.08");
}
END_TEST

/* Canonical two-decimal strings survive parse -> format unchanged. */
START_TEST(test_round_trip_strings)
{
    static const char *canon[] = {"0.00", "0.01", "0.10", "1.00", "100.10", "123456.78",
                                  "100000000000.00"};
    char out[MONEY_STR_SIZE];
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        int64_t fen;
        ck_assert_int_eq(money_parse_yuan(canon[i], &fen, NULL), 0);
        money_format_yuan(fen, out);
        ck_assert_str_eq(out, canon[i]);
    }
}
END_TEST

/* Every fen value survives format -> parse, over small values and a spread
 * up to the limit. */
START_TEST(test_round_trip_values)
{
    char out[MONEY_STR_SIZE];
    int64_t back;
    for (int64_t fen = 0; fen <= 100000; fen++) {
        money_format_yuan(fen, out);
        ck_assert_int_eq(money_parse_yuan(out, &back, NULL), 0);
        ck_assert_int_eq(back, fen);
    }
    for (int64_t fen = 0; fen <= MONEY_MAX_FEN; fen += INT64_C(99999999977)) {
        money_format_yuan(fen, out);
        ck_assert_int_eq(money_parse_yuan(out, &back, NULL), 0);
        ck_assert_int_eq(back, fen);
    }
    money_format_yuan(MONEY_MAX_FEN + 1, out);
    ck_assert_int_eq(money_parse_yuan(out, &back, NULL), -1);
    /* Negative output is for display only: the parser refuses signs. */
    money_format_yuan(-150, out);
    ck_assert_int_eq(money_parse_yuan(out, &back, NULL), -1);
}
END_TEST

Suite *money_suite(void)
{
    Suite *s = suite_create("money");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(test_parse_null_and_optional_out, test_format,
                      test_round_trip_strings, test_round_trip_values));
    tcase_add_loop_test(tc, test_parse_accepts, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_loop_test(tc, test_parse_rejects, 0, (int)(sizeof bad / sizeof bad[0]));
    return s;
}
