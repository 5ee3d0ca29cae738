/* check_events.c - the event outbox (server/events.c) against a real
 * MariaDB: an event exists iff its transaction committed; a consumer whose
 * transaction fails keeps its cursor (its writes roll back with it) and
 * gets the same events again, once; a gap in the ids is waited for, then
 * skipped. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/migrate.h"
#include "server/audit.h"
#include "server/config.h"
#include "server/events.h"
#include "server/modules.h"
#include "tests/unit/check_util.h"
#include "tests/unit/scratch_db.h"

extern const app_module core_module;

static void live_setup(void)
{
    const db_migration **all = NULL;
    db_conn *c = NULL;
    char err[512] = "";
    int n = 0;

    scratch_setup("eventslive");
    if (config_add_keys(core_module.conf, core_module.nconf) != 0 ||
        config_set("audit.chain_key", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                   "t", err, sizeof err) != 0 ||
        audit_init(err, sizeof err) != 0)
        ck_abort_msg("events setup: %s", err);
    c = scratch_conn_make(scratch_db);
    all = modules_migrations(&n);
    if (db_conn_ensure(c) != 0 || db_migrate_apply(c, all, n, err, sizeof err) < 0) {
        if (err[0] == '\0')
            snprintf(err, sizeof err, "%u %s", db_errno(c), db_errmsg(c));
    } else {
        err[0] = '\0';
    }
    free(all);
    if (err[0] == '\0')
        scratch_exec(c, "CREATE TABLE IF NOT EXISTS t_seen (event_id BIGINT NOT NULL, consumer "
                        "VARCHAR(32) NOT NULL) ENGINE=InnoDB");
    db_conn_free(c);
    if (err[0] != '\0')
        ck_abort_msg("events setup: %s", err);
}

static const char SQL_SEEN[] = "INSERT INTO t_seen (event_id, consumer) VALUES (?, ?)";

static int fail_calls; /* how many calls of flaky_fn fail before it succeeds */
static int flaky_fn(db_conn *c, const app_event *ev)
{
    /* Writes first, then fails: the write must roll back with the cursor. */
    if (db_exec(c, SQL_SEEN, DBP(DB_I64(ev->id), DB_STR("flaky")), NULL, NULL) != 0)
        return -1;
    if (fail_calls > 0) {
        fail_calls--;
        return -1;
    }
    return 0;
}
static int gap_fn(db_conn *c, const app_event *ev)
{
    return db_exec(c, SQL_SEEN, DBP(DB_I64(ev->id), DB_STR("gap")), NULL, NULL);
}
static const app_consumer FLAKY = {"test.flaky", flaky_fn};
static const app_consumer GAP = {"test.gap", gap_fn};

typedef struct emit_arg {
    const char *type;
    int commit;
} emit_arg;
static int emit_tx(db_conn *c, void *p)
{
    const emit_arg *e = p;
    app_principal who = {.kind = CALLER_OPERATOR, .id = 7, .outlet_id = 3};
    if (app_event_emit(c, &who, e->type, "licence", 42, json_pack("{si}", "n", 1)) != 0)
        return -1;
    return e->commit ? 0 : -1;
}

static int64_t scalar(db_conn *c, const char *sql)
{
    db_rows *r = NULL;
    int64_t v;
    ck_assert_int_eq(db_query(c, sql, DBP0, &r), 0);
    ck_assert_int_eq(r->nrows, 1);
    v = db_cell_i64(r, 0, 0);
    db_rows_free(r);
    return v;
}

START_TEST(failed_consumer_transaction_loses_nothing_and_repeats_nothing)
{
    db_conn *c = scratch_conn();
    const app_consumer *ks[] = {&FLAKY};
    emit_arg e1 = {"test.one", 1}, e2 = {"test.two", 1};
    int64_t handled = -1, last;

    ck_assert_int_eq(db_tx(c, emit_tx, &e1, 1, NULL), 0);
    ck_assert_int_eq(db_tx(c, emit_tx, &e2, 1, NULL), 0);
    last = scalar(c, "SELECT MAX(id) FROM app_events");
    fail_calls = 1;
    ck_assert_int_eq(events_run_once(c, ks, 1, &handled), -1);
    ck_assert_int_eq(handled, 0);
    /* Rolled back: no write of the consumer, the cursor where it was. */
    ck_assert_int_eq(scalar(c, "SELECT COUNT(*) FROM t_seen WHERE consumer = 'flaky'"), 0);
    ck_assert_int_eq(scalar(c, "SELECT COUNT(*) FROM app_event_cursors WHERE consumer = 'test.flaky' "
                               "AND last_id > 0"), 0);
    usleep(250 * 1000); /* past the first backoff (200 ms) */
    ck_assert_int_eq(events_run_once(c, ks, 1, &handled), 0);
    ck_assert_int_eq(handled, 2);
    ck_assert_int_eq(scalar(c, "SELECT COUNT(DISTINCT event_id) FROM t_seen WHERE consumer = 'flaky'"), 2);
    ck_assert_int_eq(scalar(c, "SELECT last_id FROM app_event_cursors WHERE consumer = 'test.flaky'"), last);
    /* Nothing handled twice. */
    ck_assert_int_eq(events_run_once(c, ks, 1, &handled), 0);
    ck_assert_int_eq(handled, 0);
    ck_assert_int_eq(scalar(c, "SELECT COUNT(*) FROM t_seen WHERE consumer = 'flaky'"), 2);
    db_conn_free(c);
}
END_TEST

START_TEST(rolled_back_event_never_seen_and_its_gap_is_skipped)
{
    db_conn *c = scratch_conn();
    const app_consumer *ks[] = {&GAP};
    emit_arg rb = {"test.rolled_back", 0}, ok = {"test.after", 1};
    int64_t handled = -1, before, after;

    /* Everything so far first (ids contiguous). */
    ck_assert_int_eq(events_run_once(c, ks, 1, &handled), 0);
    before = scalar(c, "SELECT COUNT(*) FROM t_seen WHERE consumer = 'gap'");
    ck_assert_int_eq(before, handled);
    ck_assert_int_ne(db_tx(c, emit_tx, &rb, 1, NULL), 0);
    ck_assert_int_eq(db_tx(c, emit_tx, &ok, 1, NULL), 0);
    ck_assert_int_eq(scalar(c, "SELECT COUNT(*) FROM app_events WHERE type = 'test.rolled_back'"), 0);
    after = scalar(c, "SELECT MAX(id) FROM app_events");
    /* The missing id may still commit: waited for... */
    ck_assert_int_eq(events_run_once(c, ks, 1, &handled), 0);
    ck_assert_int_eq(handled, 0);
    /* ...then skipped. */
    sleep(EVENTS_GAP_WAIT_MS / 1000 + 1);
    ck_assert_int_eq(events_run_once(c, ks, 1, &handled), 0);
    ck_assert_int_eq(handled, 1);
    ck_assert_int_eq(scalar(c, "SELECT MAX(event_id) FROM t_seen WHERE consumer = 'gap'"), after);
    db_conn_free(c);
}
END_TEST

Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = check_tcase(s, "live", CHECK_TESTS(failed_consumer_transaction_loses_nothing_and_repeats_nothing,
                      rolled_back_event_never_seen_and_its_gap_is_skipped));
    tcase_add_unchecked_fixture(tc, live_setup, scratch_teardown);
    tcase_set_timeout(tc, 60);
    return s;
}
