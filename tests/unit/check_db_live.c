/* Live tests of the database layer (db/db.c, db/migrate.c) against a real
 * MariaDB: parameter and result round trips, the statement cache, db_tx's
 * retry / rollback / unknown-outcome rules under real deadlocks and killed
 * connections, reconnection, migrations and the durability check.
 *
 * Needs ONETRIP_TEST_DB_SOCKET: the Unix socket of a MariaDB where root
 * connects by unix_socket authentication (ops/test exports it). Without it
 * the suite FAILS: a database test that silently passes proves nothing.
 *
 * The whole run works in a scratch database dblive_<pid>_<random>, created
 * and dropped by an unchecked fixture. Unchecked fixtures run once, in the
 * runner's own process, so with CK_FORK=yes every forked test inherits the
 * name; tests create their own tables (or recreate t_tx), so they stay
 * independent of each other and of their order.
 *
 * Assertions are made only in the test's main thread: in CK_FORK=no mode a
 * failed ck_assert longjmps, which must not happen on a helper thread or
 * inside db_tx's callback. Threads and callbacks record, the test checks.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/migrate.h"
#include "tests/unit/check_util.h"
#include "tests/unit/scratch_db.h"

#define BIG_TEXT_LEN (200u * 1024u)  /* well past the 64 KiB of TEXT/BLOB */


/* ---- connections and small query helpers ------------------------------- */




static db_rows *query_ok(db_conn *c, const char *sql, const db_val *params, int n)
{
    db_rows *r = NULL;

    ck_assert_msg(db_query(c, sql, params, n, &r) == 0, "%s: %u %s", sql, db_errno(c),
                  db_errmsg(c));
    ck_assert_ptr_nonnull(r);
    return r;
}

/* First cell of a one-row result, as a number. */
static int64_t query_i64(db_conn *c, const char *sql, const db_val *params, int n)
{
    db_rows *r = query_ok(c, sql, params, n);
    int64_t v = 0;

    ck_assert_msg(r->nrows == 1 && r->ncols >= 1, "%s: %d rows, %d columns", sql, r->nrows,
                  r->ncols);
    ck_assert_msg(db_cell(r, 0, 0) != NULL, "%s: NULL", sql);
    v = db_cell_i64(r, 0, 0);
    db_rows_free(r);
    return v;
}

static int64_t conn_id(db_conn *c)
{
    static const char sql[] = "SELECT CONNECTION_ID()";

    return query_i64(c, sql, DBP0);
}

/* Kills session id from root and waits (up to 10 s) until the server has
 * dropped it, so the victim's next round trip deterministically meets a dead
 * socket. No ck_assert: also called from inside db_tx callbacks. Returns 0,
 * or -1 with a reason in err. */
static int kill_conn(db_conn *root, int64_t id, char *err, size_t errlen)
{
    static const char alive[] = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?";
    char sql[64];

    snprintf(sql, sizeof sql, "KILL CONNECTION %" PRId64, id);
    if (db_exec_text(root, sql) != 0) {
        snprintf(err, errlen, "%s: %u %s", sql, db_errno(root), db_errmsg(root));
        return -1;
    }
    for (int i = 0; i < 500; i++) {
        db_rows *r = NULL;
        bool gone = false;

        if (db_query(root, alive, DBP(DB_I64(id)), &r) != 0) {
            snprintf(err, errlen, "processlist: %u %s", db_errno(root), db_errmsg(root));
            return -1;
        }
        gone = db_cell_i64(r, 0, 0) == 0;
        db_rows_free(r);
        if (gone)
            return 0;
        usleep(20 * 1000);
    }
    snprintf(err, errlen, "session %" PRId64 " still listed 10 s after KILL", id);
    return -1;
}

/* ---- suite fixture: library and scratch database ------------------------ */

static void live_setup(void)
{
    scratch_setup("dblive");
}



/* ---- session and values ------------------------------------------------ */

START_TEST(session_settings)
{
    static const char sql[] =
        "SELECT @@time_zone, @@sql_mode, @@tx_isolation, @@character_set_connection,"
        " UTC_TIMESTAMP() = NOW(), DATABASE()";
    db_conn *c = scratch_conn_in(scratch_db);
    db_rows *r = query_ok(c, sql, DBP0);

    /* Every session gets these before its first statement (conn_open). */
    ck_assert_int_eq(r->nrows, 1);
    ck_assert_str_eq(db_cell(r, 0, 0), "+00:00");
    ck_assert_ptr_nonnull(strstr(db_cell(r, 0, 1), "STRICT_ALL_TABLES"));
    ck_assert_ptr_nonnull(strstr(db_cell(r, 0, 1), "NO_ZERO_DATE"));
    ck_assert_str_eq(db_cell(r, 0, 2), "REPEATABLE-READ");
    ck_assert_str_eq(db_cell(r, 0, 3), "utf8mb4");
    ck_assert_int_eq(db_cell_i64(r, 0, 4), 1);
    ck_assert_str_eq(db_cell(r, 0, 5), scratch_db);
    db_rows_free(r);
    db_conn_free(c);
}
END_TEST

/* Fills a text of n bytes whose content varies, so a truncation or a
 * shifted copy cannot compare equal. */
static char *big_text(size_t n)
{
    char *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    for (size_t k = 0; k < n; k++)
        s[k] = (char)('a' + (k / 1000 + k) % 26);
    s[n] = '\0';
    return s;
}

