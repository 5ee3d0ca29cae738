/* The module list's start-up checks (modules_check), each shown failing on a
 * deliberately broken descriptor, and passing on the real list. */
#include <check.h>
#include <string.h>

#include "server/modules.h"
#include "tests/unit/check_util.h"

static char err[512];

static void noop(app_req *r)
{
    (void)r;
}

static const app_perm perms[] = {
    {"public", KIND_ANON, 0, 0, "anyone"},
    {"test.read", KIND_OPERATOR, ROLE_ALL, 0, "read"},
};
static const db_migration m810 = {810, "0810_test.sql", "SELECT 1;\n"};
static const db_migration m905 = {905, "0905_stray.sql", "SELECT 1;\n"};
static const db_migration *const good_migrations[] = {&m810, NULL};
static const db_migration *const stray_migrations[] = {&m810, &m905, NULL};
static const app_route good_routes[] = {
    {M_GET, "/v1/test/{id}", noop, "test.read", 0},
    {M_GET, "/v1/test/mine", noop, "test.read", 0},
    {M_GET, "/test/ping", noop, "public", ROUTE_PUBLIC | ROUTE_INLINE},
};

static app_module base(void)
{
    app_module m = {
        .name = "test",
        .routes = good_routes, .nroutes = APP_LEN(good_routes),
        .perms = perms, .nperms = APP_LEN(perms),
        .migrations = good_migrations,
        .migrations_from = 800, .migrations_to = 899,
    };
    return m;
}

/* A second module "other" with no routes, permissions or migrations, beside
 * base(); a test gives it what it needs. */
static app_module other(void)
{
    app_module m = {.name = "other"};
    return m;
}

static int check1(const app_module *m)
{
    const app_module *list[] = {m};
    err[0] = '\0';
    return modules_check(list, 1, err, sizeof err);
}

START_TEST(real_module_list_passes)
{
    ck_assert_msg(modules_check(modules_all, modules_count, err, sizeof err) == 0, "%s", err);
}
END_TEST

START_TEST(well_formed_descriptor_passes)
{
    app_module m = base();
    ck_assert_msg(check1(&m) == 0, "%s", err);
}
END_TEST

START_TEST(migration_outside_range_is_refused)
{
    app_module m = base();
    m.migrations = stray_migrations;
    ck_assert_int_eq(check1(&m), -1);
    ck_assert_str_eq(err, "module test: migration 0905_stray.sql has version 905 outside the module's range 800-899");
}
END_TEST

START_TEST(migrations_without_range_are_refused)
{
    app_module m = base();
    m.migrations_from = m.migrations_to = 0;
    ck_assert_int_eq(check1(&m), -1);
    ck_assert_ptr_nonnull(strstr(err, "no version range"));
}
END_TEST

START_TEST(overlapping_ranges_are_refused)
{
    app_module a = base(), b = other();
    const app_module *list[] = {&a, &b};
    b.migrations_from = 850;
    b.migrations_to = 950;
    ck_assert_int_eq(modules_check(list, 2, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "module other: migration range 850-950 overlaps module test's 800-899"));
}
END_TEST

START_TEST(unknown_permission_is_refused)
{
    static const app_route routes[] = {{M_GET, "/v1/test", noop, "test.raed", 0}};
    app_module m = base();
    m.routes = routes;
    m.nroutes = 1;
    ck_assert_int_eq(check1(&m), -1);
    ck_assert_str_eq(err, "module test: route GET /v1/test names unknown permission 'test.raed'");
}
END_TEST

START_TEST(missing_permission_is_refused)
{
    static const app_route routes[] = {{M_GET, "/v1/test", noop, NULL, 0}};
    app_module m = base();
    m.routes = routes;
    m.nroutes = 1;
    ck_assert_int_eq(check1(&m), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown permission '(none)'"));
}
END_TEST

START_TEST(inline_route_must_be_public)
{
    static const app_route routes[] = {{M_GET, "/v1/test", noop, "test.read", ROUTE_INLINE}};
    static const app_route idem[] = {
        {M_POST, "/v1/test", noop, "public", ROUTE_PUBLIC | ROUTE_INLINE | ROUTE_IDEMPOTENT}};
    app_module m = base();
    m.routes = routes;
    m.nroutes = 1;
    ck_assert_int_eq(check1(&m), -1);
    ck_assert_str_eq(err, "module test: inline route GET /v1/test must be public and not idempotent");
    m.routes = idem;
    ck_assert_int_eq(check1(&m), -1);
}
END_TEST

START_TEST(duplicate_route_is_refused)
{
    static const app_route routes[] = {
        {M_GET, "/v1/test/{id}", noop, "test.read", 0},
        {M_POST, "/v1/test/{id}", noop, "test.read", 0}, /* another method: fine */
        {M_GET, "/v1/test/{no}", noop, "test.read", 0},
    };
    app_module m = base();
    m.routes = routes;
    m.nroutes = APP_LEN(routes);
    ck_assert_int_eq(check1(&m), -1);
    ck_assert_str_eq(err, "module test: route GET /v1/test/{no} duplicates module test's /v1/test/{id}");
}
END_TEST

START_TEST(duplicate_route_across_modules_is_refused)
{
    static const app_route routes[] = {{M_GET, "/test/ping", noop, "public", ROUTE_PUBLIC}};
    app_module a = base(), b = other();
    const app_module *list[] = {&a, &b};
    b.routes = routes;
    b.nroutes = 1;
    ck_assert_int_eq(modules_check(list, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "module other: route GET /test/ping duplicates module test's /test/ping");
}
END_TEST

Suite *modules_suite(void)
{
    Suite *s = suite_create("modules");
    check_tcase(s, "check", CHECK_TESTS(real_module_list_passes, well_formed_descriptor_passes,
                      migration_outside_range_is_refused, migrations_without_range_are_refused,
                      overlapping_ranges_are_refused, unknown_permission_is_refused,
                      missing_permission_is_refused, inline_route_must_be_public,
                      duplicate_route_is_refused, duplicate_route_across_modules_is_refused));
    return s;
}
