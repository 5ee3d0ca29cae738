/* Unit tests for the payments module's pure helpers: form decoding used by
 * the Alipay adapter (modules/payments/channel.c), the reconciliation CSV
 * (modules/payments/csv.c) and the cleaning of untrusted numbers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel.h"
#include "modules/payments/csv.h"
#include "modules/payments/payments_internal.h"
#include "tests/unit/check_util.h"

START_TEST(url_decode_plus_and_escapes)
{
    char *s = pay_url_decode("a+b%20c%E4%BA%A4", 16);
    ck_assert_str_eq(s, "a b c\xe4\xba\xa4");
    free(s);
}
END_TEST

START_TEST(url_decode_rejects_bad_escapes_and_nul)
{
    ck_assert_ptr_null(pay_url_decode("%", 1));
    ck_assert_ptr_null(pay_url_decode("%4", 2));
    ck_assert_ptr_null(pay_url_decode("%zz", 3));
    ck_assert_ptr_null(pay_url_decode("a%00b", 5));
    /* a raw NUL byte too: the signed content and the value read would be
     * the part before it, so bytes after it could ride along unsigned */
    ck_assert_ptr_null(pay_url_decode("a\0b", 3));
}
END_TEST

START_TEST(form_get_finds_decoded_values)
{
    const char *body = "out_trade_no=P1&total_amount=100.10&subject=%E7%BD%9A%E6%AC%BE+x&empty=";
    char *v = pay_form_get(body, strlen(body), "total_amount");
    ck_assert_str_eq(v, "100.10");
    free(v);
    v = pay_form_get(body, strlen(body), "subject");
    ck_assert_str_eq(v, "\xe7\xbd\x9a\xe6\xac\xbe x");
    free(v);
    v = pay_form_get(body, strlen(body), "empty");
    ck_assert_str_eq(v, "");
    free(v);
    ck_assert_ptr_null(pay_form_get(body, strlen(body), "missing"));
    /* a pair without '=' makes the whole form unreadable */
    ck_assert_ptr_null(pay_form_get("a=1&junk", 8, "a"));
}
END_TEST

START_TEST(sign_content_keeps_empty_values_and_skips_sign)
{
    char *content, *sign, *st;
    const char *body = "z=&sign=s%2Bg&m=1&sign_type=RSA2&a=%3D";
    ck_assert_int_eq(pay_alipay_sign_content(body, strlen(body), &content, &sign, &st), 0);
    ck_assert_str_eq(content, "a==&m=1&z=");
    ck_assert_str_eq(sign, "s+g");
    free(content);
    free(sign);
    free(st);
    ck_assert_int_eq(pay_alipay_sign_content("sign=a&sign=b", 13, &content, &sign, &st), -1);
    ck_assert_ptr_null(content);
    ck_assert_ptr_null(sign);
    /* total_amount=1.00<NUL>9 must not verify as "1.00" */
    ck_assert_int_eq(pay_alipay_sign_content("total_amount=1.00\0" "9&sign=x", 26, &content, &sign, &st), -1);
    ck_assert_ptr_null(content);
}
END_TEST

/* One row of fields through pay_csv; returns the malloc'd text. */
static char *csv_row(const char *const *fields, const bool *text, int n)
{
    pay_csv b;
    char *out;

    pay_csv_init(&b);
    for (int i = 0; i < n; i++)
        pay_csv_field(&b, fields[i], text[i]);
    pay_csv_end_row(&b);
    out = strdup(b.buf);
    pay_csv_free(&b);
    return out;
}

START_TEST(csv_plain_fields_stay_bare)
{
    const char *f[] = {"policeapp", "2026-11-23", "P20261123ABCDEF0123456789", NULL, "2222"};
    const bool t[] = {true, true, true, true, false};
    char *s = csv_row(f, t, 5);
    ck_assert_str_eq(s, "policeapp,2026-11-23,P20261123ABCDEF0123456789,,2222\r\n");
    free(s);
}
END_TEST

START_TEST(csv_quotes_comma_quote_cr_lf_per_rfc4180)
{
    const char *f[] = {"a,b", "say \"hi\"", "line\r\nbreak", "cr\ronly", "\"", "lf\n"};
    const bool t[] = {true, true, true, true, true, true};
    char *s = csv_row(f, t, 6);
    ck_assert_str_eq(s, "\"a,b\",\"say \"\"hi\"\"\",\"line\r\nbreak\",\"cr\ronly\",\"\"\"\",\"lf\n\"\r\n");
    free(s);
}
END_TEST

