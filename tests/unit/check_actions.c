/* Business functions without HTTP: violations' handle/cancel and
 * registration's application lookup and step runner answer refusals (a
 * code of the module's error table, its detail, field and extra members)
 * against a migrated scratch database, and app_refusal keeps one owner of
 * its extra members.
 *
 * Needs ONETRIP_TEST_DB_SOCKET (ops/test exports it) and fails without it.
 * The refusals tested here come before any audit record is written. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/migrate.h"
#include "modules/registration/registration_internal.h"
#include "modules/violations/violations_internal.h"
#include "modules/violations/violations_sql.h"
#include "server/app.h"
#include "server/modules.h"
#include "tests/unit/check_util.h"
#include "tests/unit/scratch_db.h"

static void actions_setup(void)
{
    scratch_setup("actions");
    scratch_migrate_all("actions");
}

static int64_t add_citizen(db_conn *c, const char *name)
{
    static const char sql[] =
        "INSERT INTO citizens (name, id_number_enc, id_number_hash, birth_date, created_at) "
        "VALUES (?, 'x', UNHEX(SHA2(?, 256)), '1990-01-01', UTC_TIMESTAMP(3))";
    uint64_t id = 0;

    ck_assert_msg(db_exec(c, sql, DBP(DB_STR(name), DB_STR(name)), NULL, &id) == 0, "citizen: %s",
                  db_errmsg(c));
    return (int64_t)id;
}

static int64_t add_violation(db_conn *c, const char *decision_no)
{
    violations_new vn = {
        .decision_no = decision_no, .plate = "浙A12345", .vehicle_type = "K33", .place = "文一路",
        .code = "1345", .description = "speeding", .agency = "traffic", .source = "camera",
        .occurred_at = "2025-01-02 03:04:05", .served_date = "2025-01-10", .fine_fen = 20000,
        .points = 3, .recorded_by_kind = "operator", .recorded_by_id = 7,
    };
    int64_t id = 0;

    ck_assert_msg(violations_sql_insert(c, &vn, &id) == 0, "violation: %s", db_errmsg(c));
    return id;
}

static const char *extra_str(const app_refusal *f, const char *key)
{
    return json_string_value(json_object_get(f->extra, key));
}

START_TEST(refusal_owns_its_extra_members)
{
    app_refusal f = {0};

    ck_assert_int_eq(app_refuse(&f, "a", "first", "x", json_pack("{ss}", "k", "v")), -1);
    /* a second refusal replaces the first (and frees its members) */
    ck_assert_int_eq(app_refuse(&f, "b", NULL, NULL, NULL), -1);
    ck_assert_str_eq(f.code, "b");
    ck_assert_str_eq(f.detail, "");
    ck_assert_ptr_null(f.field);
    ck_assert_ptr_null(f.extra);
    app_refuse(&f, "c", "detail", "y", json_object());
    app_refusal_clear(&f);
    ck_assert_ptr_null(f.code);
    ck_assert_ptr_null(f.extra);
}
END_TEST

START_TEST(violations_cancel_refusals)
{
    db_conn *c = scratch_conn();
    app_principal who = {.kind = CALLER_OPERATOR, .id = 1, .name = "op:1"};
    app_actor a = {&who, "test", "local"};
    app_refusal f = {0};
    violations_row v;
    int64_t id;

    /* unknown violation: 404 not_found with the module's detail */
    ck_assert_int_eq(violations_cancel(c, &a, 999999, "typo", &v, &f), -1);
    ck_assert_str_eq(f.code, "not_found");
    ck_assert_str_eq(f.detail, "No such violation.");
    ck_assert(!f.recorded);
    app_refusal_clear(&f);

    /* cancelled already: not_cancellable naming the state, with reason */
    id = add_violation(c, "D-ACT-CANCEL");
    scratch_exec(c, "UPDATE violations SET state = 'cancelled' WHERE decision_no = 'D-ACT-CANCEL'");
    ck_assert_int_eq(violations_cancel(c, &a, id, "typo", &v, &f), -1);
    ck_assert_str_eq(f.code, "not_cancellable");
    ck_assert_str_eq(extra_str(&f, "state"), "cancelled");
    ck_assert_str_eq(extra_str(&f, "reason"), "not_cancellable");
    app_refusal_clear(&f);
    db_conn_free(c);
}
END_TEST

