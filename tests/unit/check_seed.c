/* Unit tests for the pure parts of the demo-city generator: the PRNG of
 * db/seed.c, and the bijections behind the unique columns (ID numbers,
 * licence file numbers, plates, VINs) of modules/people/people_seed.c and
 * registration's generators. The database side is exercised by running
 * `onetripd seed` for real (tests/integration/seed.test.mjs). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/seed.h"
#include "modules/people/people_id.h"
#include "modules/people/people_seed.h"
#include "modules/registration/registration.h"
#include "server/date.h"
#include "tests/unit/check_util.h"

#define SAMPLE 200000

/* ck_assert_* records its location through a pipe on every call (fork mode):
 * millions of them cost a minute. Loops check with this and only call Check
 * on a failure. */
#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond))                      \
            ck_abort_msg(__VA_ARGS__);    \
    } while (0)

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* The SAMPLE keys (then freed) are all different; what names them. */
static void all_distinct(uint64_t *keys, const char *what)
{
    qsort(keys, SAMPLE, sizeof *keys, cmp_u64);
    for (size_t i = 1; i < SAMPLE; i++)
        CHECK(keys[i] != keys[i - 1], "duplicate %s %llu", what, (unsigned long long)keys[i]);
    free(keys);
}

static int cmp_vin(const void *a, const void *b)
{
    return memcmp(a, b, 17);
}

/* Reference outputs of Vigna's splitmix64.c started from state 0. */
START_TEST(test_splitmix_reference)
{
    uint64_t s = 0;

    ck_assert_uint_eq(seed_splitmix64(&s), 0xe220a8397b1dcdafULL);
    ck_assert_uint_eq(seed_splitmix64(&s), 0x6e789e6aa1b965f4ULL);
    ck_assert_uint_eq(seed_splitmix64(&s), 0x06c45d188009454fULL);
}
END_TEST

/* The worked example of GB 11643-1999 and a second published one. */
START_TEST(test_id_check_char_examples)
{
    ck_assert_int_eq(people_id_check_char("11010519491231002"), 'X');
    ck_assert_int_eq(people_id_check_char("44052418800101001"), '4');
    ck_assert_int_eq(people_id_check_char("1101051949123100A"), '\0');
}
END_TEST

/* Written again here (not calling people_id.c) so a wrong weight table there
 * cannot hide behind itself. */
static char independent_check(const char *id)
{
    int sum = 0;

    for (int i = 0; i < 17; i++) {
        int w = 1;

        for (int k = 0; k < 17 - i; k++)
            w = w * 2 % 11; /* weight of position i is 2^(17-i) mod 11 */
        sum += (id[i] - '0') * w;
    }
    return "10X98765432"[sum % 11];
}

