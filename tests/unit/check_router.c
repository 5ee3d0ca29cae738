/* Router: literal and parameter segments, methods, 405 Allow, decoding. */
#include <check.h>
#include <string.h>

#include "server/router.h"
#include "tests/unit/check_util.h"

static void h(app_req *r) { (void)r; }

static const app_route r_list = {M_GET, "/v1/cases", h, "public", 0};
static const app_route r_get = {M_GET, "/v1/cases/{id}", h, "public", 0};
static const app_route r_post = {M_POST, "/v1/cases/{id}/trips", h, "public", 0};
static const app_route r_two = {M_GET, "/v1/a/{x}/b/{y}", h, "public", 0};
static const app_route r_put = {M_PUT, "/v1/cases/{id}", h, "public", 0};

static router *make(void)
{
    router *rt = router_new();
    ck_assert_int_eq(router_add(rt, &r_list), 0);
    ck_assert_int_eq(router_add(rt, &r_get), 0);
    ck_assert_int_eq(router_add(rt, &r_post), 0);
    ck_assert_int_eq(router_add(rt, &r_two), 0);
    ck_assert_int_eq(router_add(rt, &r_put), 0);
    return rt;
}

/* One lookup and what it must give: the result, and for a match the route
 * and the number of parameters. */
static const struct lookup_case {
    const char *name;
    app_method method;
    const char *path;
    router_result result;
    const app_route *route;
    int nparams;
} lookups[] = {
    {"literal route matches", M_GET, "/v1/cases", ROUTER_FOUND, &r_list, 0},
    {"HEAD is served by GET", M_HEAD, "/v1/cases/7", ROUTER_FOUND, &r_get, 1},
    {"unknown path", M_GET, "/v2/cases", ROUTER_NOT_FOUND, NULL, 0},
    {"trailing slash", M_GET, "/v1/cases/", ROUTER_NOT_FOUND, NULL, 0},
    {"a parameter never spans segments", M_GET, "/v1/cases/1/2", ROUTER_NOT_FOUND, NULL, 0},
    /* an encoded slash or NUL, or a broken escape, is not a parameter value */
    {"encoded slash", M_GET, "/v1/cases/a%2Fb", ROUTER_NOT_FOUND, NULL, 0},
    {"encoded NUL", M_GET, "/v1/cases/a%00", ROUTER_NOT_FOUND, NULL, 0},
    {"bad escape", M_GET, "/v1/cases/%zz", ROUTER_NOT_FOUND, NULL, 0},
    {"short escape", M_GET, "/v1/cases/abc%4", ROUTER_NOT_FOUND, NULL, 0},
};

START_TEST(lookup_gives_route_or_not_found)
{
    const struct lookup_case *k = &lookups[_i];
    router *rt = make();
    router_match m;
    ck_assert_msg(router_lookup(rt, k->method, k->path, &m) == k->result, "%s: result", k->name);
    if (k->route != NULL) {
        ck_assert_msg(m.route == k->route, "%s: route", k->name);
        ck_assert_msg(m.nparams == k->nparams, "%s: %d parameters", k->name, m.nparams);
    }
    router_match_clear(&m);
    router_free(rt);
}
END_TEST

START_TEST(parameters_are_extracted_and_decoded)
{
    router *rt = make();
    router_match m;
    ck_assert_int_eq(router_lookup(rt, M_GET, "/v1/a/x%20y/b/42", &m), ROUTER_FOUND);
    ck_assert_ptr_eq(m.route, &r_two);
    ck_assert_int_eq(m.nparams, 2);
    ck_assert_str_eq(m.params[0], "x y");
    ck_assert_str_eq(m.params[1], "42");
    router_match_clear(&m);
    router_free(rt);
}
END_TEST

START_TEST(wrong_method_reports_allowed_methods)
{
    router *rt = make();
    router_match m;
    char allow[64];
    ck_assert_int_eq(router_lookup(rt, M_DELETE, "/v1/cases/7", &m), ROUTER_BAD_METHOD);
    router_allow_string(m.allow, allow, sizeof allow);
    ck_assert_str_eq(allow, "GET, HEAD, PUT");
    router_match_clear(&m);
    router_free(rt);
}
END_TEST

START_TEST(bad_patterns_and_duplicates_are_refused)
{
    static const app_route bad1 = {M_GET, "v1/x", h, "public", 0};
    static const app_route bad2 = {M_GET, "/v1/{", h, "public", 0};
    static const app_route bad3 = {M_GET, "/v1/{}", h, "public", 0};
    static const app_route bad4 = {M_GET, "/v1/a{b}", h, "public", 0};
    router *rt = make();
    ck_assert_int_eq(router_add(rt, &bad1), -1);
    ck_assert_int_eq(router_add(rt, &bad2), -1);
    ck_assert_int_eq(router_add(rt, &bad3), -1);
    ck_assert_int_eq(router_add(rt, &bad4), -1);
    ck_assert_int_eq(router_add(rt, &r_get), -1);
    ck_assert_int_eq(router_count(rt), 5);
    router_free(rt);
}
END_TEST

START_TEST(method_names_round_trip)
{
    ck_assert_int_eq(router_method_parse("PATCH"), M_PATCH);
    ck_assert_str_eq(router_method_name(M_OPTIONS), "OPTIONS");
    ck_assert_int_eq(router_method_parse("BREW"), 0);
}
END_TEST

Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    check_tcase(s, "core", CHECK_TESTS(parameters_are_extracted_and_decoded,
                      wrong_method_reports_allowed_methods, bad_patterns_and_duplicates_are_refused,
                      method_names_round_trip));
    CHECK_LOOP(s, "lookups", lookup_gives_route_or_not_found, lookups);
    return s;
}
