/* Declared inputs (server/input.c): typed path parameters, query keys and
 * body fields checked before a handler, error tables and app_fail, and the
 * start-up checks of declarations. Requests are routed by the real router,
 * without a socket. */
#include <check.h>

#include "tests/unit/check_util.h"
#include <string.h>

#include "server/http_internal.h"
#include "server/input.h"
#include "server/modules.h"

static void noop(app_req *r) { (void)r; }

static const char *const COLOURS[] = {"red", "green", NULL};
static const app_jfield T_Q[] = {
    {"limit", JF_INT, false, .min = 1, .max = 100, .code = "bad_limit"},
    {"day", JF_DATE, false},
    {"colour", JF_ENUM, false, .choices = COLOURS},
    {"flag", JF_BOOL, false},
    {"plate", JF_STRING, false, 8, .min_len = 2, .pattern = "^[A-Z][0-9]+$"},
    {"need", JF_STRING, false},
};
static const app_jfield T_B[] = {
    {"score", JF_INT, true, .min = 1, .max = 5, .code = "bad_score"},
    {"day", JF_DATE, false},
    {"colour", JF_ENUM, false, .choices = COLOURS},
    {"plate", JF_STRING, false, 8, .min_len = 1, .pattern = "^[A-Z][0-9]+$"},
    {"list", JF_ARRAY, false, 2, .min_len = 1},
    {"n", JF_INT, false},
};
static const app_input T_IN = {.path_code = "case_not_found", APP_IN_QUERY(T_Q), APP_IN_BODY(T_B)};
static const app_jfield REQ_Q[] = {{"need", JF_STRING, true}};
static const app_input REQ_IN = {APP_IN_QUERY(REQ_Q)};

static const app_route r_typed = {M_POST, "/v1/t/{id:int}/x", noop, "public", ROUTE_JSON, .in = &T_IN};
static const app_route r_plain = {M_GET, "/v1/p/{id:int}", noop, "public", 0};
static const app_route r_req = {M_GET, "/v1/q", noop, "public", 0, .in = &REQ_IN};

static router *rt;

static void setup(void)
{
    char err[200];
    rt = router_new();
    ck_assert_int_eq(router_add(rt, &r_typed), 0);
    ck_assert_int_eq(router_add(rt, &r_plain), 0);
    ck_assert_int_eq(router_add(rt, &r_req), 0);
    ck_assert_int_eq(input_prepare(T_Q, APP_LEN(T_Q), err, sizeof err), 0);
    ck_assert_int_eq(input_prepare(T_B, APP_LEN(T_B), err, sizeof err), 0);
}

static void teardown(void)
{
    router_free(rt);
    input_cleanup();
}

/* A routed request as http.c builds it: path, "k=v" query pairs, JSON body. */
static app_req *req(app_method m, const char *path, const char *const *query, const char *json)
{
    app_req *r = req_new();
    int nq = 0;
    r->method = m;
    r->path = app_strdup(path);
    ck_assert_int_eq(router_lookup(rt, m, path, &r->priv->match), ROUTER_FOUND);
    r->route = r->priv->match.route;
    r->nparams = r->priv->match.nparams;
    for (int i = 0; i < r->nparams; i++)
        r->params[i] = r->priv->match.params[i];
    while (query && query[nq])
        nq++;
    r->query = app_calloc((size_t)nq + 1, sizeof *r->query);
    for (int i = 0; i < nq; i++) {
        const char *eq = strchr(query[i], '=');
        r->query[i].key = app_strndup(query[i], (size_t)(eq - query[i]));
        r->query[i].val = app_strdup(eq + 1);
    }
    r->nquery = nq;
    if (json)
        r->json = json_loads(json, 0, NULL);
    return r;
}

/* input_check fails with status and code (and field, "" = none). */
static void expect(app_req *r, int status, const char *code, const char *field)
{
    json_t *b;
    ck_assert_int_eq(input_check(r), -1);
    ck_assert_int_eq(r->status, status);
    b = json_loadb(r->resp_body, r->resp_len, 0, NULL);
    ck_assert_member(b, "code", code);
    if (field && field[0])
        ck_assert_member(b, "field", field);
    else if (field)
        ck_assert_ptr_null(json_object_get(b, "field"));
    json_decref(b);
    req_free(r);
}

#define BODY "{\"score\": 3}"

