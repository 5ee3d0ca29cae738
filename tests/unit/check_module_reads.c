/* Live tests of the payments and violations modules' typed reads against
 * the real schema: every read statement runs once on empty tables (db/rows.c
 * compares each statement's result columns - number, names, order, types -
 * with the struct's column table before any row is read, so a SELECT and
 * its binding that drifted apart fail here, not in a handler), and a few
 * rows written through the modules' own statements read back into their
 * structs, NULL columns included.
 *
 * Needs ONETRIP_TEST_DB_SOCKET (a MariaDB where root connects by
 * unix_socket authentication; ops/test exports it) and fails without it.
 * The run migrates a scratch database modreads_<pid>_<random> with every
 * module's migrations, dropped by the unchecked teardown.
 */
#include <check.h>

#include "tests/unit/check_util.h"
#include "tests/unit/scratch_db.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/migrate.h"
#include "modules/payments/payments_sql.h"
#include "modules/violations/violations_sql.h"
#include "server/date.h"
#include "server/modules.h"




static void reads_setup(void)
{
    scratch_setup("modreads");
    scratch_migrate_all("module_reads");
}


/* A read must succeed; on failure the message names it and the reason. */
#define READ_OK(c, call) ck_assert_msg((call) == 0, "%s: %s", #call, db_errmsg(c))

/* ---- every read, on empty tables ------------------------------------------- */

START_TEST(payments_reads_match_their_statements)
{
    db_conn *c = scratch_conn();
    pay_payable payable;
    pay_live live;
    pay_order order;
    pay_order_item *items = NULL;
    pay_order_violation *viol = NULL;
    pay_payment payment, *payments = NULL;
    pay_receipt receipt;
    pay_refund refund;
    pay_id_row *ids = NULL;
    pay_order_ref *refs = NULL;
    pay_ledger_entry *ledger = NULL;
    pay_report report, *reports = NULL;
    pay_report_line *lines = NULL;
    pay_alert alert, *alerts = NULL;
    char name[PAY_NAME_SIZE];
    int64_t total = -1;
    bool found = true;
    int n = -1;

    READ_OK(c, pay_sql_violation_for_payer(c, 1, 1, &payable, &found));
    ck_assert(!found);
    READ_OK(c, pay_sql_live_item(c, 1, &live, &found));
    READ_OK(c, pay_sql_order_by_no(c, "P1", false, &order, &found));
    READ_OK(c, pay_sql_order_by_no(c, "P1", true, &order, &found));
    READ_OK(c, pay_sql_order_by_id(c, 1, false, &order, &found));
    READ_OK(c, pay_sql_order_by_id(c, 1, true, &order, &found));
    ck_assert(!found);
    READ_OK(c, pay_sql_order_items(c, 1, &items, &n));
    READ_OK(c, pay_sql_order_violations_lock(c, 1, &viol, &n));
    READ_OK(c, pay_sql_citizen_name(c, 1, name));
    ck_assert_str_eq(name, "");
    READ_OK(c, pay_sql_payment_by_order(c, 1, &payment, &found));
    READ_OK(c, pay_sql_payments_of_order(c, 1, &payments, &n));
    READ_OK(c, pay_sql_payment_by_trade(c, "alipay", "T", &found));
    READ_OK(c, pay_sql_receipt_by_number(c, "R1", &receipt, &found));
    READ_OK(c, pay_sql_receipt_by_order(c, 1, &receipt, &found));
    READ_OK(c, pay_sql_refund_total(c, 1, &total));
    ck_assert_int_eq(total, 0);
    READ_OK(c, pay_sql_refund_get(c, 1, false, &refund, &found));
    READ_OK(c, pay_sql_refund_get(c, 1, true, &refund, &found));
    READ_OK(c, pay_sql_refunds_to_send(c, 20, &ids, &n));
    READ_OK(c, pay_sql_orders_expired(c, &refs, &n));
    READ_OK(c, pay_sql_orders_awaiting(c, &refs, &n));
    READ_OK(c, pay_sql_ledger_payments(c, "alipay", "2025-01-01", &ledger, &n));
    READ_OK(c, pay_sql_ledger_refunds(c, "alipay", "2025-01-01", &ledger, &n));
    READ_OK(c, pay_sql_reports(c, NULL, NULL, 0, 20, &reports, &n));
    READ_OK(c, pay_sql_report_by_id(c, 1, &report, &found));
    READ_OK(c, pay_sql_report_lines(c, 1, &lines, &n));
    READ_OK(c, pay_sql_alerts(c, NULL, NULL, NULL, 0, 20, &alerts, &n));
    READ_OK(c, pay_sql_alerts(c, "2025-01-01", "alipay", "k", 5, 20, &alerts, &n));
    READ_OK(c, pay_sql_alert_by_id(c, 1, &alert, &found));
    ck_assert_int_eq(n, 0);
    ck_assert(!found);
    db_conn_free(c);
}
END_TEST

