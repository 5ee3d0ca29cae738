/* Unit tests for modules/registration/vin.c. The valid samples below were
 * verified by computing the check digit independently (the
 * "1M8GDM9AXKP042788" example is the one published with the standard). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "modules/registration/vin.h"
#include "tests/unit/check_util.h"

static const struct {
    const char *vin;
    char check;
} valid[] = {
    {"1M8GDM9AXKP042788", 'X'},
    {"11111111111111111", '1'},
    {"JH4KA7561PC008269", '1'},
    {"1HGCM82633A004352", '3'},
    {"2HGES16505H591234", '0'},
    {"WVWZZZ1J0XW000001", '0'},
    {"LSVAU218XN2183294", 'X'},
    {"LFV2A21K8A3000001", '8'},
    {"LSGPC52U3AF000001", '3'},
    {"00000000000000000", '0'},
};

START_TEST(test_valid_samples)
{
    const char *why = "untouched";
    ck_assert_msg(registration_vin_check(valid[_i].vin, &why) == 0, "%s rejected: %s",
                  valid[_i].vin, why);
    ck_assert_str_eq(why, "untouched");
    ck_assert_int_eq(registration_vin_expected_check(valid[_i].vin), valid[_i].check);
}
END_TEST

/* Any other character in position 9 of a valid VIN is a check digit error,
 * including letters that are otherwise legal. */
START_TEST(test_every_wrong_check_digit)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
    char v[18];
    for (const char *c = alphabet; *c; c++) {
        const char *why = NULL;
        memcpy(v, valid[_i].vin, sizeof v);
        v[8] = *c;
        if (*c == valid[_i].check) {
            ck_assert_int_eq(registration_vin_check(v, &why), 0);
            continue;
        }
        ck_assert_int_eq(registration_vin_check(v, &why), -1);
        ck_assert_str_eq(why, "vin_check_digit");
        /* The check position has weight 0: the expectation does not move. */
        ck_assert_int_eq(registration_vin_expected_check(v), valid[_i].check);
    }
}
END_TEST

static const struct {
    const char *vin;
    const char *why;
} invalid[] = {
    {"LSVAU2180N2183294", "vin_check_digit"}, /* expects X */
    {"1M8GDM9A1KP042788", "vin_check_digit"},
    {"1M8GDM9AXKP042789", "vin_check_digit"}, /* last digit changed */
    {"", "vin_length"},
    {"1M8GDM9AXKP04278", "vin_length"},
    {"1M8GDM9AXKP0427880", "vin_length"},
    {"1M8GDM9AXKP042788 ", "vin_length"},
    {"1m8gdm9axkp042788", "vin_character"},
    {"1M8GDM9aXKP042788", "vin_character"},
    {"1M8GDM9AxKP042788", "vin_character"},
    {"1M8GDM9-XKP042788", "vin_character"},
    {"1M8GDM9 XKP042788", "vin_character"},
    {"1M8GDM9AXKP04278\xc3", "vin_character"},
    {"IM8GDM9AXKP042788", "vin_forbidden_letter"},
    {"1M8GDM9AXKP04278O", "vin_forbidden_letter"},
    {"1M8GQM9AXKP042788", "vin_forbidden_letter"},
    {"1M8GDM9AOKP042788", "vin_forbidden_letter"}, /* O in the check position */
    {"IM8GDM9AXKP04278a", "vin_character"},        /* bad character outranks I */
    {"1i8GDM9AXKP042788", "vin_character"},        /* lower-case i is a character error */
};

START_TEST(test_invalid)
{
    const char *why = NULL;
    ck_assert_msg(registration_vin_check(invalid[_i].vin, &why) == -1, "accepted %s",
                  invalid[_i].vin);
    ck_assert_str_eq(why, invalid[_i].why);
}
END_TEST

START_TEST(test_null_and_optional_why)
{
    const char *why = NULL;
    ck_assert_int_eq(registration_vin_check(NULL, &why), -1);
    ck_assert_str_eq(why, "vin_length");
    ck_assert_int_eq(registration_vin_check(NULL, NULL), -1);
    ck_assert_int_eq(registration_vin_check("1M8GDM9AXKP042788", NULL), 0);
    ck_assert_int_eq(registration_vin_check("1M8GDM9A1KP042788", NULL), -1);
}
END_TEST

START_TEST(test_expected_check_rejects)
{
    ck_assert_int_eq(registration_vin_expected_check(NULL), '\0');
    ck_assert_int_eq(registration_vin_expected_check(""), '\0');
    ck_assert_int_eq(registration_vin_expected_check("1M8GDM9AXKP04278"), '\0');
    ck_assert_int_eq(registration_vin_expected_check("1M8GDM9AXKP0427888"), '\0');
    ck_assert_int_eq(registration_vin_expected_check("IM8GDM9AXKP042788"), '\0');
    ck_assert_int_eq(registration_vin_expected_check("1m8GDM9AXKP042788"), '\0');
    /* Position 9 may hold anything legal: it is being computed. */
    ck_assert_int_eq(registration_vin_expected_check("1M8GDM9AZKP042788"), 'X');
}
END_TEST

/* Independent reference, written differently from vin.c (a switch, not a
 * table), compared on many generated VINs. */
static int ref_value(char c)
{
    switch (c) {
    case 'A': case 'J': return 1;
    case 'B': case 'K': case 'S': return 2;
    case 'C': case 'L': case 'T': return 3;
    case 'D': case 'M': case 'U': return 4;
    case 'E': case 'N': case 'V': return 5;
    case 'F': case 'W': return 6;
    case 'G': case 'P': case 'X': return 7;
    case 'H': case 'Y': return 8;
    case 'R': case 'Z': return 9;
    default: return c - '0';
    }
}

START_TEST(test_against_reference)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
    static const int w[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
    uint64_t seed = 12345; /* 31-bit LCG state; 64 bits so nothing wraps */
    char v[18];
    v[17] = '\0';
    for (int n = 0; n < 20000; n++) {
        int sum = 0;
        char want;
        for (int i = 0; i < 17; i++) {
            seed = (seed * 1103515245u + 12345u) & 0x7fffffffu;
            v[i] = alphabet[(seed >> 16) % 33];
            sum += ref_value(v[i]) * w[i];
        }
        want = sum % 11 == 10 ? 'X' : (char)('0' + sum % 11);
        ck_assert_int_eq(registration_vin_expected_check(v), want);
        ck_assert_int_eq(registration_vin_check(v, NULL), v[8] == want ? 0 : -1);
        v[8] = want;
        ck_assert_int_eq(registration_vin_check(v, NULL), 0);
    }
}
END_TEST

Suite *vin_suite(void)
{
    Suite *s = suite_create("vin");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(test_null_and_optional_why,
                      test_expected_check_rejects, test_against_reference));
    tcase_add_loop_test(tc, test_valid_samples, 0, (int)(sizeof valid / sizeof valid[0]));
    tcase_add_loop_test(tc, test_every_wrong_check_digit, 0, (int)(sizeof valid / sizeof valid[0]));
    tcase_add_loop_test(tc, test_invalid, 0, (int)(sizeof invalid / sizeof invalid[0]));
    return s;
}