START_TEST(int_path_parameter_is_parsed_once)
{
    app_req *r = req(M_POST, "/v1/t/42/x", NULL, BODY);
    ck_assert_int_eq(input_check(r), 0);
    ck_assert_int_eq(app_path_int(r, 0), 42);
    ck_assert_str_eq(app_param(r, 0), "42");
    req_free(r);
    r = req(M_POST, "/v1/t/9223372036854775807/x", NULL, BODY);
    ck_assert_int_eq(input_check(r), 0);
    ck_assert(app_path_int(r, 0) == INT64_MAX);
    req_free(r);
    /* leading zeros are digits too: one number, as app_parse_int documents */
    r = req(M_POST, "/v1/t/007/x", NULL, BODY);
    ck_assert_int_eq(input_check(r), 0);
    ck_assert_int_eq(app_path_int(r, 0), 7);
    req_free(r);
}
END_TEST

START_TEST(malformed_int_path_parameter_answers_the_routes_code)
{
    static const char *const bad[] = {"+5", "-1", "0", "00", "5a", "%205", "5%20", "1e3", "0x10",
                                      "9223372036854775808", "99999999999999999999"};
    char path[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "/v1/t/%s/x", bad[i]);
        expect(req(M_POST, path, NULL, BODY), 404, "case_not_found", "");
    }
    /* a route without a path_code answers the plain 404 */
    expect(req(M_GET, "/v1/p/-1", NULL, NULL), 404, "not_found", "");
}
END_TEST

START_TEST(empty_segment_and_bad_patterns_never_match)
{
    router_match m;
    static const app_route bad1 = {M_GET, "/v1/a/{id:float}", noop, "public", 0};
    static const app_route bad2 = {M_GET, "/v1/a/{:int}", noop, "public", 0};
    static const app_route bad3 = {M_GET, "/v1/a/{Id}", noop, "public", 0};
    char plain[64], name[16];
    bool is_int = false;

    ck_assert_int_eq(router_lookup(rt, M_POST, "/v1/t//x", &m), ROUTER_NOT_FOUND);
    router_match_clear(&m);
    ck_assert_int_eq(router_add(rt, &bad1), -1);
    ck_assert_int_eq(router_add(rt, &bad2), -1);
    ck_assert_int_eq(router_add(rt, &bad3), -1);
    router_pattern_plain("/v1/rectifications/{id:int}/answer", plain, sizeof plain);
    ck_assert_str_eq(plain, "/v1/rectifications/{id}/answer");
    ck_assert_int_eq(router_pattern_param("/v1/a/{n}/b/{id:int}", 1, name, sizeof name, &is_int), 0);
    ck_assert_str_eq(name, "id");
    ck_assert(is_int);
    ck_assert_int_eq(router_pattern_param("/v1/a/{n}", 1, name, sizeof name, &is_int), -1);
}
END_TEST