START_TEST(csv_guards_formulas_in_text_only)
{
    const char *f[] = {"=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b", "-5"};
    const bool t[] = {true, true, true, true, true, true, true, false};
    char *s = csv_row(f, t, 8);
    ck_assert_str_eq(s, "'=1+2,'+1,'-1,'@SUM(A1),'\tx,\"'\rx\",a=b,-5\r\n");
    free(s);
    /* guard and quoting together: the apostrophe sits inside the quotes */
    const char *g[] = {"=HYPERLINK(\"http://x\",\"y\")"};
    const bool gt[] = {true};
    s = csv_row(g, gt, 1);
    ck_assert_str_eq(s, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
    free(s);
}
END_TEST

START_TEST(csv_rows_and_empty_buffer)
{
    pay_csv b;

    pay_csv_init(&b);
    pay_csv_field(&b, "", true);
    pay_csv_field(&b, "x", true);
    pay_csv_end_row(&b);
    pay_csv_field(&b, "y", true);
    pay_csv_end_row(&b);
    ck_assert_str_eq(b.buf, ",x\r\ny\r\n");
    ck_assert_uint_eq(b.len, strlen(",x\r\ny\r\n"));
    pay_csv_free(&b);
    ck_assert_ptr_null(b.buf);
    ck_assert_uint_eq(b.len, 0);
    /* a long field grows the buffer */
    char big[2000];
    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pay_csv_field(&b, big, true);
    ck_assert_uint_eq(b.len, 2 + 2 * (sizeof big - 1));
    pay_csv_free(&b);
}
END_TEST

START_TEST(clean_ascii_replaces_everything_unprintable)
{
    char out[16];
    pay_clean_ascii("A\"b\r\n\t\x1b\xe4\xba\xa4z", out, sizeof out);
    ck_assert_str_eq(out, "A\"b???????z");
    pay_clean_ascii(NULL, out, sizeof out);
    ck_assert_str_eq(out, "");
    pay_clean_ascii("0123456789abcdefXYZ", out, sizeof out);
    ck_assert_str_eq(out, "0123456789abcde");
}
END_TEST

START_TEST(notice_classify_needs_numbers_and_a_known_status)
{
    static const pay_status_word words[] = {
        {"PAID", PAY_ST_SUCCESS}, {"DONE", PAY_ST_SUCCESS}, {"WAIT", PAY_ST_PENDING}, {NULL, 0},
    };
    pay_notice n;
    const char *why = NULL;

    memset(&n, 0, sizeof n);
    snprintf(n.currency, sizeof n.currency, "CNY");
    snprintf(n.order_no, sizeof n.order_no, "P1");
    snprintf(n.trade_no, sizeof n.trade_no, "T1");
    snprintf(n.status, sizeof n.status, "DONE");
    ck_assert_int_eq(pay_notice_classify(&n, words, &why), 0);
    ck_assert_int_eq(n.st, PAY_ST_SUCCESS);
    snprintf(n.status, sizeof n.status, "WAIT");
    ck_assert_int_eq(pay_notice_classify(&n, words, &why), 0);
    ck_assert_int_eq(n.st, PAY_ST_PENDING);
    /* Unknown (also by case, or empty) is refused and leaves st alone. */
    snprintf(n.status, sizeof n.status, "paid");
    ck_assert_int_eq(pay_notice_classify(&n, words, &why), -1);
    ck_assert_str_eq(why, "unknown_trade_status");
    n.status[0] = '\0';
    ck_assert_int_eq(pay_notice_classify(&n, words, &why), -1);
    ck_assert_int_eq(n.st, PAY_ST_PENDING);
    /* Missing numbers are named first. */
    snprintf(n.status, sizeof n.status, "PAID");
    n.trade_no[0] = '\0';
    ck_assert_int_eq(pay_notice_classify(&n, words, &why), -1);
    ck_assert_str_eq(why, "missing_field");
    /* Another currency is refused before anything else. */
    snprintf(n.currency, sizeof n.currency, "USD");
    ck_assert_int_eq(pay_notice_classify(&n, words, &why), -1);
    ck_assert_str_eq(why, "currency_mismatch");
}
END_TEST

Suite *payments_suite(void)
{
    Suite *s = suite_create("payments");
    check_tcase(s, "form", CHECK_TESTS(url_decode_plus_and_escapes,
                      url_decode_rejects_bad_escapes_and_nul, form_get_finds_decoded_values,
                      sign_content_keeps_empty_values_and_skips_sign,
                      notice_classify_needs_numbers_and_a_known_status));
    check_tcase(s, "csv", CHECK_TESTS(csv_plain_fields_stay_bare,
                      csv_quotes_comma_quote_cr_lf_per_rfc4180, csv_guards_formulas_in_text_only,
                      csv_rows_and_empty_buffer, clean_ascii_replaces_everything_unprintable));
    return s;
}