START_TEST(types_round_trip)
{
    static const char ins[] =
        "INSERT INTO t_types (i, s, b, t, dt, u) VALUES (?, ?, ?, ?, ?, ?)";
    static const char sel[] =
        "SELECT id, i, s, b, t, dt, u, LENGTH(b), LENGTH(t), s IS NULL FROM t_types WHERE id = ?";
    /* Compared on the server: proves the bytes arrived intact, not merely
     * that the client hands back what it was given. */
    static const char srv_blob[] = "SELECT COUNT(*) FROM t_types WHERE b = ? AND LENGTH(b) = ?";
    static const char srv_text[] = "SELECT COUNT(*) FROM t_types WHERE t = ? AND LENGTH(t) = ?";
    static const char all[] = "SELECT id, t FROM t_types ORDER BY id";
    static const char blob[] = {'a', 0, 'b', 0, 0, (char)0xff, 'c', 0};
    db_conn *c = scratch_conn_in(scratch_db);
    char *big = big_text(BIG_TEXT_LEN);
    uint64_t aff = 0, id1 = 0, id2 = 0, id3 = 0;
    db_rows *r = NULL;

    scratch_exec(c, "CREATE TABLE t_types (id BIGINT AUTO_INCREMENT PRIMARY KEY, i BIGINT NULL,"
               " s VARCHAR(100) NULL, b BLOB NULL, t MEDIUMTEXT NULL, dt DATETIME(3) NULL,"
               " u INT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");

    /* Row 1: extremes, UTF-8, a blob with NUL bytes, explicit NULL. */
    ck_assert_msg(db_exec(c, ins,
                          DBP(DB_I64(INT64_MIN), DB_STR("h\xc3\xa9llo \xe2\x98\x83 'q'"),
                              DB_BLOB(blob, sizeof blob), DB_NULL,
                              DB_STR("2024-02-29 12:34:56.789"), DB_I64(INT32_MAX)),
                          &aff, &id1) == 0,
                  "insert 1: %s", db_errmsg(c));
    ck_assert_uint_eq(aff, 1);
    ck_assert_uint_gt(id1, 0);
    /* Row 2: DB_STR(NULL) binds NULL; >64 KiB text; empty blob stays empty. */
    ck_assert_msg(db_exec(c, ins,
                          DBP(DB_I64(INT64_MAX), DB_STR(NULL), DB_BLOB(NULL, 0), DB_STR(big),
                              DB_STR(NULL), DB_NULL),
                          &aff, &id2) == 0,
                  "insert 2: %s", db_errmsg(c));
    ck_assert_uint_eq(id2, id1 + 1);
    /* Row 3: empty string is not NULL. */
    ck_assert_msg(db_exec(c, ins, DBP(DB_I64(0), DB_STR(""), DB_NULL, DB_STR(""), DB_NULL,
                                      DB_I64(-1)), NULL, &id3) == 0,
                  "insert 3: %s", db_errmsg(c));

    r = query_ok(c, sel, DBP(DB_I64((int64_t)id1)));
    ck_assert_int_eq(r->nrows, 1);
    ck_assert_int_eq(r->ncols, 10);
    ck_assert_str_eq(db_cell(r, 0, 1), "-9223372036854775808");
    ck_assert_int_eq(db_cell_i64(r, 0, 1), INT64_MIN);
    ck_assert_str_eq(db_cell(r, 0, 2), "h\xc3\xa9llo \xe2\x98\x83 'q'");
    ck_assert_uint_eq(db_cell_len(r, 0, 3), sizeof blob);
    ck_assert_mem_eq(db_cell(r, 0, 3), blob, sizeof blob);
    ck_assert_int_eq(db_cell(r, 0, 3)[sizeof blob], '\0');  /* still NUL-terminated */
    ck_assert_ptr_null(db_cell(r, 0, 4));
    ck_assert_uint_eq(db_cell_len(r, 0, 4), 0);
    ck_assert_str_eq(db_cell(r, 0, 5), "2024-02-29 12:34:56.789");
    ck_assert_int_eq(db_cell_i64(r, 0, 6), INT32_MAX);
    ck_assert_int_eq(db_cell_i64(r, 0, 7), (int64_t)sizeof blob);
    ck_assert_ptr_null(db_cell(r, 0, 8));  /* LENGTH(NULL) */
    ck_assert_str_eq(db_cell(r, 0, 9), "0");
    db_rows_free(r);

    r = query_ok(c, sel, DBP(DB_I64((int64_t)id2)));
    ck_assert_int_eq(r->nrows, 1);
    ck_assert_str_eq(db_cell(r, 0, 1), "9223372036854775807");
    ck_assert_ptr_null(db_cell(r, 0, 2));
    ck_assert_str_eq(db_cell(r, 0, 9), "1");  /* the server saw NULL */
    ck_assert_ptr_nonnull(db_cell(r, 0, 3));
    ck_assert_uint_eq(db_cell_len(r, 0, 3), 0);
    ck_assert_uint_eq(db_cell_len(r, 0, 4), BIG_TEXT_LEN);
    ck_assert_msg(memcmp(db_cell(r, 0, 4), big, BIG_TEXT_LEN) == 0, "big text differs");
    ck_assert_int_eq(db_cell_i64(r, 0, 8), BIG_TEXT_LEN);
    ck_assert_ptr_null(db_cell(r, 0, 5));
    ck_assert_ptr_null(db_cell(r, 0, 6));
    db_rows_free(r);

    r = query_ok(c, sel, DBP(DB_I64((int64_t)id3)));
    ck_assert_ptr_nonnull(db_cell(r, 0, 2));
    ck_assert_uint_eq(db_cell_len(r, 0, 2), 0);
    ck_assert_str_eq(db_cell(r, 0, 9), "0");
    ck_assert_ptr_null(db_cell(r, 0, 3));
    ck_assert_int_eq(db_cell_i64(r, 0, 6), -1);
    db_rows_free(r);

    ck_assert_int_eq(query_i64(c, srv_blob, DBP(DB_BLOB(blob, sizeof blob), DB_I64(sizeof blob))),
                     1);
    ck_assert_int_eq(query_i64(c, srv_text, DBP(DB_STR(big), DB_I64(BIG_TEXT_LEN))), 1);

    /* Small values first, then the big one in the same column: the fetch
     * buffers must grow mid-result. */
    r = query_ok(c, all, DBP0);
    ck_assert_int_eq(r->nrows, 3);
    ck_assert_ptr_null(db_cell(r, 0, 1));
    ck_assert_uint_eq(db_cell_len(r, 1, 1), BIG_TEXT_LEN);
    ck_assert_uint_eq(db_cell_len(r, 2, 1), 0);
    db_rows_free(r);

    free(big);
    db_conn_free(c);
}
END_TEST

