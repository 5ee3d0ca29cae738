/* Unit tests for modules/registration/plate_rules.c (this file is UTF-8). */
#include <check.h>
#include <string.h>

#include "modules/registration/plate_rules.h"
#include "tests/unit/check_util.h"

static const char *const provinces[] = {
    "京", "津", "沪", "渝", "冀", "豫", "云", "辽", "黑", "湘", "皖",
    "鲁", "新", "苏", "浙", "赣", "鄂", "桂", "甘", "晋", "蒙", "陕",
    "吉", "闽", "贵", "粤", "青", "藏", "川", "宁", "琼",
};

START_TEST(test_number_ok)
{
    const char *why = "untouched";
    ck_assert_int_eq(registration_plate_number_check("12345", 0, &why), 0);
    ck_assert_int_eq(registration_plate_number_check("00000", 0, &why), 0);
    ck_assert_int_eq(registration_plate_number_check("A1B23", 2, &why), 0);
    ck_assert_int_eq(registration_plate_number_check("A1B23", 5, &why), 0);
    ck_assert_int_eq(registration_plate_number_check("ABCDE", 5, &why), 0);
    ck_assert_int_eq(registration_plate_number_check("ZZZZZ", 5, &why), 0);
    ck_assert_int_eq(registration_plate_number_check("9PQRS", 4, &why), 0); /* Q allowed */
    ck_assert_str_eq(why, "untouched");
    ck_assert_int_eq(registration_plate_number_check("12345", 0, NULL), 0);
}
END_TEST

static const struct {
    const char *number;
    int max_letters;
    const char *why;
} bad_numbers[] = {
    {"", 5, "plate_length"},
    {"1234", 5, "plate_length"},
    {"123456", 5, "plate_length"},
    {"D12345", 5, "plate_length"}, /* new-energy numbers are not handled here */
    {"1234\xe4\xb8\x80", 5, "plate_length"}, /* "1234一": 7 bytes */
    {"a1234", 5, "plate_character"},
    {"1234b", 5, "plate_character"},
    {"12 45", 5, "plate_character"},
    {"12-45", 5, "plate_character"},
    {"1\xc2\xb7" "34", 5, "plate_character"}, /* "1·34": middle dot, 5 bytes */
    {"I2345", 5, "plate_forbidden_letter"},
    {"1234O", 5, "plate_forbidden_letter"},
    {"IIIII", 5, "plate_forbidden_letter"},
    {"I234a", 5, "plate_character"},          /* bad character outranks I */
    {"IAB12", 0, "plate_forbidden_letter"},   /* forbidden outranks count */
    {"A1234", 0, "plate_too_many_letters"},
    {"A1B23", 1, "plate_too_many_letters"},
    {"ABCDE", 4, "plate_too_many_letters"},
    {"A1234", -3, "plate_too_many_letters"},  /* negative acts as 0 */
};

START_TEST(test_number_rejects)
{
    const char *why = NULL;
    ck_assert_msg(registration_plate_number_check(bad_numbers[_i].number,
                                                  bad_numbers[_i].max_letters, &why) == -1,
                  "accepted %s", bad_numbers[_i].number);
    ck_assert_str_eq(why, bad_numbers[_i].why);
}
END_TEST

START_TEST(test_number_null_and_clamp)
{
    const char *why = NULL;
    ck_assert_int_eq(registration_plate_number_check(NULL, 5, &why), -1);
    ck_assert_str_eq(why, "plate_length");
    ck_assert_int_eq(registration_plate_number_check(NULL, 5, NULL), -1);
    ck_assert_int_eq(registration_plate_number_check("ABCDE", 99, &why), 0); /* acts as 5 */
    ck_assert_int_eq(registration_plate_number_check("12345", -1, &why), 0);
}
END_TEST

START_TEST(test_every_letter)
{
    char n[6] = "1234X";
    for (char c = 'A'; c <= 'Z'; c++) {
        const char *why = NULL;
        n[4] = c;
        if (c == 'I' || c == 'O') {
            ck_assert_int_eq(registration_plate_number_check(n, 1, &why), -1);
            ck_assert_str_eq(why, "plate_forbidden_letter");
        } else {
            ck_assert_int_eq(registration_plate_number_check(n, 1, &why), 0);
        }
    }
}
END_TEST

