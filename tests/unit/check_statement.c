/* check_statement.c - channel statement parsing (modules/payments/statement.c):
 * every well-formed line is kept, every malformed one reported with its
 * line number, whatever sits around it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/statement.h"
#include "tests/unit/check_util.h"

static pay_stmt parse(const char *body, bool yuan)
{
    pay_stmt s;
    pay_stmt_parse(body, strlen(body), yuan, &s);
    return s;
}

START_TEST(good_lines_with_header_crlf_and_blank_lines)
{
    pay_stmt s = parse("type,order_no,trade_no,amount\r\npayment,P1,T1,100\r\n\r\nrefund,P1,RN1,40\n", false);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.nbad_total, 0);
    ck_assert_str_eq(s.lines[0].type, "payment");
    ck_assert_str_eq(s.lines[0].order_no, "P1");
    ck_assert_str_eq(s.lines[0].trade_no, "T1");
    ck_assert_int_eq(s.lines[0].amount, 100);
    ck_assert_int_eq(s.lines[0].line_no, 2);
    ck_assert_str_eq(s.lines[1].type, "refund");
    ck_assert_int_eq(s.lines[1].amount, 40);
    ck_assert_int_eq(s.lines[1].line_no, 4); /* the blank line 3 still counts */
    pay_stmt_free(&s);
}
END_TEST

START_TEST(a_bad_line_in_the_middle_spoils_nothing_else)
{
    pay_stmt s = parse("type,order_no,trade_no,amount\n"
                       "payment,P1,T1,100\n"
                       "payment,P2,T2\n"
                       "payment,P3,T3,300\n",
                       false);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.lines[0].trade_no, "T1");
    ck_assert_str_eq(s.lines[1].trade_no, "T3");
    ck_assert_int_eq(s.lines[1].line_no, 4);
    ck_assert_int_eq(s.nbad_total, 1);
    ck_assert_int_eq(s.nbad, 1);
    ck_assert_int_eq(s.bad[0].line_no, 3);
    ck_assert_str_eq(s.bad[0].reason, "field_count");
    ck_assert_str_eq(s.bad[0].text, "payment,P2,T2");
    pay_stmt_free(&s);
}
END_TEST

START_TEST(each_reason)
{
    static const struct {
        const char *line;
        const char *reason;
    } cases[] = {
        {"payment,P1,T1,100,extra", "field_count"}, /* a fifth field is not dropped silently */
        {"payment,P1,T1", "field_count"},
        {"payment", "field_count"},
        {"charge,P1,T1,100", "unknown_type"},
        {"Payment,P1,T1,100", "unknown_type"},
        {"payment,P1,,100", "missing_trade_no"},
        {"payment,P1,T1,", "bad_amount"},
        {"payment,P1,T1,-5", "bad_amount"},
        {"payment,P1,T1,+5", "bad_amount"},
        {"payment,P1,T1, 5", "bad_amount"},
        {"payment,P1,T1,1e3", "bad_amount"},
        {"payment,P1,T1,1.50", "bad_amount"},          /* fen channels: whole numbers */
        {"payment,P1,T1,10000000000001", "bad_amount"}, /* above MONEY_MAX_FEN */
        {"payment,P1,T1,99999999999999999999", "bad_amount"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pay_stmt s = parse(cases[i].line, false);
        ck_assert_msg(s.n == 0 && s.nbad_total == 1, "%s", cases[i].line);
        ck_assert_int_eq(s.bad[0].line_no, 1);
        ck_assert_msg(strcmp(s.bad[0].reason, cases[i].reason) == 0, "%s: %s", cases[i].line, s.bad[0].reason);
        pay_stmt_free(&s);
    }
}
END_TEST

START_TEST(yuan_amounts_are_exact_and_strict)
{
    pay_stmt s = parse("payment,P1,T1,100.10\npayment,P2,T2,0.01\npayment,P3,T3,100.101\npayment,P4,T4,01\n",
                       true);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.lines[0].amount, 10010);
    ck_assert_int_eq(s.lines[1].amount, 1);
    ck_assert_int_eq(s.nbad_total, 2);
    ck_assert_int_eq(s.bad[0].line_no, 3);
    ck_assert_int_eq(s.bad[1].line_no, 4);
    ck_assert_str_eq(s.bad[1].reason, "bad_amount");
    pay_stmt_free(&s);
}
END_TEST