START_TEST(errors_classified)
{
    static const char ins[] = "INSERT INTO t_err (id, d) VALUES (?, ?)";
    static const char bad[] = "SELEC nonsense";
    static const char ok[] = "SELECT 1";
    db_conn *c = scratch_conn_in(scratch_db);

    scratch_exec(c, "CREATE TABLE t_err (id INT PRIMARY KEY, d DATE NULL) ENGINE=InnoDB");
    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(1), DB_NULL), NULL, NULL), 0);

    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(1), DB_NULL), NULL, NULL), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_DUP);
    ck_assert_uint_eq(db_errno(c), 1062);
    ck_assert(db_conn_is_up(c));

    /* Strict sql_mode refuses what lax MariaDB would store as zeros. */
    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(2), DB_STR("0000-00-00")), NULL, NULL), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_OTHER);

    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(3)), NULL, NULL), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_OTHER);
    ck_assert_ptr_nonnull(strstr(db_errmsg(c), "2 parameters, 1 given"));

    ck_assert_int_eq(db_exec(c, bad, DBP0, NULL, NULL), -1);
    ck_assert_uint_eq(db_errno(c), 1064);
    ck_assert_int_eq(db_error(c), DB_ERR_OTHER);

    /* None of these broke the session, and success clears the error. */
    ck_assert(db_conn_is_up(c));
    ck_assert_int_eq(query_i64(c, ok, DBP0), 1);
    ck_assert_int_eq(db_error(c), DB_OK);
    ck_assert_uint_eq(db_errno(c), 0);
    db_conn_free(c);
}
END_TEST

/* ---- statement cache --------------------------------------------------- */

static int64_t prepares(db_conn *c)
{
    static const char sql[] = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
                              " WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'";

    return query_i64(c, sql, DBP0);
}

START_TEST(statement_cache)
{
    static const char q[] = "SELECT ? + 1";
    static const char star[] = "SELECT * FROM t_cache";
    db_conn *c = scratch_conn_in(scratch_db);
    int64_t before = 0, after = 0;
    db_rows *r = NULL;

    before = prepares(c);  /* also prepares (and caches) prepares()'s own query */
    for (int k = 0; k < 500; k++) {
        r = query_ok(c, q, DBP(DB_I64(k)));
        ck_assert_int_eq(db_cell_i64(r, 0, 0), k + 1);
        db_rows_free(r);
    }
    after = prepares(c);
    /* 500 executions of one SQL pointer: one prepare on the server. */
    ck_assert_int_eq(after - before, 1);

    /* The table changes under a cached SELECT *: the layer re-prepares
     * instead of returning stale metadata or an error. */
    scratch_exec(c, "CREATE TABLE t_cache (a INT) ENGINE=InnoDB");
    scratch_exec(c, "INSERT INTO t_cache VALUES (1)");
    r = query_ok(c, star, DBP0);
    ck_assert_int_eq(r->ncols, 1);
    db_rows_free(r);
    scratch_exec(c, "ALTER TABLE t_cache ADD COLUMN b VARCHAR(10) DEFAULT 'bee'");
    r = query_ok(c, star, DBP0);
    ck_assert_int_eq(r->ncols, 2);
    ck_assert_str_eq(db_cell(r, 0, 1), "bee");
    db_rows_free(r);
    scratch_exec(c, "DROP TABLE t_cache");
    scratch_exec(c, "CREATE TABLE t_cache (z TEXT) ENGINE=InnoDB");
    scratch_exec(c, "INSERT INTO t_cache VALUES ('zz')");
    r = query_ok(c, star, DBP0);
    ck_assert_int_eq(r->ncols, 1);
    ck_assert_str_eq(db_cell(r, 0, 0), "zz");
    db_rows_free(r);
    db_conn_free(c);
}
END_TEST

/* A CALL returns several result sets: every one must be drained or the
 * connection is out of sync for the next command. */
START_TEST(procedure_results_drained)
{
    static const char call[] = "CALL p_two()";
    static const char five[] = "SELECT 5";
    db_conn *c = scratch_conn_in(scratch_db);
    db_rows *r = NULL;

    scratch_exec(c, "CREATE PROCEDURE p_two() BEGIN SELECT 1; SELECT 2, 3; END");
    scratch_exec(c, "CALL p_two()");
    ck_assert_int_eq(query_i64(c, five, DBP0), 5);
    r = query_ok(c, call, DBP0);
    ck_assert_int_eq(r->nrows, 1);
    ck_assert_str_eq(db_cell(r, 0, 0), "1");  /* the first result set */
    db_rows_free(r);
    ck_assert_int_eq(query_i64(c, five, DBP0), 5);
    ck_assert_msg(db_exec(c, call, DBP0, NULL, NULL) == 0, "%s", db_errmsg(c));
    ck_assert_int_eq(query_i64(c, five, DBP0), 5);
    db_conn_free(c);
}
END_TEST

/* ---- db_tx ------------------------------------------------------------- */

/* t_tx is shared by several tests (insert_fn, tx_rows): each one starts it
 * afresh, so no test depends on another's rows or on the order they run. */
#define T_TX_CREATE "CREATE OR REPLACE TABLE t_tx (id INT PRIMARY KEY) ENGINE=InnoDB"

typedef struct ins_arg {
    int64_t id;
    int calls;
    int ret;  /* what fn returns after a successful insert */
} ins_arg;

static int insert_fn(db_conn *c, void *p)
{
    static const char ins[] = "INSERT INTO t_tx (id) VALUES (?)";
    ins_arg *a = p;

    a->calls++;
    if (db_exec(c, ins, DBP(DB_I64(a->id)), NULL, NULL) != 0)
        return -1;
    return a->ret;
}

static int64_t tx_rows(db_conn *c, int64_t id)
{
    static const char sql[] = "SELECT COUNT(*) FROM t_tx WHERE id = ?";

    return query_i64(c, sql, DBP(DB_I64(id)));
}

START_TEST(tx_fn_rollback)
{
    db_conn *c = scratch_conn_in(scratch_db);
    ins_arg a = {.id = 100, .ret = -1};
    int att = 0;

    scratch_exec(c, T_TX_CREATE);
    ck_assert_int_eq(db_tx(c, insert_fn, &a, 3, &att), -1);
    /* fn's own decision: no database error, not retried, rolled back. */
    ck_assert_int_eq(db_error(c), DB_OK);
    ck_assert_int_eq(att, 1);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(tx_rows(c, 100), 0);

    a = (ins_arg){.id = 101, .ret = 0};
    ck_assert_msg(db_tx(c, insert_fn, &a, 3, &att) == 0, "%s", db_errmsg(c));
    ck_assert_int_eq(tx_rows(c, 101), 1);
    db_conn_free(c);
}
END_TEST