START_TEST(violations_reads_match_their_statements)
{
    db_conn *c = scratch_conn();
    violations_row row, *rows = NULL;
    violations_listed *listed = NULL;
    violations_vehicle veh;
    violations_tie tie;
    violations_licence lic;
    violations_binding b;
    violations_binding_item *items = NULL;
    char cls[8];
    bool found = true;
    int n = -1, count = -1;

    READ_OK(c, violations_sql_get(c, 1, false, &row, &found));
    READ_OK(c, violations_sql_get(c, 1, true, &row, &found));
    READ_OK(c, violations_sql_get_by_decision(c, "D1", false, &row, &found));
    READ_OK(c, violations_sql_get_by_decision(c, "D1", true, &row, &found));
    READ_OK(c, violations_sql_list_for_citizen(c, 1, 1, &listed, &n));
    READ_OK(c, violations_sql_search_plate(c, "P", &rows, &n));
    READ_OK(c, violations_sql_search_decision(c, "D1", &rows, &n));
    READ_OK(c, violations_sql_search_licence(c, 1, &rows, &n));
    READ_OK(c, violations_sql_vehicle_by_plate(c, "P", &veh, &found));
    READ_OK(c, violations_sql_vehicle_by_id(c, 1, &veh, &found));
    READ_OK(c, violations_sql_class_for_type(c, "K33", cls, &found));
    ck_assert(found); /* the migration's table of classes */
    ck_assert_str_eq(cls, "C1");
    READ_OK(c, violations_sql_tie(c, "P", 1, &tie));
    READ_OK(c, violations_sql_licence_of_citizen(c, 1, false, &lic, &found));
    READ_OK(c, violations_sql_licence_of_citizen(c, 1, true, &lic, &found));
    READ_OK(c, violations_sql_licence_by_id(c, 1, false, &lic, &found));
    READ_OK(c, violations_sql_licence_by_id(c, 1, true, &lic, &found));
    READ_OK(c, violations_sql_lock_citizen(c, 1, &found));
    READ_OK(c, violations_sql_count_active(c, 1, &count));
    ck_assert_int_eq(count, 0);
    READ_OK(c, violations_sql_binding_get(c, 1, false, &b, &found));
    READ_OK(c, violations_sql_binding_get(c, 1, true, &b, &found));
    READ_OK(c, violations_sql_bindings_held(c, 1, &items, &n));
    READ_OK(c, violations_sql_bindings_owned(c, 1, &items, &n));
    ck_assert_int_eq(n, 0);
    ck_assert(!found);
    db_conn_free(c);
}
END_TEST

/* ---- values, NULLs included ---------------------------------------------- */

static int64_t add_citizen(db_conn *c, const char *name)
{
    uint64_t id = 0;

    static const char sql[] =
        "INSERT INTO citizens (name, id_number_enc, id_number_hash, birth_date, created_at) "
        "VALUES (?, 'x', UNHEX(SHA2(?, 256)), '1990-01-01', UTC_TIMESTAMP(3))";

    ck_assert_msg(db_exec(c, sql, DBP(DB_STR(name), DB_STR(name)), NULL, &id) == 0, "citizen: %s",
                  db_errmsg(c));
    return (int64_t)id;
}

