/* Unit tests for modules/catalog/catalog_item.c (pure helpers). */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "modules/catalog/catalog.h"
#include "modules/catalog/catalog_item.h"
#include "tests/unit/check_util.h"

START_TEST(channels_match_whole_names)
{
    ck_assert(catalog_channel_offered("app,window,dealer", "app"));
    ck_assert(catalog_channel_offered("app,window,dealer", "dealer"));
    ck_assert(!catalog_channel_offered("app,window,dealer", "win"));
    ck_assert(!catalog_channel_offered("app,window,dealer", "post"));
    ck_assert(!catalog_channel_offered("app,window", ""));
    ck_assert(!catalog_channel_offered(NULL, "app"));
    ck_assert(catalog_is_channel("court") && !catalog_is_channel("fax"));
    ck_assert(catalog_is_category("permit") && !catalog_is_category("boats"));
    ck_assert(catalog_code_ok("VEH-REG-NEW") && !catalog_code_ok("-X") && !catalog_code_ok("veh"));
}
END_TEST

START_TEST(materials_lookup)
{
    const char *m = "[{\"name\":\"发票\",\"key\":true},{\"name\":\"保险\",\"key\":false,\"commitment\":true}]";
    bool key = false, cm = false;
    ck_assert(catalog_material_find(m, "发票", &key, &cm));
    ck_assert(key && !cm);
    ck_assert(catalog_material_find(m, "保险", &key, &cm));
    ck_assert(!key && cm);
    ck_assert(!catalog_material_find(m, "照片", &key, &cm));
    ck_assert(!catalog_material_find("not json", "发票", &key, &cm));
}
END_TEST

static int validate(const char *text, const char **field)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    char ch[96];
    const char *why = NULL;
    int rc;
    ck_assert_ptr_nonnull(j);
    *field = NULL;
    rc = catalog_item_validate(j, ch, sizeof ch, &why, field);
    json_decref(j);
    return rc;
}

#define BASE "\"category\":\"vehicle\",\"steps\":[\"a\"],\"fees\":[{\"name\":\"f\",\"fen\":100}]"

START_TEST(item_validation)
{
    const char *f;
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\",\"window\"],\"trips\":1,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[{\"name\":\"x\",\"key\":true}]}", &f), 0);
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\",\"app\"],\"trips\":1,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[]}", &f), -1);
    ck_assert_str_eq(f, "channels");
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\"],\"trips\":1,\"statutory_days\":5,"
                              "\"promised_days\":6,\"materials\":[]}", &f), -1);
    ck_assert_str_eq(f, "promised_days");
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\"],\"trips\":3,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[]}", &f), -1);
    ck_assert_str_eq(f, "trips");
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[{\"name\":\"x\",\"key\":true},"
                              "{\"name\":\"x\",\"key\":false}]}", &f), -1);
    ck_assert_str_eq(f, "materials");
    ck_assert_int_eq(validate("{\"category\":\"vehicle\",\"steps\":[\"a\"],\"fees\":[{\"name\":\"f\",\"fen\":-1}],"
                              "\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[]}", &f), -1);
    ck_assert_str_eq(f, "fees");
}
END_TEST

/* Review: fees without an upper bound overflowed the notice's int64 total;
 * a note of any type was accepted; lists longer than the TEXT column made
 * the PUT a 500 instead of a 400 naming the field. */