/* Hits a duplicate, handles it, inserts something else: commits. */
static int handled_dup_fn(db_conn *c, void *p)
{
    static const char ins[] = "INSERT INTO t_tx (id) VALUES (?)";

    if (db_exec(c, ins, DBP(DB_I64(1)), NULL, NULL) != 0 && db_error(c) != DB_ERR_DUP)
        return -1;
    if (db_exec(c, ins, DBP(DB_I64(2)), NULL, NULL) != 0)
        return -1;
    return 0;
}

START_TEST(tx_dup_not_retried)
{
    db_conn *c = scratch_conn_in(scratch_db);
    ins_arg a = {.id = 1, .ret = 0};
    int att = 0;

    scratch_exec(c, T_TX_CREATE);
    scratch_exec(c, "INSERT INTO t_tx VALUES (1)");
    ck_assert_int_eq(db_tx(c, insert_fn, &a, 5, &att), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_DUP);
    ck_assert_uint_eq(db_errno(c), 1062);
    ck_assert_int_eq(att, 1);
    ck_assert_int_eq(a.calls, 1);
    ck_assert(db_conn_is_up(c));

    /* A duplicate that fn handled does not void the transaction. */
    ck_assert_msg(db_tx(c, handled_dup_fn, NULL, 5, &att) == 0, "%s", db_errmsg(c));
    ck_assert_int_eq(db_error(c), DB_OK);
    ck_assert_int_eq(tx_rows(c, 2), 1);
    db_conn_free(c);
}
END_TEST

/* Two threads meeting once, with a time limit so that a thread that failed
 * early cannot hang the other one. */
typedef struct rendezvous {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
} rendezvous;

static bool rendezvous_wait(rendezvous *rv, int parties, int timeout_ms)
{
    struct timespec until;
    bool ok = false;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&rv->mu);
    rv->arrived++;
    pthread_cond_broadcast(&rv->cv);
    while (rv->arrived < parties) {
        if (pthread_cond_timedwait(&rv->cv, &rv->mu, &until) == ETIMEDOUT)
            break;
    }
    ok = rv->arrived >= parties;
    pthread_mutex_unlock(&rv->mu);
    return ok;
}

typedef struct dl_arg {
    int64_t first, second;  /* rows, locked in this order */
    int64_t add;            /* this thread's increment, distinct per thread */
    rendezvous *rv;
    int calls;
    bool rv_timeout;
    int rc, attempts;
    db_err_kind kind;
    char msg[300];
} dl_arg;

static int deadlock_fn(db_conn *c, void *p)
{
    static const char upd[] = "UPDATE t_dl SET n = n + ? WHERE id = ?";
    dl_arg *a = p;

    a->calls++;
    if (db_exec(c, upd, DBP(DB_I64(a->add), DB_I64(a->first)), NULL, NULL) != 0)
        return -1;
    /* First attempt only: wait until both threads hold their first row, so
     * the second UPDATEs form a lock cycle. A retry must not wait. */
    if (a->calls == 1 && !rendezvous_wait(a->rv, 2, 5000)) {
        a->rv_timeout = true;
        return -1;
    }
    if (db_exec(c, upd, DBP(DB_I64(a->add), DB_I64(a->second)), NULL, NULL) != 0)
        return -1;
    return 0;
}

static void *deadlock_thread(void *p)
{
    dl_arg *a = p;
    db_conn *c = NULL;

    db_thread_init();
    c = scratch_conn_make(scratch_db);
    a->rc = -1;
    if (db_conn_ensure(c) != 0 ||
        /* Should deadlock detection be off, a lock wait (also retried)
         * still ends the cycle quickly. */
        db_exec_text(c, "SET SESSION innodb_lock_wait_timeout = 5") != 0) {
        snprintf(a->msg, sizeof a->msg, "connect: %u %s", db_errno(c), db_errmsg(c));
        /* Release the partner rather than let it wait for the timeout. */
        rendezvous_wait(a->rv, 2, 0);
    } else {
        a->rc = db_tx(c, deadlock_fn, a, 5, &a->attempts);
        a->kind = db_error(c);
        snprintf(a->msg, sizeof a->msg, "%u %s", db_errno(c), db_errmsg(c));
    }
    db_conn_free(c);
    db_thread_end();
    return NULL;
}

