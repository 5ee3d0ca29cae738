/* Unit tests for the payments module's pure helpers: form decoding used by
 * the Alipay adapter (modules/payments/channel.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/channel.h"

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

Suite *payments_suite(void)
{
    Suite *s = suite_create("payments");
    TCase *t = tcase_create("form");
    tcase_add_test(t, url_decode_plus_and_escapes);
    tcase_add_test(t, url_decode_rejects_bad_escapes_and_nul);
    tcase_add_test(t, form_get_finds_decoded_values);
    tcase_add_test(t, sign_content_keeps_empty_values_and_skips_sign);
    suite_add_tcase(s, t);
    return s;
}