START_TEST(long_lines_and_nul_bytes_are_malformed_not_skipped)
{
    char body[2000];
    pay_stmt s;
    size_t n;

    memset(body, 'x', sizeof body);
    memcpy(body, "payment,P1,T1,1\n", 16);
    body[16 + PAY_STMT_MAX_LINE + 1] = '\n';
    memcpy(body + 16 + PAY_STMT_MAX_LINE + 2, "payment,P\0,T3,3\npayment,P4,T4,4", 31);
    n = 16 + PAY_STMT_MAX_LINE + 2 + 31;
    pay_stmt_parse(body, n, false, &s);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.lines[1].line_no, 4);
    ck_assert_int_eq(s.nbad_total, 2);
    ck_assert_int_eq(s.bad[0].line_no, 2);
    ck_assert_str_eq(s.bad[0].reason, "line_too_long");
    ck_assert_int_eq(strlen(s.bad[0].text), 120); /* only the start is kept */
    ck_assert_int_eq(s.bad[1].line_no, 3);
    ck_assert_str_eq(s.bad[1].reason, "bad_byte");
    ck_assert_str_eq(s.bad[1].text, "payment,P?,T3,3");
    pay_stmt_free(&s);
}
END_TEST

START_TEST(text_is_cleaned_to_printable_ascii)
{
    pay_stmt s = parse("payment,=P\r\xe8\xae\xa2,@T\"1,5\n\xff\xfe,garbage\n", false);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.lines[0].order_no, "=P????");
    ck_assert_str_eq(s.lines[0].trade_no, "@T\"1");
    ck_assert_int_eq(s.nbad_total, 1);
    ck_assert_str_eq(s.bad[0].text, "??,garbage");
    pay_stmt_free(&s);
}
END_TEST

START_TEST(header_only_on_line_one_bom_and_empty_input)
{
    pay_stmt s = parse("\xEF\xBB\xBFtype,order_no,trade_no,amount\npayment,P1,T1,1\ntype,order_no,trade_no,amount\n",
                       false);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.nbad_total, 1); /* a header in the middle is a bad line */
    ck_assert_int_eq(s.bad[0].line_no, 3);
    ck_assert_str_eq(s.bad[0].reason, "unknown_type");
    pay_stmt_free(&s);
    s = parse("", false);
    ck_assert_int_eq(s.n + s.nbad_total, 0);
    pay_stmt_free(&s);
    pay_stmt_parse(NULL, 0, false, &s);
    ck_assert_int_eq(s.n + s.nbad_total, 0);
    pay_stmt_free(&s);
    s = parse("payment,P1,T1,7", false); /* no final line end */
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.lines[0].amount, 7);
    pay_stmt_free(&s);
}
END_TEST

START_TEST(bad_lines_beyond_the_cap_are_counted_not_kept)
{
    size_t cap = (PAY_STMT_MAX_BAD + 5) * 2 + 32, n = 0;
    char *body = malloc(cap);
    pay_stmt s;

    ck_assert_ptr_nonnull(body);
    for (int i = 0; i < PAY_STMT_MAX_BAD + 5; i++) {
        body[n++] = 'x';
        body[n++] = '\n';
    }
    n += (size_t)snprintf(body + n, cap - n, "payment,P1,T1,1\n");
    pay_stmt_parse(body, n, false, &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.lines[0].line_no, PAY_STMT_MAX_BAD + 6);
    ck_assert_int_eq(s.nbad, PAY_STMT_MAX_BAD);
    ck_assert_int_eq(s.nbad_total, PAY_STMT_MAX_BAD + 5);
    pay_stmt_free(&s);
    free(body);
}
END_TEST

Suite *statement_suite(void)
{
    Suite *s = suite_create("statement");
    check_tcase(s, "parse", CHECK_TESTS(good_lines_with_header_crlf_and_blank_lines,
                      a_bad_line_in_the_middle_spoils_nothing_else, each_reason,
                      yuan_amounts_are_exact_and_strict,
                      long_lines_and_nul_bytes_are_malformed_not_skipped,
                      text_is_cleaned_to_printable_ascii,
                      header_only_on_line_one_bom_and_empty_input,
                      bad_lines_beyond_the_cap_are_counted_not_kept));

    return s;
}