START_TEST(tx_real_deadlock_retried)
{
    static const char sel[] = "SELECT id, n FROM t_dl ORDER BY id";
    db_conn *c = scratch_conn_in(scratch_db);
    rendezvous rv = {.arrived = 0};
    dl_arg a = {.first = 1, .second = 2, .add = 1, .rv = &rv};
    dl_arg b = {.first = 2, .second = 1, .add = 10, .rv = &rv};
    pthread_t ta, tb;
    db_rows *r = NULL;

    scratch_exec(c, "CREATE TABLE t_dl (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB");
    scratch_exec(c, "INSERT INTO t_dl VALUES (1, 0), (2, 0)");
    pthread_mutex_init(&rv.mu, NULL);
    pthread_cond_init(&rv.cv, NULL);
    ck_assert_int_eq(pthread_create(&ta, NULL, deadlock_thread, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, deadlock_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_cond_destroy(&rv.cv);
    pthread_mutex_destroy(&rv.mu);

    ck_assert_msg(!a.rv_timeout && !b.rv_timeout, "threads never met: A %s / B %s", a.msg, b.msg);
    ck_assert_msg(a.rc == 0 && b.rc == 0, "not both committed: A rc=%d kind=%d %s / B rc=%d kind=%d %s",
                  a.rc, a.kind, a.msg, b.rc, b.kind, b.msg);
    /* One was the deadlock victim and re-ran; the winner ran once. */
    ck_assert_msg((a.attempts > 1) != (b.attempts > 1),
                  "expected exactly one retry: A attempts=%d, B attempts=%d", a.attempts,
                  b.attempts);
    ck_assert_int_eq(a.calls, a.attempts);
    ck_assert_int_eq(b.calls, b.attempts);
    /* 1 + 10 on each row: every committed transaction applied exactly once,
     * the victim's rolled-back attempt not at all. */
    r = query_ok(c, sel, DBP0);
    ck_assert_int_eq(r->nrows, 2);
    ck_assert_int_eq(db_cell_i64(r, 0, 1), 11);
    ck_assert_int_eq(db_cell_i64(r, 1, 1), 11);
    db_rows_free(r);
    db_conn_free(c);
}
END_TEST

typedef struct swallow_arg {
    int calls;
    unsigned seen_errno;
} swallow_arg;

/* Meets a lock conflict, ignores it and carries on: the attempt is void
 * (InnoDB may already have rolled the transaction back), so db_tx must not
 * commit what follows. */
static int swallow_fn(db_conn *c, void *p)
{
    static const char lock[] = "SELECT n FROM t_sw WHERE id = 1 FOR UPDATE NOWAIT";
    static const char upd[] = "UPDATE t_sw SET n = n + 1 WHERE id = 2";
    swallow_arg *a = p;
    db_rows *r = NULL;

    a->calls++;
    if (db_query(c, lock, DBP0, &r) != 0)
        a->seen_errno = db_errno(c);
    db_rows_free(r);
    return db_exec(c, upd, DBP0, NULL, NULL);
}

START_TEST(tx_swallowed_retry_error)
{
    static const char n2[] = "SELECT n FROM t_sw WHERE id = 2";
    db_conn *c = scratch_conn_in(scratch_db), *holder = scratch_conn_in(scratch_db);
    swallow_arg a = {0};
    int att = 0;

    scratch_exec(c, "CREATE TABLE t_sw (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB");
    scratch_exec(c, "INSERT INTO t_sw VALUES (1, 0), (2, 0)");
    scratch_exec(holder, "START TRANSACTION");
    scratch_exec(holder, "SELECT n FROM t_sw WHERE id = 1 FOR UPDATE");

    /* NOWAIT answers 1205 at once: a real lock conflict without waiting. */
    ck_assert_int_eq(db_tx(c, swallow_fn, &a, 2, &att), -1);
    ck_assert_uint_eq(a.seen_errno, 1205);
    ck_assert_int_eq(db_error(c), DB_ERR_RETRY);
    ck_assert_uint_eq(db_errno(c), 1205);
    ck_assert_int_eq(att, 2);
    ck_assert_int_eq(a.calls, 2);
    ck_assert_int_eq(query_i64(c, n2, DBP0), 0);

    scratch_exec(holder, "ROLLBACK");
    a = (swallow_arg){0};
    ck_assert_msg(db_tx(c, swallow_fn, &a, 2, &att) == 0, "%s", db_errmsg(c));
    ck_assert_int_eq(att, 1);
    ck_assert_int_eq(query_i64(c, n2, DBP0), 1);
    db_conn_free(holder);
    db_conn_free(c);
}
END_TEST

typedef struct kill_arg {
    db_conn *killer;
    int calls;
    char err[300];
} kill_arg;

/* Does its work, then has its own session killed: the COMMIT that db_tx
 * sends next meets a dead connection. */
static int killed_fn(db_conn *c, void *p)
{
    static const char ins[] = "INSERT INTO t_tx (id) VALUES (?)";
    static const char idq[] = "SELECT CONNECTION_ID()";
    kill_arg *a = p;
    db_rows *r = NULL;
    int64_t id = 0;

    a->calls++;
    if (db_query(c, idq, DBP0, &r) != 0) {
        snprintf(a->err, sizeof a->err, "CONNECTION_ID: %s", db_errmsg(c));
        return -1;
    }
    id = db_cell_i64(r, 0, 0);
    db_rows_free(r);
    if (db_exec(c, ins, DBP(DB_I64(102)), NULL, NULL) != 0) {
        snprintf(a->err, sizeof a->err, "insert: %s", db_errmsg(c));
        return -1;
    }
    if (kill_conn(a->killer, id, a->err, sizeof a->err) != 0)
        return -1;
    return 0;
}

START_TEST(tx_killed_before_commit)
{
    db_conn *c = scratch_conn_in(scratch_db), *killer = scratch_conn_in(scratch_db);
    kill_arg a = {.killer = killer};
    int att = 0;

    scratch_exec(c, T_TX_CREATE);
    ck_assert_int_eq(db_tx(c, killed_fn, &a, 5, &att), -1);
    ck_assert_msg(a.err[0] == '\0', "%s", a.err);
    ck_assert_msg(db_error(c) == DB_ERR_UNKNOWN_OUTCOME, "kind=%d errno=%u %s", db_error(c),
                  db_errno(c), db_errmsg(c));
    /* The commit may have happened: never re-run blindly. */
    ck_assert_int_eq(att, 1);
    ck_assert_int_eq(a.calls, 1);
    ck_assert(!db_conn_is_up(c));
    /* Here it was killed before COMMIT arrived: the server rolled back. */
    ck_assert_int_eq(tx_rows(killer, 102), 0);
    ck_assert_int_eq(db_conn_ensure(c), 0);
    ck_assert_int_eq(tx_rows(c, 102), 0);
    db_conn_free(killer);
    db_conn_free(c);
}
END_TEST

START_TEST(idle_kill_recovers)
{
    static const char cnt[] = "SELECT COUNT(*) FROM t_tx";
    db_conn *c = scratch_conn_in(scratch_db), *killer = scratch_conn_in(scratch_db);
    ins_arg a = {.id = 7, .ret = 0};
    char err[300] = "";
    int64_t id = 0;
    int att = 0;
    db_rows *r = NULL;

    scratch_exec(c, T_TX_CREATE);
    ck_assert_int_eq(query_i64(c, cnt, DBP0), 0);  /* cnt is now a cached statement */

    /* Statement on a session killed while idle: DB_ERR_CONN, and no silent
     * reconnect (which could hide a lost transaction) until ensure. */
    id = conn_id(c);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(db_query(c, cnt, DBP0, &r), -1);
    ck_assert_ptr_null(r);
    ck_assert_msg(db_error(c) == DB_ERR_CONN, "kind=%d errno=%u %s", db_error(c), db_errno(c),
                  db_errmsg(c));
    ck_assert(!db_conn_is_up(c));
    ck_assert_int_eq(db_query(c, cnt, DBP0, &r), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_CONN);
    ck_assert_msg(db_conn_ensure(c) == 0, "%s", db_errmsg(c));
    ck_assert(db_conn_is_up(c));
    ck_assert_int_ne(conn_id(c), id);
    /* Same SQL pointer, re-prepared on the new session. */
    ck_assert_int_eq(query_i64(c, cnt, DBP0), 0);

    /* Through db_tx: nothing of the transaction ran on the dead session, so
     * it reconnects and runs it, in one attempt. */
    id = conn_id(c);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(db_tx(c, insert_fn, &a, 3, &att) == 0, "%u %s", db_errno(c), db_errmsg(c));
    ck_assert_int_eq(att, 1);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_ne(conn_id(c), id);
    ck_assert_int_eq(tx_rows(killer, 7), 1);
    db_conn_free(killer);
    db_conn_free(c);
}
END_TEST

/* ---- recovery after the database restarts ------------------------------- */

/* After a restart every idle session is dead. db_conn_ensure replaces one
 * whose socket the server closed before anything of the unit is sent, so the
 * unit's statements run on the new session without any error. */
START_TEST(ensure_replaces_closed_idle_session)
{
    static const char cnt[] = "SELECT COUNT(*) FROM t_idle";
    db_conn *c = scratch_conn_in(scratch_db), *killer = scratch_conn_in(scratch_db);
    char err[300] = "";
    int64_t id = 0;

    scratch_exec(c, "CREATE OR REPLACE TABLE t_idle (id INT PRIMARY KEY) ENGINE=InnoDB");
    ck_assert_int_eq(query_i64(c, cnt, DBP0), 0);
    id = conn_id(c);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert(db_conn_is_up(c));  /* not known yet: nothing was sent */
    ck_assert_msg(db_conn_ensure(c) == 0, "%u %s", db_errno(c), db_errmsg(c));
    ck_assert_int_eq(db_error(c), DB_OK);
    ck_assert_int_ne(conn_id(c), id);
    ck_assert_int_eq(query_i64(c, cnt, DBP0), 0);
    db_conn_free(killer);
    db_conn_free(c);
}
END_TEST

/* The session dies after db_conn_ensure looked at it but before the unit's
 * first command: the command never reached the server (the write fails:
 * 2006), so it is sent once on a new session - a write too, exactly once. */
START_TEST(first_command_resent_when_never_delivered)
{
    static const char ins[] = "INSERT INTO t_first (id) VALUES (?)";
    static const char cnt[] = "SELECT COUNT(*) FROM t_first";
    static const char fresh_sql[] = "SELECT COUNT(*) + 0 FROM t_first";
    db_conn *c = scratch_conn_in(scratch_db), *killer = scratch_conn_in(scratch_db);
    char err[300] = "";
    int64_t id = 0;
    db_rows *r = NULL;

    scratch_exec(c, "CREATE OR REPLACE TABLE t_first (id INT PRIMARY KEY) ENGINE=InnoDB");
    ck_assert_int_eq(query_i64(c, cnt, DBP0), 0);

    /* A cached statement (an autocommit INSERT): its execute is the first
     * command. */
    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(1)), NULL, NULL), 0);
    id = conn_id(c);
    ck_assert_int_eq(db_conn_ensure(c), 0);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(db_exec(c, ins, DBP(DB_I64(2)), NULL, NULL) == 0, "%u %s", db_errno(c),
                  db_errmsg(c));
    ck_assert_int_ne(conn_id(c), id);
    ck_assert_int_eq(query_i64(killer, cnt, DBP0), 2);

    /* A statement not prepared yet: the prepare is the first command. */
    id = conn_id(c);
    ck_assert_int_eq(db_conn_ensure(c), 0);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(db_query(c, fresh_sql, DBP0, &r) == 0, "%u %s", db_errno(c), db_errmsg(c));
    ck_assert_str_eq(db_cell(r, 0, 0), "2");
    db_rows_free(r);
    ck_assert_int_ne(conn_id(c), id);

    /* A plain text statement. */
    id = conn_id(c);
    ck_assert_int_eq(db_conn_ensure(c), 0);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(db_exec_text(c, "INSERT INTO t_first (id) VALUES (3)") == 0, "%u %s",
                  db_errno(c), db_errmsg(c));
    ck_assert_int_eq(query_i64(killer, cnt, DBP0), 3);

    /* Once one command has run, the unit is under way: a dead session is an
     * error (the existing rule; see idle_kill_recovers). */
    ck_assert_int_eq(db_conn_ensure(c), 0);
    id = conn_id(c);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(4)), NULL, NULL), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_CONN);
    ck_assert_int_eq(query_i64(killer, cnt, DBP0), 3);
    db_conn_free(killer);
    db_conn_free(c);
}
END_TEST