START_TEST(test_id_numbers)
{
    static const char *const regions[] = {"330102", "330103", "330104", "330105", "330106",
                                          "330108", "330109", "330110", "330122", "330127",
                                          "330182", "330183", "330185"};
    uint64_t *keys = calloc(SAMPLE, sizeof *keys);
    int32_t lo = 0, hi = 0;

    ck_assert_ptr_nonnull(keys);
    ck_assert_int_eq(date_from_ymd(1950, 1, 1, &lo), 0);
    ck_assert_int_eq(date_from_ymd(2005, 12, 31, &hi), 0);
    for (uint64_t i = 0; i < SAMPLE; i++) {
        char id[19], again[19], ymd[DATE_STR_SIZE];
        int32_t birth = 0, region_ok = 0;

        CHECK(people_seed_id_number(7, i, id) == 0, "index %llu refused", (unsigned long long)i);
        CHECK(strlen(id) == 18, "%s: not 18 characters", id);
        for (int k = 0; k < 17; k++)
            CHECK(id[k] >= '0' && id[k] <= '9', "%s: not a digit at %d", id, k);
        CHECK(id[17] == independent_check(id), "%s: wrong check character", id);
        for (size_t r = 0; r < sizeof regions / sizeof regions[0]; r++)
            region_ok |= memcmp(id, regions[r], 6) == 0;
        CHECK(region_ok, "%s: not a Hangzhou region", id);
        snprintf(ymd, sizeof ymd, "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
        CHECK(date_parse(ymd, &birth) == 0, "%s: no such birth date", id);
        CHECK(birth >= lo && birth <= hi, "%s: born outside 1950-2005", id);
        CHECK(people_seed_id_number(7, i, again) == 0 && strcmp(id, again) == 0,
              "%s: not deterministic", id);
        keys[i] = strtoull(id, NULL, 10) / 10 * 10; /* the check digit adds nothing */
    }
    all_distinct(keys, "ID number");
}
END_TEST

START_TEST(test_file_numbers)
{
    uint64_t *keys = calloc(SAMPLE, sizeof *keys);

    ck_assert_ptr_nonnull(keys);
    for (uint64_t i = 0; i < SAMPLE; i++) {
        char f[13];

        CHECK(people_seed_file_no(3, i, f) == 0, "index %llu refused", (unsigned long long)i);
        CHECK(strlen(f) == 12 && strspn(f, "0123456789") == 12, "%s: not 12 digits", f);
        CHECK(memcmp(f, "3301", 4) == 0, "%s: not a Hangzhou file number", f);
        keys[i] = strtoull(f, NULL, 10);
    }
    all_distinct(keys, "file number");
}
END_TEST

/* Every index of the plate space (7,060,000 numbers: at most two letters)
 * maps to a distinct valid number: a bijection, so a million vehicles never
 * need a retry. Numbers are marked in a bitmap over base-36 codes. */
START_TEST(test_plates_bijection)
{
    static const char symbols[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t space = REGISTRATION_PLATE_SPACE, limit = _i == 0 ? space : SAMPLE;
    uint64_t seed = _i == 0 ? 7 : 0xdeadbeefcafeULL;
    size_t bits = 36ULL * 36 * 36 * 36 * 36;
    unsigned char *seen = calloc(bits / 8 + 1, 1);
    char n[6];

    ck_assert_uint_eq(space, 7060000);
    ck_assert_ptr_nonnull(seen);
    for (uint64_t i = 0; i < limit; i++) {
        const char *why = NULL;
        size_t code = 0;

        CHECK(people_seed_plate_number(seed, i, n) == 0, "index %llu refused", (unsigned long long)i);
        CHECK(registration_plate_number_check(n, 2, &why) == 0, "%s: %s", n, why);
        for (int k = 0; k < 5; k++)
            code = code * 36 + (size_t)(strchr(symbols, n[k]) - symbols);
        CHECK(!(seen[code / 8] & (1u << (code % 8))), "plate %s repeated at %llu", n,
                      (unsigned long long)i);
        seen[code / 8] |= (unsigned char)(1u << (code % 8));
    }
    ck_assert_int_eq(people_seed_plate_number(seed, space, n), -1);
    free(seen);
}
END_TEST

START_TEST(test_vins)
{
    char (*vins)[18] = calloc(SAMPLE, sizeof *vins);

    ck_assert_ptr_nonnull(vins);
    for (uint64_t i = 0; i < SAMPLE; i++) {
        const char *why = NULL;
        char again[18];

        CHECK(people_seed_vin(11, 1000, i, vins[i]) == 0, "index %llu refused", (unsigned long long)i);
        CHECK(registration_vin_check(vins[i], &why) == 0, "%s: %s", vins[i], why);
        CHECK(vins[i][0] == 'L', "%s: not made in China", vins[i]);
        CHECK(people_seed_vin(11, 1000, i, again) == 0 && strcmp(vins[i], again) == 0,
              "%s: not deterministic", vins[i]);
    }
    qsort(vins, SAMPLE, sizeof *vins, cmp_vin);
    for (size_t i = 1; i < SAMPLE; i++)
        CHECK(memcmp(vins[i], vins[i - 1], 17) != 0, "duplicate VIN %s", vins[i]);
    /* The serial part makes VINs unique beyond a million vehicles too. */
    {
        char a[18], b[18];

        ck_assert_int_eq(people_seed_vin(11, 1000, 5, a), 0);
        ck_assert_int_eq(people_seed_vin(11, 1000, 5 + 1000000, b), 0);
        ck_assert_msg(memcmp(a + 10, b + 10, 7) != 0, "%s vs %s", a, b);
    }
    free(vins);
}
END_TEST

/* Another seed is another city: most identifiers differ. */
START_TEST(test_seeds_differ)
{
    int same_id = 0, same_plate = 0;

    for (uint64_t i = 0; i < 1000; i++) {
        char a[19], b[19], p[6], q[6];

        ck_assert_int_eq(people_seed_id_number(1, i, a), 0);
        ck_assert_int_eq(people_seed_id_number(2, i, b), 0);
        same_id += strcmp(a, b) == 0;
        ck_assert_int_eq(people_seed_plate_number(1, i, p), 0);
        ck_assert_int_eq(people_seed_plate_number(2, i, q), 0);
        same_plate += strcmp(p, q) == 0;
    }
    ck_assert_int_lt(same_id, 10);
    ck_assert_int_lt(same_plate, 10);
}
END_TEST

/* The identifiers of seed 5, as db/seed.c made them before the generators
 * moved into the modules: moving code must not change the demo city. */
START_TEST(test_identifiers_pinned)
{
    static const struct {
        uint64_t idx;
        const char *id, *file, *plate, *vin;
    } want[] = {
        {0, "330127200506044173", "330135944794", "N0N83", "LHGWMULW4HA967941"},
        {1, "330183197712130204", "330101049351", "4T13C", "LFM5AFHM7LA967942"},
        {299, "330110196609137149", "330102207337", "50D52", "L6TWU51D1FA968240"},
        {123456, "330182198311223854", "330184133786", "JV619", "LBVDV5ZB2FB091397"},
    };

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char id[19], file[13], plate[6], vin[18];

        ck_assert_int_eq(people_seed_id_number(5, want[i].idx, id), 0);
        ck_assert_str_eq(id, want[i].id);
        ck_assert_int_eq(people_seed_file_no(5, want[i].idx, file), 0);
        ck_assert_str_eq(file, want[i].file);
        ck_assert_int_eq(people_seed_plate_number(5, want[i].idx, plate), 0);
        ck_assert_str_eq(plate, want[i].plate);
        ck_assert_int_eq(people_seed_vin(5, 300, want[i].idx, vin), 0);
        ck_assert_str_eq(vin, want[i].vin);
    }
}
END_TEST

/* Registration's generators refuse what they cannot make valid. */
START_TEST(test_registration_generators_refuse)
{
    char n[6], v[18];

    ck_assert_int_eq(registration_plate_number_at(REGISTRATION_PLATE_SPACE, n), -1);
    ck_assert_int_eq(registration_plate_number_at(0, n), 0);
    ck_assert_str_eq(n, "00000");
    ck_assert_int_eq(registration_plate_number_at(REGISTRATION_PLATE_SPACE - 1, n), 0);
    ck_assert_int_eq(registration_plate_number_check(n, 2, NULL), 0);
    ck_assert_int_eq(registration_vin_compose("LSV", "ABCDE", 2020, 0, v), 0);
    ck_assert_int_eq(registration_vin_check(v, NULL), 0);
    ck_assert_int_eq(registration_vin_compose("LSV", "ABCDE", 2020, REGISTRATION_VIN_SERIALS, v),
                     -1);
    ck_assert_int_eq(registration_vin_compose("LS", "ABCDE", 2020, 0, v), -1);
    ck_assert_int_eq(registration_vin_compose("LSV", "ABCD", 2020, 0, v), -1);
    ck_assert_int_eq(registration_vin_compose("LSV", "ABCDI", 2020, 0, v), -1); /* I: no VIN */
    ck_assert_int_eq(registration_vin_compose("LSV", "ABCDE", 2000, 0, v), -1);
    ck_assert_int_eq(registration_vin_compose(NULL, "ABCDE", 2020, 0, v), -1);
}
END_TEST

Suite *seed_suite(void)
{
    Suite *s = suite_create("seed");
    TCase *tc = check_tcase(s, "pure", CHECK_TESTS(test_splitmix_reference,
                      test_id_check_char_examples, test_id_numbers, test_file_numbers, test_vins,
                      test_seeds_differ, test_identifiers_pinned,
                      test_registration_generators_refuse));

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_plates_bijection, 0, 2);
    return s;
}
