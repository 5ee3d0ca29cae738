/* Configuration table: binding to typed fields, INI parsing, types, bounds,
 * validators, env overrides, errors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cases/cases_internal.h"
#include "modules/identity/identity_http.h"
#include "modules/payments/payments_conf.h"
#include "modules/registration/registration_internal.h"
#include "server/config.h"
#include "server/modules.h"
#include "tests/unit/check_util.h"

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
    ck_assert_str_eq(server_conf.http.listen, "127.0.0.1:8080");
    ck_assert_int_eq(server_conf.http.max_body, 1048576);
    /* Issue 12: workers follow the machine (8 up to 2 cores, as before); one loop unless set. */
    ck_assert_int_eq(server_conf.http.threads, 1);
    ck_assert_int_eq(server_conf.workers.count, config_workers_for(config_cpu_count()));
}
END_TEST

/* Issue 12: one loop thread per core (at most 16); 4 workers per core, 8 to 64. */
START_TEST(machine_defaults_follow_the_cores)
{
    ck_assert_int_ge(config_cpu_count(), 1);
    ck_assert_int_eq(config_threads_for(0), 1);
    ck_assert_int_eq(config_threads_for(1), 1);
    ck_assert_int_eq(config_threads_for(2), 2);
    ck_assert_int_eq(config_threads_for(16), 16);
    ck_assert_int_eq(config_threads_for(96), 16);
    ck_assert_int_eq(config_workers_for(0), 8);
    ck_assert_int_eq(config_workers_for(1), 8);
    ck_assert_int_eq(config_workers_for(2), 8);
    ck_assert_int_eq(config_workers_for(3), 12);
    ck_assert_int_eq(config_workers_for(16), 64);
    ck_assert_int_eq(config_workers_for(96), 64);
    /* Still configurable, with the same bounds. */
    ck_assert_int_eq(config_set("http.threads", "1", "src", err, sizeof err), 0);
    ck_assert_int_eq(server_conf.http.threads, 1);
    ck_assert_int_eq(config_set("http.threads", "65", "src", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "between 1 and 64"));
    config_reset();
    ck_assert_int_eq(server_conf.http.threads, 1);
}
END_TEST

START_TEST(ini_sections_and_comments)
{
    const char *text = "# comment\n[http]\nlisten = 0.0.0.0:9000 \n; other comment\n\n"
                       "[workers]\ncount=3\n[https]\nlisten =\n";
    ck_assert_int_eq(config_load_text(text, "t.conf", err, sizeof err), 0);
    ck_assert_str_eq(server_conf.http.listen, "0.0.0.0:9000");
    ck_assert_int_eq(server_conf.workers.count, 3);
    ck_assert_str_eq(server_conf.https.listen, "");
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
    ck_assert_int_eq(server_conf.workers.count, 256);
}
END_TEST

/* Issue 12: a read token is reusable until exp, so its lifetime is capped short. */
START_TEST(app_token_max_ttl_is_bounded)
{
    ck_assert_int_eq(server_conf.auth.app_token_max_ttl_s, 300);
    ck_assert_int_eq(config_set("auth.app_token_max_ttl_s", "29", "src", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "between 30 and 600"));
    ck_assert_int_eq(config_set("auth.app_token_max_ttl_s", "601", "src", err, sizeof err), -1);
    ck_assert_int_eq(config_set("auth.app_token_max_ttl_s", "60", "src", err, sizeof err), 0);
    ck_assert_int_eq(server_conf.auth.app_token_max_ttl_s, 60);
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
    ck_assert_str_eq(err, "s: log.level must be error, warn, info or debug");
    ck_assert_int_eq(config_set("log.level", "debug", "s", err, sizeof err), 0);
}
END_TEST