typedef struct midkill_arg {
    db_conn *killer;
    int64_t victim;
    char err[300];
} midkill_arg;

/* Waits until the victim's session is inside its SLEEP, then kills it. */
static void *midkill_thread(void *p)
{
    static const char running[] =
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE '%SLEEP%'";
    midkill_arg *a = p;

    db_thread_init();
    for (int i = 0; i < 1500 && a->err[0] == '\0'; i++) {
        db_rows *r = NULL;
        bool in_sleep = false;

        if (db_query(a->killer, running, DBP(DB_I64(a->victim)), &r) != 0) {
            snprintf(a->err, sizeof a->err, "processlist: %s", db_errmsg(a->killer));
            break;
        }
        in_sleep = db_cell_i64(r, 0, 0) == 1;
        db_rows_free(r);
        if (in_sleep) {
            kill_conn(a->killer, a->victim, a->err, sizeof a->err);
            db_thread_end();
            return NULL;
        }
        usleep(20 * 1000);
    }
    if (a->err[0] == '\0')
        snprintf(a->err, sizeof a->err, "the victim never reached its SLEEP");
    db_thread_end();
    return NULL;
}

/* The first command reached the server and the session died while it ran:
 * it may have executed (even committed), so it is never sent again. */
START_TEST(first_command_not_resent_once_delivered)
{
    static const char ins[] =
        "INSERT INTO t_sent (id) SELECT 1 FROM (SELECT SLEEP(?) AS s) AS w";
    static const char cnt[] = "SELECT COUNT(*) FROM t_sent";
    db_conn *c = scratch_conn_in(scratch_db), *killer = scratch_conn_in(scratch_db);
    midkill_arg a = {.killer = killer};
    pthread_t th;

    scratch_exec(c, "CREATE OR REPLACE TABLE t_sent (id INT PRIMARY KEY) ENGINE=InnoDB");
    a.victim = conn_id(c);
    ck_assert_int_eq(db_conn_ensure(c), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, midkill_thread, &a), 0);
    /* A re-sent INSERT would sleep 30 s more and then insert the row. */
    ck_assert_int_eq(db_exec(c, ins, DBP(DB_I64(30)), NULL, NULL), -1);
    pthread_join(th, NULL);
    ck_assert_msg(a.err[0] == '\0', "%s", a.err);
    ck_assert_msg(db_error(c) == DB_ERR_CONN, "kind=%d errno=%u %s", db_error(c), db_errno(c),
                  db_errmsg(c));
    ck_assert(!db_conn_is_up(c));
    ck_assert_int_eq(query_i64(killer, cnt, DBP0), 0);
    db_conn_free(killer);
    db_conn_free(c);
}
END_TEST