START_TEST(test_prefix_all_provinces)
{
    char p[8];
    size_t n = sizeof provinces / sizeof provinces[0];
    ck_assert_int_eq((int)n, 31);
    for (size_t i = 0; i < n; i++) {
        const char *why = "untouched";
        ck_assert_int_eq((int)strlen(provinces[i]), 3);
        strcpy(p, provinces[i]);
        strcat(p, "A");
        ck_assert_msg(registration_plate_prefix_check(p, &why) == 0, "rejected %s", p);
        ck_assert_str_eq(why, "untouched");
        strcpy(p, provinces[i]);
        strcat(p, "I");
        ck_assert_int_eq(registration_plate_prefix_check(p, &why), -1);
        ck_assert_str_eq(why, "plate_prefix");
    }
}
END_TEST

START_TEST(test_prefix_letters)
{
    char p[5] = "浙A";
    for (char c = 'A'; c <= 'Z'; c++) {
        p[3] = c;
        ck_assert_int_eq(registration_plate_prefix_check(p, NULL),
                         (c == 'I' || c == 'O') ? -1 : 0);
    }
}
END_TEST

static const char *const bad_prefixes[] = {
    "", "浙", "浙a", "浙1", "浙AB", "浙·", "A浙", "AB", "ZJA", "浙 A", " 浙A",
    "港A", /* Hong Kong: not a mainland province abbreviation */
    "使A", "警A", "北A", "中A",
    /* The last two bytes of one list entry plus the first of the next must
     * not match: 京 = E4 BA AC, 津 = E6 B4 A5 -> "\xba\xac\xe6". */
    "\xba\xac\xe6\x41", /* ...then "A" */
    "\xe6\xb5\x99", /* 浙 without the letter */
};

START_TEST(test_prefix_rejects)
{
    const char *why = NULL;
    ck_assert_msg(registration_plate_prefix_check(bad_prefixes[_i], &why) == -1, "accepted %s",
                  bad_prefixes[_i]);
    ck_assert_str_eq(why, "plate_prefix");
}
END_TEST

START_TEST(test_prefix_null)
{
    const char *why = NULL;
    ck_assert_int_eq(registration_plate_prefix_check(NULL, &why), -1);
    ck_assert_str_eq(why, "plate_prefix");
    ck_assert_int_eq(registration_plate_prefix_check(NULL, NULL), -1);
}
END_TEST

START_TEST(test_format)
{
    char out[REGISTRATION_PLATE_FORMAT_SIZE];
    char tight[12], small[11];

    registration_plate_format("浙A", "12345", out, sizeof out);
    ck_assert_str_eq(out, "浙A·12345");
    ck_assert_str_eq(out, "\xe6\xb5\x99" "A\xc2\xb7" "12345");
    registration_plate_format("京B", "A1B23", out, sizeof out);
    ck_assert_str_eq(out, "京B·A1B23");

    /* Exactly enough room (11 bytes + NUL), and one byte short. */
    registration_plate_format("浙A", "12345", tight, sizeof tight);
    ck_assert_str_eq(tight, "浙A·12345");
    memset(small, 'x', sizeof small);
    registration_plate_format("浙A", "12345", small, sizeof small);
    ck_assert_str_eq(small, "");

    registration_plate_format(NULL, "12345", out, sizeof out);
    ck_assert_str_eq(out, "·12345");
    registration_plate_format("浙A", NULL, out, sizeof out);
    ck_assert_str_eq(out, "浙A·");
    registration_plate_format("浙A", "12345", out, 0); /* nothing written, no crash */
    registration_plate_format("浙A", "12345", NULL, 16);
    registration_plate_format("浙A", "12345", out, 1);
    ck_assert_str_eq(out, "");
}
END_TEST

Suite *plate_rules_suite(void)
{
    Suite *s = suite_create("plate_rules");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(test_number_ok, test_number_null_and_clamp,
                      test_every_letter, test_prefix_all_provinces, test_prefix_letters,
                      test_prefix_null, test_format));
    tcase_add_loop_test(tc, test_number_rejects, 0,
                        (int)(sizeof bad_numbers / sizeof bad_numbers[0]));
    tcase_add_loop_test(tc, test_prefix_rejects, 0,
                        (int)(sizeof bad_prefixes / sizeof bad_prefixes[0]));
    return s;
}
