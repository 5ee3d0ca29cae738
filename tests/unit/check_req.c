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
    ck_assert_member(b, "type", "about:blank");
    ck_assert_member(b, "title", "Plate taken");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "status")), 409);
    ck_assert_member(b, "code", "plate_taken");
    ck_assert_member(b, "detail", "Someone was faster.");
    ck_assert_member(b, "field", "number");
    ck_assert_member(b, "request_id", "rid-1");
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
    ck_assert_member(b, "state", "submitted");
    ck_assert_member(b, "code", "bad_transition");
    ck_assert_member(b, "title", "Conflict");
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
    ck_assert_member(b, "code", code);
    if (field)
        ck_assert_member(b, "field", field);
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
    ck_assert_member(b, "code", "db_unavailable");
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

/* The problem body as jansson's object tree makes it (the former code). */
static char *problem_by_jansson(int status, const char *code, const char *title, const char *detail,
                                const char *field, const char *rid)
{
    json_t *o = json_object();
    char *out;
    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "code", json_string(code));
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    if (field)
        json_object_set_new(o, "field", json_string(field));
    if (rid)
        json_object_set_new(o, "request_id", json_string(rid));
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

/* Issue 12: problems are written without jansson's tree, byte for byte as before. */
START_TEST(problem_text_is_byte_identical_to_jansson)
{
    char ctl[40];
    const char *texts[] = {
        "plain", "", "quote \" and \\ backslash / slash", ctl, "\x7f del",
        "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x97 \xc3\xa9", /* CJK, emoji, e-acute */
        "\xef\xbf\xbf max BMP", "\xf4\x8f\xbf\xbf max",
    };
    int n = 0;
    for (int c = 1; c < 0x20; c++)
        ctl[n++] = (char)c;
    ctl[n] = '\0';
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        for (int variant = 0; variant < 3; variant++) {
            const char *detail = variant > 0 ? texts[i] : NULL;
            const char *field = variant == 2 ? texts[i] : NULL;
            const char *rid = variant == 1 ? NULL : "rid-9";
            char *fast = req_problem_json(422, "code_x", texts[i], detail, field, rid, NULL);
            char *ref = problem_by_jansson(422, "code_x", texts[i], detail, field, rid);
            ck_assert_ptr_nonnull(ref);
            ck_assert_str_eq(fast, ref);
            free(fast);
            free(ref);
        }
    }
}
END_TEST

/* Invalid UTF-8 takes jansson's path, which drops the member (as before). */
START_TEST(problem_with_invalid_utf8_drops_that_member)
{
    const char *bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8", "a\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *fast = req_problem_json(400, "bad", "Bad Request", bad[i], NULL, "rid", NULL);
        char *ref = problem_by_jansson(400, "bad", "Bad Request", bad[i], NULL, "rid");
        ck_assert_str_eq(fast, ref);
        ck_assert_ptr_null(strstr(fast, "detail"));
        free(fast);
        free(ref);
    }
}
END_TEST

/* A default title, and extras after the members (which they cannot replace). */
START_TEST(problem_json_title_default_and_extras)
{
    json_t *extra = json_pack("{sisssi}", "retry_after_s", 3, "code", "spoof", "status", 200);
    char *s = req_problem_json(503, "overloaded", NULL, NULL, NULL, "", extra);
    ck_assert_str_eq(s, "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
                        "\"code\":\"overloaded\",\"retry_after_s\":3}");
    free(s);
    json_decref(extra);
    s = req_problem_json(499, "odd", NULL, NULL, NULL, NULL, NULL);
    ck_assert_str_eq(s, "{\"type\":\"about:blank\",\"title\":\"Error\",\"status\":499,\"code\":\"odd\"}");
    free(s);
}
END_TEST

/* Issue 12: a constant reply is never copied nor freed (ASan would see a
 * free of static storage), and a later reply replaces it cleanly. */
START_TEST(static_reply_is_not_freed)
{
    static const char body[] = "{\"status\":\"ok\"}";
    app_req *r = req_new();
    req_reply_static(r, 200, "application/json", body, sizeof body - 1);
    ck_assert_ptr_eq(r->resp_body, body);
    ck_assert_int_eq((int)r->resp_len, 15);
    app_problem(r, 500, "internal", NULL, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(r->resp_body, "\"internal\""));
    req_reply_static(r, 200, "application/json", body, sizeof body - 1);
    req_free(r);
}
END_TEST

START_TEST(paths_short_and_long)
{
    char longp[600];
    app_req *r = req_new();
    ck_assert_str_eq(r->path, "");
    req_set_path(r, "/healthz");
    ck_assert_str_eq(r->path, "/healthz");
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    req_set_path(r, longp);
    ck_assert_str_eq(r->path, longp);
    req_set_path(r, "/v1/me");
    ck_assert_str_eq(r->path, "/v1/me");
    req_set_path(r, longp);
    req_free(r); /* frees the long copy: ASan checks */
}
END_TEST

Suite *req_suite(void)
{
    Suite *s = suite_create("req");
    check_tcase(s, "core", CHECK_TESTS(problem_has_rfc9457_members_and_request_id,
                      problem_extras_cannot_override_members,
                      json_check_names_the_offending_field,
                      json_check_accepts_valid_and_null_optional, db_problems_map_to_503_and_500,
                      reply_json_and_headers, problem_text_is_byte_identical_to_jansson,
                      problem_with_invalid_utf8_drops_that_member, problem_json_title_default_and_extras,
                      static_reply_is_not_freed, paths_short_and_long));
    return s;
}
