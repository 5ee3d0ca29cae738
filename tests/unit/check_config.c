/* Configuration table: INI parsing, types, bounds, env overrides, errors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"

static char err[512];

static void setup(void)
{
    config_reset();
    err[0] = '\0';
}

static void teardown(void)
{
    config_free();
}

START_TEST(defaults_apply)
{
    ck_assert_str_eq(config_str("http.listen"), "127.0.0.1:8080");
    ck_assert_int_eq(config_int("http.max_body"), 1048576);
    ck_assert_int_eq(config_int("workers.count"), 8);
}
END_TEST

START_TEST(ini_sections_and_comments)
{
    const char *text = "# comment\n[http]\nlisten = 0.0.0.0:9000 \n; other comment\n\n"
                       "[workers]\ncount=3\n[https]\nlisten =\n";
    ck_assert_int_eq(config_load_text(text, "t.conf", err, sizeof err), 0);
    ck_assert_str_eq(config_str("http.listen"), "0.0.0.0:9000");
    ck_assert_int_eq(config_int("workers.count"), 3);
    ck_assert_str_eq(config_str("https.listen"), "");
}
END_TEST

START_TEST(unknown_key_names_file_line_and_key)
{
    ck_assert_int_eq(config_load_text("[http]\n\nlisten = x:1\nbogus = 1\n", "t.conf", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "t.conf:4"));
    ck_assert_ptr_nonnull(strstr(err, "http.bogus"));
}
END_TEST

START_TEST(integer_type_and_bounds)
{
    ck_assert_int_eq(config_set("workers.count", "abc", "src", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "workers.count must be an integer"));
    ck_assert_int_eq(config_set("workers.count", "0", "src", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "between 1 and 256"));
    ck_assert_int_eq(config_set("workers.count", "12x", "src", err, sizeof err), -1);
    ck_assert_int_eq(config_set("workers.count", "", "src", err, sizeof err), -1);
    ck_assert_int_eq(config_set("workers.count", "99999999999999999999", "src", err, sizeof err), -1);
    ck_assert_int_eq(config_set("workers.count", "256", "src", err, sizeof err), 0);
    ck_assert_int_eq(config_int("workers.count"), 256);
}
END_TEST

START_TEST(malformed_lines_are_refused)
{
    ck_assert_int_eq(config_load_text("listen = 1\n", "a", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "outside a [section]"));
    ck_assert_int_eq(config_load_text("[http\n", "b", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "malformed section"));
    ck_assert_int_eq(config_load_text("[http]\nlisten\n", "c", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "expected key = value"));
}
END_TEST

START_TEST(log_level_is_validated)
{
    ck_assert_int_eq(config_set("log.level", "loud", "s", err, sizeof err), -1);
    ck_assert_int_eq(config_set("log.level", "debug", "s", err, sizeof err), 0);
}
END_TEST

START_TEST(environment_overrides)
{
    setenv("ONETRIP_HTTP_MAX_BODY", "4096", 1);
    ck_assert_int_eq(config_load_env(err, sizeof err), 0);
    ck_assert_int_eq(config_int("http.max_body"), 4096);
    setenv("ONETRIP_HTTP_MAX_BODY", "tiny", 1);
    ck_assert_int_eq(config_load_env(err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "ONETRIP_HTTP_MAX_BODY"));
    unsetenv("ONETRIP_HTTP_MAX_BODY");
}
END_TEST

START_TEST(cross_key_rules)
{
    ck_assert_int_eq(config_validate(err, sizeof err), -1); /* https on, no cert */
    ck_assert_ptr_nonnull(strstr(err, "https.cert"));
    ck_assert_int_eq(config_set("https.listen", "", "s", err, sizeof err), 0);
    ck_assert_int_eq(config_validate(err, sizeof err), 0);
    ck_assert_int_eq(config_set("http.max_headers_size", "65536", "s", err, sizeof err), 0);
    ck_assert_int_eq(config_set("http.max_headers_read", "32768", "s", err, sizeof err), 0);
    ck_assert_int_eq(config_validate(err, sizeof err), -1); /* read limit below the 431 limit */
    ck_assert_ptr_nonnull(strstr(err, "http.max_headers_read"));
    ck_assert_int_eq(config_set("http.max_headers_read", "65536", "s", err, sizeof err), 0);
    ck_assert_int_eq(config_validate(err, sizeof err), 0);
    ck_assert_int_eq(config_set("http.listen", "", "s", err, sizeof err), 0);
    ck_assert_int_eq(config_validate(err, sizeof err), -1);
}
END_TEST

START_TEST(module_keys_join_the_table)
{
    static const app_conf extra[] = {
        {"unittest.size", true, "5", 1, 10, false, "a test key"},
    };
    ck_assert_int_eq(config_add_keys(extra, 1), 0);
    config_reset();
    ck_assert_int_eq(config_int("unittest.size"), 5);
    ck_assert_int_eq(config_set("unittest.size", "11", "s", err, sizeof err), -1);
    ck_assert_int_eq(config_add_keys(extra, 1), -1); /* duplicate */
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_apply);
    tcase_add_test(tc, ini_sections_and_comments);
    tcase_add_test(tc, unknown_key_names_file_line_and_key);
    tcase_add_test(tc, integer_type_and_bounds);
    tcase_add_test(tc, malformed_lines_are_refused);
    tcase_add_test(tc, log_level_is_validated);
    tcase_add_test(tc, environment_overrides);
    tcase_add_test(tc, cross_key_rules);
    tcase_add_test(tc, module_keys_join_the_table);
    suite_add_tcase(s, tc);
    return s;
}
