/* Problems (RFC 9457) and JSON input checks, without a socket. */
#include <check.h>
#include <string.h>

#include "server/http_internal.h"
#include "tests/unit/check_util.h"

static app_req *req_with_json(const char *text)
{
    app_req *r = req_new();
    snprintf(r->request_id, sizeof r->request_id, "rid-1");
    if (text)
        r->json = json_loads(text, JSON_ALLOW_NUL, NULL);
    return r;
}

static json_t *body_of(app_req *r)
{
    return json_loadb(r->resp_body, r->resp_len, 0, NULL);
}

static const app_jfield fields[] = {
    {"name", JF_STRING, true, 8},
    {"count", JF_INT, false, 0},
    {"flag", JF_BOOL, false, 0},
    {"items", JF_ARRAY, false, 0},
};

START_TEST(problem_has_rfc9457_members_and_request_id)
{
    app_req *r = req_with_json(NULL);
    json_t *b;
    app_problem(r, 409, "plate_taken", "Plate taken", "Someone was faster.", "number");
    ck_assert_int_eq(r->status, 409);
    ck_assert_str_eq(r->resp_type, "application/problem+json");
    b = body_of(r);
    ck_assert_str_eq(json_string_value(json_object_get(b, "type")), "about:blank");
    ck_assert_str_eq(json_string_value(json_object_get(b, "title")), "Plate taken");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "status")), 409);
    ck_assert_str_eq(json_string_value(json_object_get(b, "code")), "plate_taken");
    ck_assert_str_eq(json_string_value(json_object_get(b, "detail")), "Someone was faster.");
    ck_assert_str_eq(json_string_value(json_object_get(b, "field")), "number");
    ck_assert_str_eq(json_string_value(json_object_get(b, "request_id")), "rid-1");
    json_decref(b);
    req_free(r);
}
END_TEST

START_TEST(problem_extras_cannot_override_members)
{
    app_req *r = req_with_json(NULL);
    json_t *b;
    app_problem_ext(r, 409, "bad_transition", NULL, NULL, NULL,
                    json_pack("{ssss}", "state", "submitted", "code", "spoofed"));
    b = body_of(r);
    ck_assert_str_eq(json_string_value(json_object_get(b, "state")), "submitted");
    ck_assert_str_eq(json_string_value(json_object_get(b, "code")), "bad_transition");
    ck_assert_str_eq(json_string_value(json_object_get(b, "title")), "Conflict");
    json_decref(b);
    req_free(r);
}
END_TEST

static void expect_400(const char *json, const char *code, const char *field)
{
    app_req *r = req_with_json(json);
    json_t *b;
    ck_assert_int_eq(app_json_check(r, fields, 4), -1);
    ck_assert_int_eq(r->status, 400);
    b = body_of(r);
    ck_assert_str_eq(json_string_value(json_object_get(b, "code")), code);
    if (field)
        ck_assert_str_eq(json_string_value(json_object_get(b, "field")), field);
    json_decref(b);
    req_free(r);
}

START_TEST(json_check_names_the_offending_field)
{
    expect_400("{\"count\": 1}", "missing_field", "name");
    expect_400("{\"name\": \"a\", \"extra\": 1}", "unknown_field", "extra");
    expect_400("{\"name\": 5}", "wrong_type", "name");
    expect_400("{\"name\": \"a\", \"count\": \"5\"}", "wrong_type", "count");
    expect_400("{\"name\": \"a\", \"count\": 1.5}", "wrong_type", "count");
    expect_400("{\"name\": \"a\", \"flag\": 1}", "wrong_type", "flag");
    expect_400("{\"name\": \"a\", \"items\": {}}", "wrong_type", "items");
    expect_400("{\"name\": \"toolongname\"}", "too_long", "name");
    expect_400("{\"name\": \"a\\u0000b\"}", "bad_string", "name");
    expect_400("[1, 2]", "body_not_object", NULL);
}
END_TEST

START_TEST(json_check_accepts_valid_and_null_optional)
{
    app_req *r = req_with_json("{\"name\": \"ok\", \"count\": 3, \"flag\": true, \"items\": [], \"count\": 3}");
    ck_assert_int_eq(app_json_check(r, fields, 4), 0);
    ck_assert_str_eq(app_json_str(r, "name"), "ok");
    ck_assert_int_eq(app_json_int(r, "count", 0), 3);
    ck_assert(app_json_bool(r, "flag", false));
    ck_assert_int_eq(app_json_int(r, "missing", 42), 42);
    req_free(r);
    r = req_with_json("{\"name\": \"ok\", \"count\": null}");
    ck_assert_int_eq(app_json_check(r, fields, 4), 0);
    req_free(r);
}
END_TEST

START_TEST(db_problems_map_to_503_and_500)
{
    app_req *r = req_with_json(NULL);
    json_t *b;
    r->db = NULL; /* no connection: the database is unavailable */
    app_problem_db(r);
    ck_assert_int_eq(r->status, 503);
    ck_assert_str_eq(app_header(r, "x") == NULL ? "none" : "x", "none");
    b = body_of(r);
    ck_assert_str_eq(json_string_value(json_object_get(b, "code")), "db_unavailable");
    ck_assert_ptr_null(strstr(r->resp_body, "mysql"));
    json_decref(b);
    req_free(r);
}
END_TEST

START_TEST(reply_json_and_headers)
{
    app_req *r = req_with_json(NULL);
    app_reply_json(r, 201, json_pack("{si}", "id", 7));
    app_add_header(r, "Location", "/v1/x/7");
    ck_assert_int_eq(r->status, 201);
    ck_assert_str_eq(r->resp_body, "{\"id\":7}");
    ck_assert_int_eq(r->nresp_headers, 1);
    ck_assert_str_eq(r->resp_headers[0].val, "/v1/x/7");
    req_free(r);
}
END_TEST

Suite *req_suite(void)
{
    Suite *s = suite_create("req");
    check_tcase(s, "core", CHECK_TESTS(problem_has_rfc9457_members_and_request_id,
                      problem_extras_cannot_override_members,
                      json_check_names_the_offending_field,
                      json_check_accepts_valid_and_null_optional, db_problems_map_to_503_and_500,
                      reply_json_and_headers));
    return s;
}