START_TEST(environment_overrides)
{
    setenv("ONETRIP_HTTP_MAX_BODY", "4096", 1);
    ck_assert_int_eq(config_load_env(err, sizeof err), 0);
    ck_assert_int_eq(server_conf.http.max_body, 4096);
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

static int64_t unittest_size;
static const char *unittest_word;

static int check_even_length(const char *v, char *why, size_t whylen)
{
    if (strlen(v) % 2 == 0)
        return 0;
    snprintf(why, whylen, "must have an even length");
    return -1;
}

START_TEST(module_keys_join_the_table)
{
    static const app_conf extra[] = {
        APP_CONF_INT("unittest.size", unittest_size, "5", 1, 10, "a test key"),
        APP_CONF_STR_CHECK("unittest.word", unittest_word, "ab", check_even_length, "a checked key"),
    };
    ck_assert_int_eq(config_add_keys(extra, 2), 0);
    /* the defaults land in the fields as the keys join */
    ck_assert_int_eq(unittest_size, 5);
    ck_assert_str_eq(unittest_word, "ab");
    ck_assert_int_eq(config_set("unittest.size", "11", "s", err, sizeof err), -1);
    ck_assert_int_eq(unittest_size, 5);
    ck_assert_int_eq(config_load_text("[unittest]\nsize = 7\nword = abcd\n", "u.conf", err, sizeof err), 0);
    ck_assert_int_eq(unittest_size, 7);
    ck_assert_str_eq(unittest_word, "abcd");
    ck_assert_int_eq(config_set("unittest.word", "abc", "s", err, sizeof err), -1);
    ck_assert_str_eq(err, "s: unittest.word must have an even length");
    ck_assert_str_eq(unittest_word, "abcd");
    ck_assert_str_eq(config_key_of(&unittest_size), "unittest.size");
    config_reset();
    ck_assert_int_eq(unittest_size, 5);
    ck_assert_str_eq(unittest_word, "ab");
    ck_assert_int_eq(config_add_keys(extra, 1), -1); /* duplicate */
}
END_TEST

START_TEST(values_land_in_typed_fields)
{
    ck_assert_int_eq(config_load_text("[http]\nmax_body = 2048\nlisten = 0.0.0.0:1\n[db]\ntx_attempts = 9\n",
                                      "t.conf", err, sizeof err), 0);
    ck_assert_int_eq(server_conf.http.max_body, 2048);
    ck_assert_int_eq(server_conf.db.tx_attempts, 9);
    ck_assert_str_eq(server_conf.http.listen, "0.0.0.0:1");
    /* a refused value leaves the field as it was */
    ck_assert_int_eq(config_set("db.tx_attempts", "21", "s", err, sizeof err), -1);
    ck_assert_int_eq(server_conf.db.tx_attempts, 9);
    config_free(); /* the fields point at the defaults again, never at freed text */
    ck_assert_str_eq(server_conf.http.listen, "127.0.0.1:8080");
    ck_assert_int_eq(server_conf.http.max_body, 1048576);
}
END_TEST

START_TEST(environment_overrides_reach_fields)
{
    setenv("ONETRIP_DB_TX_ATTEMPTS", "7", 1);
    setenv("ONETRIP_HTTP_LISTEN", "127.0.0.1:1234", 1);
    ck_assert_int_eq(config_load_text("[db]\ntx_attempts = 3\n", "t.conf", err, sizeof err), 0);
    ck_assert_int_eq(config_load_env(err, sizeof err), 0);
    ck_assert_int_eq(server_conf.db.tx_attempts, 7); /* the environment wins over the file */
    ck_assert_str_eq(server_conf.http.listen, "127.0.0.1:1234");
    setenv("ONETRIP_DB_TX_ATTEMPTS", "0", 1);
    ck_assert_int_eq(config_load_env(err, sizeof err), -1);
    ck_assert_str_eq(err, "ONETRIP_DB_TX_ATTEMPTS: db.tx_attempts must be between 1 and 20");
    unsetenv("ONETRIP_DB_TX_ATTEMPTS");
    unsetenv("ONETRIP_HTTP_LISTEN");
}
END_TEST

START_TEST(bad_declarations_are_refused)
{
    static int64_t n;
    static const char *w;
    static const app_conf no_section[] = {APP_CONF_INT("nosection", n, "1", 0, 2, "h")};
    static const app_conf default_out_of_bounds[] = {APP_CONF_INT("unittest.n", n, "3", 0, 2, "h")};
    static const app_conf default_not_int[] = {APP_CONF_INT("unittest.n", n, "x", 0, 2, "h")};
    static const app_conf default_refused[] = {
        APP_CONF_STR_CHECK("unittest.w", w, "abc", check_even_length, "h")};
    static const app_conf unbound[] = {{"unittest.n", true, "1", 0, 2, false, "h", NULL, NULL, NULL}};
    static const app_conf twice[] = {APP_CONF_INT("unittest.n", n, "1", 0, 2, "h"),
                                     APP_CONF_INT("unittest.n", n, "1", 0, 2, "h")};
    static const app_conf clash[] = {APP_CONF_STR("http.listen", w, "", "h")};

    ck_assert_int_eq(config_check_keys(no_section, 1, err, sizeof err), -1);
    ck_assert_int_eq(config_check_keys(default_out_of_bounds, 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unittest.n must be between 0 and 2"));
    ck_assert_int_eq(config_check_keys(default_not_int, 1, err, sizeof err), -1);
    ck_assert_int_eq(config_check_keys(default_refused, 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unittest.w must have an even length"));
    ck_assert_int_eq(config_check_keys(unbound, 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not bound"));
    ck_assert_int_eq(config_check_keys(twice, 2, err, sizeof err), -1);
    ck_assert_int_eq(config_check_keys(clash, 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "http.listen declared twice"));
    ck_assert_int_eq(config_add_keys(clash, 1), -1);
}
END_TEST

/* Every module's table is well formed: names, bindings, defaults inside
 * their own bounds and validators (what onetripd checks at start-up). */
START_TEST(every_module_table_is_valid)
{
    for (int i = 0; i < modules_count; i++)
        if (modules_all[i]->nconf > 0 &&
            config_check_keys(modules_all[i]->conf, modules_all[i]->nconf, err, sizeof err) != 0 &&
            strstr(err, "declared twice") == NULL) /* another test may have added them already */
            ck_abort_msg("module %s: %s", modules_all[i]->name, err);
}
END_TEST

START_TEST(module_fields_take_values)
{
    static int added;
    if (!added) {
        for (int i = 0; i < modules_count; i++)
            if (modules_all[i]->nconf > 0 && strcmp(modules_all[i]->name, "core") != 0)
                ck_assert_int_eq(config_add_keys(modules_all[i]->conf, modules_all[i]->nconf), 0);
        added = 1;
    }
    config_reset();
    ck_assert_int_eq(payments_conf.order_ttl_s, 1800);
    ck_assert_int_eq(cases_conf.supply_days, 5);
    ck_assert_int_eq(identity_conf.max_failed_logins, 5);
    ck_assert_str_eq(registration_conf.selection, "offer,custom");
    ck_assert_int_eq(config_load_text("[payments]\norder_ttl_s = 600\n[auth]\nlock_s = 60\n", "t", err,
                                      sizeof err), 0);
    ck_assert_int_eq(payments_conf.order_ttl_s, 600);
    ck_assert_int_eq(identity_conf.lock_s, 60);
    /* the WeChat Pay API v3 key's validator: 32 characters or none */
    ck_assert_int_eq(config_set("payments.wechat_apiv3_key", "short", "s", err, sizeof err), -1);
    ck_assert_str_eq(err, "s: payments.wechat_apiv3_key must be 32 characters");
    ck_assert_int_eq(config_set("payments.wechat_apiv3_key", "0123456789abcdef0123456789abcdef", "s", err,
                                sizeof err), 0);
    /* registration.selection's validator */
    ck_assert_int_eq(config_set("registration.selection", "lottery", "s", err, sizeof err), -1);
    ck_assert_str_eq(err, "s: registration.selection must be offer, custom or offer,custom");
    ck_assert_str_eq(registration_conf.selection, "offer,custom");
    ck_assert_int_eq(config_set("registration.selection", "custom", "s", err, sizeof err), 0);
    ck_assert_str_eq(registration_conf.selection, "custom");
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(defaults_apply, machine_defaults_follow_the_cores, ini_sections_and_comments,
                      unknown_key_names_file_line_and_key, integer_type_and_bounds,
                      app_token_max_ttl_is_bounded, malformed_lines_are_refused, log_level_is_validated, environment_overrides,
                      cross_key_rules, module_keys_join_the_table, values_land_in_typed_fields,
                      environment_overrides_reach_fields, bad_declarations_are_refused,
                      every_module_table_is_valid, module_fields_take_values));
    tcase_add_checked_fixture(tc, setup, teardown);
    return s;
}