START_TEST(violation_and_order_read_back)
{
    db_conn *c = scratch_conn();
    violations_new vn = {
        .decision_no = "D-ROWS-1", .plate = "浙A12345", .vehicle_type = "K33", .place = "文一路",
        .code = "1345", .description = "speeding", .agency = "traffic", .source = "camera",
        .occurred_at = "2025-01-02 03:04:05", .served_date = "2025-01-10", .fine_fen = 20000,
        .points = 3, .recorded_by_kind = "operator", .recorded_by_id = 7,
    };
    violations_row v;
    violations_listed *listed = NULL;
    pay_payable payable;
    pay_live live;
    pay_order o;
    pay_order_item *items = NULL;
    char name[PAY_NAME_SIZE];
    int64_t cid, vid;
    uint64_t oid = 0, affected = 0;
    time_t occurred = 0;
    int32_t served = 0;
    bool found = false, done = false;
    int n = 0;

    cid = add_citizen(c, "王小明");
    ck_assert_int_eq(violations_sql_insert(c, &vn, &vid), 0);
    READ_OK(c, violations_sql_get(c, vid, false, &v, &found));
    ck_assert(found);
    ck_assert_str_eq(v.decision_no, "D-ROWS-1");
    ck_assert_str_eq(v.plate, "浙A12345");
    ck_assert_str_eq(v.place, "文一路");
    ck_assert(date_parse_datetime_utc("2025-01-02 03:04:05", &occurred) == 0);
    ck_assert(date_parse("2025-01-10", &served) == 0);
    ck_assert_int_eq(v.occurred_at, occurred);
    ck_assert_int_eq(v.served_date, served);
    ck_assert_int_eq(v.fine_fen, 20000);
    ck_assert_int_eq(v.points, 3);
    ck_assert_str_eq(v.state, "recorded");
    ck_assert(!v.has_vehicle_id && !v.has_licence_id && !v.has_citizen_id && !v.has_case_id);
    ck_assert(!v.has_handled_at && !v.has_paid_at);
    ck_assert_int_eq(v.vehicle_id + v.licence_id + v.citizen_id + v.case_id, 0);
    ck_assert_int_eq(v.handled_at + v.paid_at, 0);

    ck_assert_int_eq(violations_sql_mark_handled(c, vid, 5, cid, "app", &done), 0);
    ck_assert(done);
    READ_OK(c, violations_sql_get_by_decision(c, "D-ROWS-1", false, &v, &found));
    ck_assert(found && v.has_licence_id && v.has_citizen_id && v.has_handled_at);
    ck_assert_int_eq(v.licence_id, 5);
    ck_assert(v.handled_at > 0);

    READ_OK(c, pay_sql_violation_for_payer(c, vid, cid, &payable, &found));
    ck_assert(found);
    ck_assert_str_eq(payable.served_date, "2025-01-10");
    ck_assert_str_eq(payable.state, "handled");
    ck_assert_int_eq(payable.fine_fen, 20000);
    READ_OK(c, pay_sql_citizen_name(c, cid, name));
    ck_assert_str_eq(name, "王小明");

    ck_assert_int_eq(pay_sql_order_insert(c, "PROWS1", cid, 20000, 20000, 0, "alipay", 900, &oid), 0);
    ck_assert_int_eq(pay_sql_item_insert(c, (int64_t)oid, vid, 20000, 0), 0);
    READ_OK(c, pay_sql_order_by_no(c, "PROWS1", false, &o, &found));
    ck_assert(found);
    ck_assert_int_eq(o.id, (int64_t)oid);
    ck_assert_str_eq(o.state, "open");
    ck_assert_str_eq(o.channel, "alipay");
    ck_assert_int_eq(o.citizen_id, cid);
    ck_assert_ptr_null(o.channel_trade_no);
    ck_assert_ptr_null(o.paid_at);
    ck_assert_ptr_null(o.returned_at);
    ck_assert(!o.has_returned_age_s);
    /* The database's own text, milliseconds included (the JSON keeps them). */
    ck_assert_int_eq(strlen(o.expires_at), 23);
    pay_order_clear(&o);

    ck_assert_int_eq(pay_sql_order_returned(c, (int64_t)oid, "TROWS1", &affected), 0);
    ck_assert_int_eq(affected, 1);
    READ_OK(c, pay_sql_order_by_id(c, (int64_t)oid, false, &o, &found));
    ck_assert_str_eq(o.state, "awaiting_confirmation");
    ck_assert_str_eq(o.channel_trade_no, "TROWS1");
    ck_assert_ptr_nonnull(o.returned_at);
    ck_assert(o.has_returned_age_s && o.returned_age_s >= 0);
    pay_order_clear(&o);

    READ_OK(c, pay_sql_live_item(c, vid, &live, &found));
    ck_assert(found && !live.past_expiry);
    ck_assert_int_eq(live.order_id, (int64_t)oid);
    ck_assert_str_eq(live.state, "awaiting_confirmation");
    READ_OK(c, pay_sql_order_items(c, (int64_t)oid, &items, &n));
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(items[0].decision_no, "D-ROWS-1");
    free(items);

    /* On the citizen's list by licence, with the amount the order fixed. */
    READ_OK(c, violations_sql_list_for_citizen(c, cid, 5, &listed, &n));
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(listed[0].v.id, vid);
    ck_assert_str_eq(listed[0].relation, "licence");
    ck_assert(listed[0].has_pending_fen);
    ck_assert_int_eq(listed[0].pending_fen, 20000);
    free(listed);
    db_conn_free(c);
}
END_TEST