START_TEST(violations_handle_refusals)
{
    db_conn *c = scratch_conn();
    app_principal op = {.kind = CALLER_OPERATOR, .id = 1, .outlet_id = 1, .name = "op:1"};
    app_principal cit = {.kind = CALLER_CITIZEN, .name = "cit"};
    app_actor a = {&op, "test", "local"};
    violations_handle_in in = {.violation_id = 999999, .licence_id = 424242, .window = true};
    violations_handled h;
    app_refusal f = {0};

    /* at a window: the licence named must exist (field licence_id) */
    ck_assert_int_eq(violations_handle(c, &a, &in, &h, &f), -1);
    ck_assert_str_eq(f.code, "licence_not_found");
    ck_assert_str_eq(f.field, "licence_id");
    app_refusal_clear(&f);

    /* online: an unknown violation is not found */
    cit.id = add_citizen(c, "李四");
    a.who = &cit;
    in = (violations_handle_in){.violation_id = 999999};
    ck_assert_int_eq(violations_handle(c, &a, &in, &h, &f), -1);
    ck_assert_str_eq(f.code, "not_found");
    app_refusal_clear(&f);
    db_conn_free(c);
}
END_TEST

START_TEST(registration_find_and_step_refusals)
{
    db_conn *c = scratch_conn();
    app_principal owner = {.kind = CALLER_CITIZEN, .name = "cit"};
    app_principal other = {.kind = CALLER_CITIZEN, .name = "cit"};
    app_actor a = {&owner, "test", "local"};
    reg_fields fields = {0};
    app_refusal f = {0};
    reg_app app;
    int64_t id = 0;

    owner.id = add_citizen(c, "张三");
    other.id = add_citizen(c, "赵六");
    ck_assert_msg(reg_sql_app_insert(c, owner.id, "app", 0, 0, "浙A", &fields, &id) == 0, "%s",
                  db_errmsg(c));

    /* the owner finds it; anybody else's view is the one of no application */
    ck_assert_int_eq(reg_app_find(c, &owner, id, 0, &app, &f), 0);
    ck_assert_str_eq(app.state, "draft");
    reg_app_clear(&app);
    ck_assert_int_eq(reg_app_find(c, &other, id, 0, &app, &f), -1);
    ck_assert_str_eq(f.code, "not_found");
    ck_assert_str_eq(f.detail, "No such registration application.");
    app_refusal_clear(&f);

    /* a step the state does not allow: invalid_state naming the state */
    ck_assert_int_eq(reg_step_apply(c, &a, &reg_step_release, id, NULL, &f), -1);
    ck_assert_str_eq(f.code, "invalid_state");
    ck_assert_str_eq(f.detail, "Not allowed while the application is draft.");
    ck_assert_str_eq(extra_str(&f, "state"), "draft");
    app_refusal_clear(&f);

    /* the step runner finds as the caller: a stranger's id is not found */
    a.who = &other;
    ck_assert_int_eq(reg_step_apply(c, &a, &reg_step_cancel, id, NULL, &f), -1);
    ck_assert_str_eq(f.code, "not_found");
    app_refusal_clear(&f);
    db_conn_free(c);
}
END_TEST

Suite *actions_suite(void)
{
    Suite *s = suite_create("actions");
    TCase *tc;

    check_tcase(s, "refusal", CHECK_TESTS(refusal_owns_its_extra_members));
    tc = check_tcase(s, "live", CHECK_TESTS(violations_cancel_refusals, violations_handle_refusals,
                                            registration_find_and_step_refusals));
    tcase_add_unchecked_fixture(tc, actions_setup, scratch_teardown);
    tcase_set_timeout(tc, 120);
    return s;
}