START_TEST(item_validation_bounds)
{
    const char *f;
    char *big;
    size_t n = 70000;
    ck_assert_int_eq(validate("{\"category\":\"vehicle\",\"steps\":[\"a\"],"
                              "\"fees\":[{\"name\":\"f\",\"fen\":1000000000000}],"
                              "\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[]}", &f), 0);
    ck_assert_int_eq(validate("{\"category\":\"vehicle\",\"steps\":[\"a\"],"
                              "\"fees\":[{\"name\":\"f\",\"fen\":1000000000001}],"
                              "\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[]}", &f), -1);
    ck_assert_str_eq(f, "fees");
    ck_assert_int_eq(validate("{\"category\":\"vehicle\",\"steps\":[\"a\"],"
                              "\"fees\":[{\"name\":\"f\",\"fen\":9223372036854775807},"
                              "{\"name\":\"g\",\"fen\":9223372036854775807}],"
                              "\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[]}", &f), -1);
    ck_assert_str_eq(f, "fees");
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[{\"name\":\"x\",\"key\":true,"
                              "\"note\":\"ok\"}]}", &f), 0);
    ck_assert_int_eq(validate("{" BASE ",\"channels\":[\"app\"],\"trips\":0,\"statutory_days\":5,"
                              "\"promised_days\":2,\"materials\":[{\"name\":\"x\",\"key\":true,"
                              "\"note\":{\"a\":1}}]}", &f), -1);
    ck_assert_str_eq(f, "materials");
    /* one step of 70000 bytes: valid strings, too long for the column */
    big = malloc(n + 512);
    ck_assert_ptr_nonnull(big);
    strcpy(big, "{\"category\":\"vehicle\",\"fees\":[],\"channels\":[\"app\"],\"trips\":0,"
                "\"statutory_days\":5,\"promised_days\":2,\"materials\":[],\"steps\":[\"");
    {
        size_t at = strlen(big);
        memset(big + at, 'a', n);
        strcpy(big + at + n, "\"]}");
    }
    {
        json_t *j = json_loads(big, 0, NULL);
        char ch[96];
        const char *why = NULL;
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(catalog_item_validate(j, ch, sizeof ch, &why, &f), -1);
        ck_assert_str_eq(f, "steps");
        ck_assert_str_eq(why, "bad_steps");
        json_decref(j);
    }
    free(big);
}
END_TEST

START_TEST(fen_formatting)
{
    char s[32];
    catalog_format_fen(10000, s);
    ck_assert_str_eq(s, "100.00");
    catalog_format_fen(1050, s);
    ck_assert_str_eq(s, "10.50");
    catalog_format_fen(5, s);
    ck_assert_str_eq(s, "0.05");
    catalog_format_fen(0, s);
    ck_assert_str_eq(s, "0.00");
}
END_TEST

START_TEST(notice_escapes_and_sums)
{
    catalog_notice_in in = {
        .code = "T-1", .name = "A<b>&\"c\"", .channels = "app,post",
        .materials = "[{\"name\":\"发票\",\"key\":true},{\"name\":\"保险\",\"key\":false,\"commitment\":true}]",
        .fees = "[{\"name\":\"x\",\"fen\":1000},{\"name\":\"y\",\"fen\":50}]", .steps = "[\"<step>\"]",
        .legal_basis = "法", .sample_form = "表", .version = 3, .trips = 0, .statutory_days = 5,
        .promised_days = 2, .allow_missing = true, .allow_commitment = true};
    char *h = catalog_notice_html(&in);
    ck_assert_ptr_nonnull(strstr(h, "A&lt;b&gt;&amp;&quot;c&quot;"));
    ck_assert_ptr_null(strstr(h, "<b>"));
    ck_assert_ptr_null(strstr(h, "<step>"));
    ck_assert_ptr_nonnull(strstr(h, "合计：10.50 元"));
    ck_assert_ptr_nonnull(strstr(h, "邮政网点"));
    ck_assert_ptr_nonnull(strstr(h, "可以签署告知承诺书代替"));
    ck_assert_ptr_nonnull(strstr(h, "零跑腿"));
    ck_assert_ptr_nonnull(strstr(h, "第 3 版"));
    free(h);
}
END_TEST

Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    check_tcase(s, "core", CHECK_TESTS(channels_match_whole_names, materials_lookup,
                      item_validation, item_validation_bounds, fen_formatting,
                      notice_escapes_and_sums));
    return s;
}