START_TEST(app_parse_int_takes_digits_only)
{
    int64_t v = -1;
    ck_assert_int_eq(app_parse_int("10", 1, 100, &v), 0);
    ck_assert_int_eq(v, 10);
    ck_assert_int_eq(app_parse_int("", 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int(NULL, 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("+5", 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("-1", -5, 100, &v), -1);
    ck_assert_int_eq(app_parse_int(" 5", 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("101", 0, 100, &v), -1);
    ck_assert_int_eq(app_parse_int("9223372036854775808", 0, INT64_MAX, &v), -1);
    ck_assert_int_eq(v, 10);
}
END_TEST

START_TEST(query_keys_are_checked_by_type)
{
    static const char *const ok[] = {"limit=100", "day=2024-02-29", "colour=green", "flag=false",
                                     "plate=A12", "unknown=whatever", NULL};
    app_req *r = req(M_POST, "/v1/t/1/x", ok, BODY);
    ck_assert_int_eq(input_check(r), 0);
    ck_assert_int_eq(app_query_int(r, "limit", 5), 100);
    ck_assert_int_eq(app_query_int(r, "absent", 5), 5);
    req_free(r);
#define Q(x) ((const char *const[]){x, NULL})
    expect(req(M_POST, "/v1/t/1/x", Q("limit=0"), BODY), 400, "bad_limit", "limit");
    expect(req(M_POST, "/v1/t/1/x", Q("limit=101"), BODY), 400, "bad_limit", "limit");
    expect(req(M_POST, "/v1/t/1/x", Q("limit=+5"), BODY), 400, "bad_limit", "limit");
    expect(req(M_POST, "/v1/t/1/x", Q("limit="), BODY), 400, "bad_limit", "limit");
    expect(req(M_POST, "/v1/t/1/x", Q("day=2023-02-29"), BODY), 400, "bad_day", "day");
    expect(req(M_POST, "/v1/t/1/x", Q("day=2023-2-01"), BODY), 400, "bad_day", "day");
    expect(req(M_POST, "/v1/t/1/x", Q("colour=blue"), BODY), 400, "bad_colour", "colour");
    expect(req(M_POST, "/v1/t/1/x", Q("flag=1"), BODY), 400, "bad_flag", "flag");
    expect(req(M_POST, "/v1/t/1/x", Q("plate=a12"), BODY), 400, "bad_plate", "plate");
    expect(req(M_POST, "/v1/t/1/x", Q("plate=A"), BODY), 400, "bad_plate", "plate");
    expect(req(M_POST, "/v1/t/1/x", Q("plate=A12345678"), BODY), 400, "bad_plate", "plate");
    expect(req(M_GET, "/v1/q", NULL, NULL), 400, "bad_need", "need");
#undef Q
}
END_TEST

/* A body of POST /v1/t/1/x that is refused with 400, its code and field. */
static const struct {
    const char *body, *code, *field;
} bad_bodies[] = {
    {"{}", "missing_field", "score"},
    {"{\"score\": \"3\"}", "wrong_type", "score"},
    {"{\"score\": 3, \"x\": 1}", "unknown_field", "x"},
    {"{\"score\": 3, \"day\": \"2026-13-01\"}", "bad_day", "day"},
    {"{\"score\": 3, \"day\": 20260101}", "wrong_type", "day"},
    {"{\"score\": 3, \"colour\": \"Red\"}", "bad_colour", "colour"},
    {"{\"score\": 3, \"plate\": \"\"}", "bad_plate", "plate"},
    {"{\"score\": 3, \"plate\": \"7B\"}", "bad_plate", "plate"},
    {"{\"score\": 3, \"plate\": \"B123456789\"}", "too_long", "plate"},
    {"{\"score\": 3, \"list\": []}", "bad_list", "list"},
    {"{\"score\": 3, \"list\": [1, 2, 3]}", "bad_list", "list"},
    {"{\"score\": 0}", "bad_score", "score"},
};

START_TEST(body_fields_are_checked_by_type_range_pattern_and_choice)
{
    app_req *r = req(M_POST, "/v1/t/1/x", NULL,
                     "{\"score\": 5, \"day\": \"2026-01-31\", \"colour\": \"red\", \"plate\": \"B7\", "
                     "\"list\": [1], \"n\": -9}");
    json_t *b;
    ck_assert_int_eq(input_check(r), 0);
    req_free(r);
    for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++)
        expect(req(M_POST, "/v1/t/1/x", NULL, bad_bodies[i].body), 400, bad_bodies[i].code,
               bad_bodies[i].field);
    /* a code of an error table brings its title */
    r = req(M_POST, "/v1/t/1/x", NULL, "{\"score\": 6}");
    ck_assert_int_eq(input_check(r), -1);
    b = json_loadb(r->resp_body, r->resp_len, 0, NULL);
    ck_assert_member(b, "title", "Score is 1 to 5");
    json_decref(b);
    req_free(r);
}
END_TEST

/* Two modules may give one code different statuses; a route answers its
 * own module's. */
START_TEST(app_fail_prefers_the_route_modules_entry)
{
    static const struct {
        const char *module;
        int status;
    } want[] = {{"registration", 422}, {"violations", 400}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const app_module *m = NULL;
        app_req *r = req_new();
        for (int k = 0; k < modules_count; k++)
            if (strcmp(modules_all[k]->name, want[i].module) == 0)
                m = modules_all[k];
        ck_assert_ptr_nonnull(m);
        r->route = &m->routes[0];
        app_fail(r, "vehicle_type_unknown", NULL, NULL);
        ck_assert_int_eq(r->status, want[i].status);
        req_free(r);
    }
}
END_TEST

START_TEST(app_fail_answers_from_the_table_and_500_for_unknown_codes)
{
    app_req *r = req_new();
    json_t *b;
    app_fail(r, "case_not_found", NULL, NULL);
    ck_assert_int_eq(r->status, 404);
    b = json_loadb(r->resp_body, r->resp_len, 0, NULL);
    ck_assert_member(b, "title", "Case not found");
    json_decref(b);
    app_fail(r, "bad_limit", NULL, "limit"); /* the table's default detail */
    b = json_loadb(r->resp_body, r->resp_len, 0, NULL);
    ck_assert_member(b, "detail", "limit is a whole number, 1..100.");
    json_decref(b);
    app_fail_ext(r, "no_such_code_anywhere", "x", NULL, json_pack("{si}", "a", 1));
    ck_assert_int_eq(r->status, 500);
    b = json_loadb(r->resp_body, r->resp_len, 0, NULL);
    ck_assert_member(b, "code", "internal");
    json_decref(b);
    req_free(r);
}
END_TEST

/* ---- start-up checks of declarations and error tables ---- */

static const app_perm perms[] = {{"public", KIND_ANON, 0, 0, "anyone"}};
static char err[512];

static int check_routes(const app_route *routes, int n, const app_error *errors, int nerrors)
{
    app_module m = {.name = "test", .routes = routes, .nroutes = n, .perms = perms,
                    .nperms = APP_LEN(perms), .errors = errors, .nerrors = nerrors};
    const app_module *list[] = {&m};
    err[0] = '\0';
    return modules_check(list, 1, err, sizeof err);
}

START_TEST(error_tables_and_declarations_are_checked_at_start_up)
{
    static const app_error ok[] = {{"thing_not_found", 404, "Thing not found", NULL},
                                   {"thing_not_found", 404, "Thing not found", "again, same"}};
    static const app_error clash[] = {{"thing_not_found", 404, "Thing not found", NULL},
                                      {"thing_not_found", 410, "Thing gone", NULL}};
    static const app_error ugly[] = {{"Thing-Missing", 404, "Thing not found", NULL}};
    static const app_jfield unknown_code[] = {{"n", JF_INT, false, .code = "nope"}};
    static const app_jfield no_choices[] = {{"c", JF_ENUM, false}};
    static const app_jfield bad_regex[] = {{"s", JF_STRING, false, .pattern = "^(unclosed$"}};
    static const app_jfield not_a_param[] = {{"other", JF_STRING, true}};
    static const app_input in1 = {APP_IN_QUERY(unknown_code)}, in2 = {APP_IN_QUERY(no_choices)},
                           in3 = {APP_IN_QUERY(bad_regex)}, in4 = {APP_IN_PATH(not_a_param)},
                           in5 = {.path_code = "nope"}, in6 = {APP_IN_BODY(no_choices)};
    const app_route good[] = {{M_GET, "/v1/x/{id:int}", noop, "public", ROUTE_PUBLIC,
                               .in = &(app_input){.path_code = "thing_not_found"}}};
    const app_route r1[] = {{M_GET, "/v1/x", noop, "public", ROUTE_PUBLIC, .in = &in1}};
    const app_route r2[] = {{M_GET, "/v1/x", noop, "public", ROUTE_PUBLIC, .in = &in2}};
    const app_route r3[] = {{M_GET, "/v1/x", noop, "public", ROUTE_PUBLIC, .in = &in3}};
    const app_route r4[] = {{M_GET, "/v1/x/{id}", noop, "public", ROUTE_PUBLIC, .in = &in4}};
    const app_route r5[] = {{M_GET, "/v1/x/{id}", noop, "public", ROUTE_PUBLIC, .in = &in5}};
    const app_route r6[] = {{M_POST, "/v1/x", noop, "public", ROUTE_PUBLIC, .in = &in6}};

    ck_assert_int_eq(check_routes(good, 1, ok, 2), 0);
    ck_assert_int_eq(check_routes(good, 1, clash, 2), -1);
    ck_assert_ptr_nonnull(strstr(err, "thing_not_found"));
    ck_assert_int_eq(check_routes(good, 1, ugly, 1), -1);
    ck_assert_int_eq(check_routes(r1, 1, ok, 1), -1);
    ck_assert_ptr_nonnull(strstr(err, "'nope'"));
    ck_assert_int_eq(check_routes(r2, 1, ok, 1), -1);
    ck_assert_ptr_nonnull(strstr(err, "no choices"));
    ck_assert_int_eq(check_routes(r3, 1, ok, 1), -1);
    ck_assert_ptr_nonnull(strstr(err, "pattern"));
    ck_assert_int_eq(check_routes(r4, 1, ok, 1), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a parameter"));
    ck_assert_int_eq(check_routes(r5, 1, ok, 1), -1);
    ck_assert_int_eq(check_routes(r6, 1, ok, 1), -1);
    ck_assert_ptr_nonnull(strstr(err, "ROUTE_JSON"));
}
END_TEST

Suite *input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *tc = check_tcase(s, "input", CHECK_TESTS(int_path_parameter_is_parsed_once,
                      malformed_int_path_parameter_answers_the_routes_code,
                      empty_segment_and_bad_patterns_never_match, app_parse_int_takes_digits_only,
                      query_keys_are_checked_by_type,
                      body_fields_are_checked_by_type_range_pattern_and_choice,
                      app_fail_answers_from_the_table_and_500_for_unknown_codes,
                      app_fail_prefers_the_route_modules_entry,
                      error_tables_and_declarations_are_checked_at_start_up));
    tcase_add_checked_fixture(tc, setup, teardown);
    return s;
}