/* A held session (GET_LOCK, say) and a transaction in progress are state:
 * their loss is reported and never papered over with a new session. */
typedef struct selfkill_arg {
    db_conn *killer;
    int ensure_rc;
    db_err_kind kind;
    char err[300];
} selfkill_arg;

static int selfkill_fn(db_conn *c, void *p)
{
    static const char ins[] = "INSERT INTO t_tx (id) VALUES (301)";
    selfkill_arg *a = p;
    db_rows *r = NULL;
    int64_t id = 0;

    if (db_exec_text(c, ins) != 0 || db_query(c, "SELECT CONNECTION_ID()", DBP0, &r) != 0) {
        snprintf(a->err, sizeof a->err, "fn: %s", db_errmsg(c));
        db_rows_free(r);
        return -1;
    }
    id = db_cell_i64(r, 0, 0);
    db_rows_free(r);
    if (kill_conn(a->killer, id, a->err, sizeof a->err) != 0)
        return -1;
    a->ensure_rc = db_conn_ensure(c);
    a->kind = db_error(c);
    return a->ensure_rc == 0 ? 0 : -1;
}

START_TEST(held_session_never_replaced)
{
    static const char cnt[] = "SELECT COUNT(*) FROM t_tx WHERE id IN (300, 301)";
    db_conn *c = scratch_conn_in(scratch_db), *killer = scratch_conn_in(scratch_db);
    ins_arg ia = {.id = 300, .ret = 0};
    selfkill_arg sa = {.killer = killer, .ensure_rc = 99};
    char err[300] = "";
    int64_t id = 0;
    int att = 0;

    scratch_exec(c, T_TX_CREATE);
    id = conn_id(c);
    db_conn_hold_session(c);
    ck_assert_msg(kill_conn(killer, id, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(db_conn_ensure(c), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_CONN);
    ck_assert_int_eq(db_tx(c, insert_fn, &ia, 3, &att), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_CONN);
    ck_assert_int_eq(ia.calls, 0);
    db_conn_release_session(c);
    ck_assert_msg(db_conn_ensure(c) == 0, "%s", db_errmsg(c));
    ck_assert_int_ne(conn_id(c), id);

    /* Inside db_tx's fn: ensure reports the killed session; the transaction
     * fails as a connection error, is not re-run, and commits nothing. */
    ck_assert_int_eq(db_tx(c, selfkill_fn, &sa, 3, &att), -1);
    ck_assert_msg(sa.err[0] == '\0', "%s", sa.err);
    ck_assert_int_eq(sa.ensure_rc, -1);
    ck_assert_int_eq(sa.kind, DB_ERR_CONN);
    ck_assert_int_eq(db_error(c), DB_ERR_CONN);
    ck_assert_int_eq(att, 1);
    ck_assert_int_eq(query_i64(killer, cnt, DBP0), 0);
    db_conn_free(killer);
    db_conn_free(c);
}
END_TEST

/* After a failed connect, a connection holds further attempts off; but once
 * another connection of the process has connected, the database is back and
 * it connects at its next ensure, however long its hold-off. */
START_TEST(holdoff_ends_when_another_connection_connects)
{
    char dir[] = "/tmp/dblive-XXXXXX", link[64];
    db_config cfg = {.user = "root", .database = scratch_db, .connect_timeout_s = 5,
                     .rw_timeout_s = 15, .reconnect_holdoff_ms = 600000};
    db_conn *late = NULL, *other = NULL;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(link, sizeof link, "%s/s", dir);
    cfg.socket = link;  /* no socket there yet: the database is "down" */
    late = db_conn_new(&cfg);
    ck_assert_int_eq(db_conn_ensure(late), -1);
    ck_assert_int_eq(db_error(late), DB_ERR_CONN);
    ck_assert_ptr_null(strstr(db_errmsg(late), "last attempt"));
    ck_assert_int_eq(db_conn_ensure(late), -1);
    ck_assert_msg(strstr(db_errmsg(late), "last attempt") != NULL, "not held off: %s",
                  db_errmsg(late));

    /* The database "comes back"; the hold-off still stands on its own... */
    ck_assert_int_eq(symlink(scratch_sock, link), 0);
    ck_assert_int_eq(db_conn_ensure(late), -1);
    ck_assert_msg(strstr(db_errmsg(late), "last attempt") != NULL, "%s", db_errmsg(late));
    /* ...until another connection connects. */
    other = scratch_conn_in(scratch_db);
    ck_assert_msg(db_conn_ensure(late) == 0, "%u %s", db_errno(late), db_errmsg(late));
    ck_assert_int_eq(conn_id(late) != conn_id(other), 1);
    db_conn_free(other);
    db_conn_free(late);
    unlink(link);
    rmdir(dir);
}
END_TEST

/* ---- migrations and start-up checks ------------------------------------ */

static const db_migration mig1 = {
    1, "0001_base.sql",
    "-- base tables\n"
    "CREATE TABLE IF NOT EXISTS mt1 (id INT PRIMARY KEY, s VARCHAR(20)) ENGINE=InnoDB;\n"
    "INSERT INTO mt1 VALUES (1, 'a;b');\n"
    "/* seed */\n"
    "INSERT INTO mt1 VALUES (2, 'it''s');\n"};
static const db_migration mig2 = {
    2, "0002_more.sql", "CREATE TABLE IF NOT EXISTS mt2 (x INT) ENGINE=InnoDB;\n"};
/* mig2 edited after it was applied. */
static const db_migration mig2_changed = {
    2, "0002_more.sql", "CREATE TABLE IF NOT EXISTS mt2 (x INT, y INT) ENGINE=InnoDB;\n"};
static const db_migration mig3 = {
    3, "0003_next.sql", "CREATE TABLE IF NOT EXISTS mt3 (x INT) ENGINE=InnoDB;\n"};
static const db_migration mig3_bad = {
    3, "0003_bad.sql",
    "CREATE TABLE IF NOT EXISTS mt3 (x INT) ENGINE=InnoDB;\n"
    "INSERT INTO no_such_table VALUES (1);\n"};

START_TEST(migrations)
{
    static const char hist[] = "SELECT version, name, checksum FROM schema_migrations ORDER BY version";
    static const char seed[] = "SELECT s FROM mt1 ORDER BY id";
    static const char has_mt3[] = "SELECT COUNT(*) FROM information_schema.TABLES"
                                  " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mt3'";
    const db_migration *both[] = {&mig2, &mig1};  /* unsorted on purpose */
    const db_migration *changed[] = {&mig1, &mig2_changed};
    const db_migration *unknown[] = {&mig1, &mig3};
    const db_migration *failing[] = {&mig1, &mig2, &mig3_bad};
    db_conn *c = scratch_conn_in(scratch_db);
    char err[512], sum[65];
    db_rows *r = NULL;
    int n = 0;

    ck_assert_msg(db_migrate_pending(c, both, 2, err, sizeof err) == 2, "%s", err);
    n = db_migrate_apply(c, both, 2, err, sizeof err);
    ck_assert_msg(n == 2, "apply: %d %s", n, err);
    n = db_migrate_apply(c, both, 2, err, sizeof err);
    ck_assert_msg(n == 0, "re-apply: %d %s", n, err);
    ck_assert_msg(db_migrate_pending(c, both, 2, err, sizeof err) == 0, "%s", err);

    r = query_ok(c, hist, DBP0);
    ck_assert_int_eq(r->nrows, 2);
    ck_assert_str_eq(db_cell(r, 0, 1), "0001_base.sql");
    db_migration_checksum(mig1.sql, sum);
    ck_assert_str_eq(db_cell(r, 0, 2), sum);
    ck_assert_int_eq(db_cell_i64(r, 1, 0), 2);
    db_rows_free(r);
    /* The splitter kept ';' and doubled quotes inside literals. */
    r = query_ok(c, seed, DBP0);
    ck_assert_int_eq(r->nrows, 2);
    ck_assert_str_eq(db_cell(r, 0, 0), "a;b");
    ck_assert_str_eq(db_cell(r, 1, 0), "it's");
    db_rows_free(r);

    n = db_migrate_apply(c, changed, 2, err, sizeof err);
    ck_assert_int_eq(n, -1);
    ck_assert_msg(strstr(err, "0002_more.sql") != NULL && strstr(err, "changed") != NULL,
                  "error does not name the changed file: %s", err);
    ck_assert_int_eq(db_migrate_pending(c, changed, 2, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "0002_more.sql"));

    /* Version 2 is applied but unknown to this "binary": nothing is applied
     * (not even the pending 3) while the history disagrees. */
    n = db_migrate_apply(c, unknown, 2, err, sizeof err);
    ck_assert_int_eq(n, -1);
    ck_assert_msg(strstr(err, "migration 2 unknown") != NULL && strstr(err, "0002_more.sql") != NULL,
                  "unexpected error: %s", err);
    ck_assert_int_eq(query_i64(c, has_mt3, DBP0), 0);

    /* A failing statement names file and statement; the file stays pending. */
    n = db_migrate_apply(c, failing, 3, err, sizeof err);
    ck_assert_int_eq(n, -1);
    ck_assert_msg(strstr(err, "0003_bad.sql statement 2") != NULL, "unexpected error: %s", err);
    ck_assert_msg(db_migrate_pending(c, failing, 3, err, sizeof err) == 1, "%s", err);
    db_conn_free(c);
}
END_TEST

START_TEST(durability_check)
{
    static const char flush[] = "SELECT @@innodb_flush_log_at_trx_commit";
    db_conn *c = scratch_conn_in(scratch_db);
    const char *why = "unset";

    /* The test server is started with innodb_flush_log_at_trx_commit=1
     * (ops/lib/mariadb.sh). The negative case is not tested here: it needs
     * SET GLOBAL on a server that other tests share. */
    ck_assert_int_eq(query_i64(c, flush, DBP0), 1);
    ck_assert_msg(db_check_durability(c, &why) == 0, "not durable: %s", why ? why : "(null)");
    ck_assert_ptr_null(why);
    db_conn_free(c);
}
END_TEST

Suite *db_live_suite(void)
{
    Suite *s = suite_create("db_live");
    TCase *tc = check_tcase(s, "live", CHECK_TESTS(session_settings, types_round_trip,
                      errors_classified, statement_cache, procedure_results_drained,
                      tx_fn_rollback, tx_dup_not_retried, tx_real_deadlock_retried,
                      tx_swallowed_retry_error, tx_killed_before_commit, idle_kill_recovers,
                      ensure_replaces_closed_idle_session,
                      first_command_resent_when_never_delivered,
                      first_command_not_resent_once_delivered, held_session_never_replaced,
                      holdoff_ends_when_another_connection_connects, migrations, durability_check));

    /* One scratch database per run, shared by the tests (distinct tables). */
    tcase_add_unchecked_fixture(tc, live_setup, scratch_teardown);
    /* Normal tests take well under a second; the margin is for sanitizer
     * builds and a migration lock briefly held by a concurrent onetripd. */
    tcase_set_timeout(tc, 60);
    return s;
}