START_TEST(refund_report_and_alert_read_back)
{
    db_conn *c = scratch_conn();
    pay_refund f;
    pay_report rep;
    pay_report_line *lines = NULL;
    pay_line_row line = {.kind = "malformed", .reason = "bad_amount", .raw_line = "x,y", .line_no = 3,
                         .ledger_fen = -1, .statement_fen = -1};
    pay_alert *alerts = NULL;
    int64_t cid, total = 0;
    uint64_t oid = 0, pid = 0, rid = 0, repid = 0;
    bool found = false;
    int n = 0;

    cid = add_citizen(c, "李四");
    ck_assert_int_eq(pay_sql_order_insert(c, "PROWS2", cid, 500, 500, 0, "wechatpay", 900, &oid), 0);
    ck_assert_int_eq(pay_sql_payment_insert(c, (int64_t)oid, "wechatpay", "TROWS2", 500, "", "applied", &pid), 0);
    ck_assert_int_eq(pay_sql_refund_insert(c, "RFROWS1", (int64_t)oid, (int64_t)pid, "wechatpay", 200,
                                           "reason", "operator", "requested", 0, &rid),
                     0);
    READ_OK(c, pay_sql_refund_get(c, (int64_t)rid, false, &f, &found));
    ck_assert(found);
    ck_assert_str_eq(f.order_no, "PROWS2");
    ck_assert_str_eq(f.trade_no, "TROWS2");
    ck_assert_str_eq(f.state, "requested");
    ck_assert(!f.has_requested_by && !f.has_approved_by);
    ck_assert_ptr_null(f.approved_at);
    ck_assert_ptr_null(f.channel_refund_no);
    ck_assert_ptr_nonnull(f.created_at);
    ck_assert_int_eq(f.attempts, 0);
    pay_refund_clear(&f);
    READ_OK(c, pay_sql_refund_total(c, (int64_t)pid, &total));
    ck_assert_int_eq(total, 200);

    ck_assert_int_eq(pay_sql_report_insert(c, "wechatpay", "2025-01-01", &repid), 0);
    ck_assert_int_eq(pay_sql_line_insert(c, (int64_t)repid, &line), 0);
    READ_OK(c, pay_sql_report_by_id(c, (int64_t)repid, &rep, &found));
    ck_assert(found);
    ck_assert_str_eq(rep.stmt_date, "2025-01-01");
    ck_assert_str_eq(rep.channel, "wechatpay");
    pay_report_clear(&rep);
    READ_OK(c, pay_sql_report_lines(c, (int64_t)repid, &lines, &n));
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(lines[0].kind, "malformed");
    ck_assert_ptr_null(lines[0].entry_type);
    ck_assert(lines[0].has_line_no && !lines[0].has_ledger_fen && !lines[0].has_statement_fen);
    ck_assert_int_eq(lines[0].line_no, 3);
    ck_assert_str_eq(lines[0].raw_line, "x,y");
    pay_report_line_array_free(lines, n);

    ck_assert_int_eq(pay_sql_alert_insert(c, "rows_test", NULL, NULL, 0, "detail"), 0);
    READ_OK(c, pay_sql_alerts(c, NULL, NULL, "rows_test", 0, 20, &alerts, &n));
    ck_assert_int_eq(n, 1);
    ck_assert_ptr_null(alerts[0].channel);
    ck_assert_ptr_null(alerts[0].order_no);
    ck_assert(!alerts[0].has_ref_id);
    ck_assert_str_eq(alerts[0].detail, "detail");
    pay_alert_array_free(alerts, n);
    db_conn_free(c);
}
END_TEST

Suite *module_reads_suite(void)
{
    Suite *s = suite_create("module_reads");
    TCase *tc = check_tcase(s, "live", CHECK_TESTS(payments_reads_match_their_statements,
                      violations_reads_match_their_statements, violation_and_order_read_back,
                      refund_report_and_alert_read_back));

    tcase_add_unchecked_fixture(tc, reads_setup, scratch_teardown);
    tcase_set_timeout(tc, 120);
    return s;
}
