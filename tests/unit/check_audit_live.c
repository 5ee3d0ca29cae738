/* check_audit_live.c - the sharded audit trail (server/audit.c) against a
 * real MariaDB: transactions on different shards do not wait for each
 * other, and audit_verify walks every shard and detects edits, deletions,
 * moves between shards, reordering and truncation.
 *
 * The run migrates a scratch database auditlive_<pid>_<random> with every
 * module's migrations, dropped by the unchecked teardown. Tampering runs as
 * root with the append-only triggers dropped, as a DBA could. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "server/audit.h"
#include "server/config.h"
#include "server/modules.h"
#include "tests/unit/check_util.h"
#include "tests/unit/scratch_db.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

extern const app_module core_module;

static void live_setup(void)
{
    char err[512] = "";

    scratch_setup("auditlive");
    if (config_add_keys(core_module.conf, core_module.nconf) != 0 ||
        config_set("audit.chain_key", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                   "t", err, sizeof err) != 0 ||
        audit_init(err, sizeof err) != 0)
        ck_abort_msg("audit_live setup: %s", err);
    scratch_migrate_all("audit_live");
}

/* An empty trail with its seal (record 1 of shard 0's chain or later), as
 * migrate leaves it; every test starts here. */
static void fresh_trail(db_conn *c)
{
    char msg[512];
    scratch_exec(c, "DROP TRIGGER IF EXISTS audit_log_no_update");
    scratch_exec(c, "DROP TRIGGER IF EXISTS audit_log_no_delete");
    scratch_exec(c, "DELETE FROM audit_log");
    scratch_exec(c, "UPDATE audit_head SET seq = 0, records = 0, hash = REPEAT('0', 64)");
    ck_assert_msg(audit_seal(c, msg, sizeof msg) == 1, "seal: %s", msg);
}

typedef struct rec_arg {
    const char *action;
} rec_arg;

static int rec_tx(db_conn *c, void *arg)
{
    rec_arg *r = arg;
    return audit_write_sys(c, NULL, "t", "", r->action, "thing", "1", "ok", NULL);
}

/* One audited transaction on shard slot % AUDIT_SHARDS; 0 or -1. */
static int record_on(db_conn *c, int slot, const char *action, int attempts)
{
    rec_arg r = {action};
    db_conn_set_slot(c, slot);
    return db_tx(c, rec_tx, &r, attempts, NULL);
}

static int verify(db_conn *c, const audit_anchor *a, int na, char *msg, size_t cap)
{
    int64_t n = 0;
    return audit_verify(c, a, na, msg, cap, &n);
}

/* While one connection holds an open audited transaction on shard 1,
 * another commits on shard 2 without waiting; a third on shard 1 waits
 * (and, with a 2 s lock wait bound, gives up): the head lock is per shard. */
START_TEST(shards_do_not_block_each_other)
{
    db_conn *root = scratch_conn(), *a = scratch_conn(), *b = scratch_conn(), *same = scratch_conn();
    char msg[512];
    fresh_trail(root);
    db_conn_set_slot(a, 1);
    scratch_exec(a, "START TRANSACTION");
    ck_assert_int_eq(audit_write_sys(a, NULL, "held", "", "test.held", "thing", "1", "ok", NULL), 0);

    scratch_exec(b, "SET SESSION innodb_lock_wait_timeout = 2");
    ck_assert_msg(record_on(b, 2, "test.other_shard", 1) == 0, "shard 2 waited for shard 1: %s",
                  db_errmsg(b));
    scratch_exec(same, "SET SESSION innodb_lock_wait_timeout = 2");
    ck_assert_int_eq(record_on(same, 1 + AUDIT_SHARDS, "test.same_shard", 1), -1);
    ck_assert_uint_eq(db_errno(same), 1205);

    scratch_exec(a, "COMMIT");
    ck_assert_int_eq(record_on(same, 1 + AUDIT_SHARDS, "test.same_shard", 1), 0);
    ck_assert_msg(verify(root, NULL, 0, msg, sizeof msg) == 0, "%s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "4 records, all keyed; 3 of 16 shards in use"));
    db_conn_free(same);
    db_conn_free(b);
    db_conn_free(a);
    db_conn_free(root);
}
END_TEST

/* The seq of the n-th (1-based) record of shard; fails when absent. */
static long long nth(db_conn *c, int shard, int n)
{
    static const char sql[] = "SELECT seq FROM audit_log WHERE shard = ? ORDER BY seq LIMIT ?, 1";
    db_rows *r = NULL;
    long long v;
    ck_assert_int_eq(db_query(c, sql, DBP(DB_I64(shard), DB_I64(n - 1)), &r), 0);
    ck_assert_int_eq(r->nrows, 1);
    v = atoll(db_cell(r, 0, 0));
    db_rows_free(r);
    return v;
}

/* Four shards of three records each, written in turn (so their numbers
 * interleave), plus the seal in shard 0; backed up for restore(). */
static void four_shards(db_conn *c)
{
    char msg[512];
    fresh_trail(c);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(record_on(c, i % 4, "test.write", 3), 0);
    ck_assert_msg(verify(c, NULL, 0, msg, sizeof msg) == 0, "%s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "13 records, all keyed; 4 of 16 shards in use"));
    scratch_exec(c, "DROP TABLE IF EXISTS log_bk, head_bk");
    scratch_exec(c, "CREATE TABLE log_bk AS SELECT * FROM audit_log");
    scratch_exec(c, "CREATE TABLE head_bk AS SELECT * FROM audit_head");
}

static void restore(db_conn *c)
{
    char msg[512];
    scratch_exec(c, "DELETE FROM audit_log");
    scratch_exec(c, "INSERT INTO audit_log SELECT * FROM log_bk");
    scratch_exec(c, "DELETE FROM audit_head");
    scratch_exec(c, "INSERT INTO audit_head SELECT * FROM head_bk");
    ck_assert_msg(verify(c, NULL, 0, msg, sizeof msg) == 0, "restored: %s", msg);
}

/* Runs sql (printf-style, statements split by the caller), verify must
 * report broken with want in its message; then restores. */
static void attack(db_conn *c, const char *want, const audit_anchor *a, int na, const char *sql1,
                   const char *sql2, const char *sql3)
{
    char msg[512];
    scratch_exec(c, sql1);
    if (sql2)
        scratch_exec(c, sql2);
    if (sql3)
        scratch_exec(c, sql3);
    ck_assert_msg(verify(c, a, na, msg, sizeof msg) == 1, "not detected: %s -> %s", sql1, msg);
    ck_assert_msg(strstr(msg, want) != NULL, "after %s: \"%s\" lacks \"%s\"", sql1, msg, want);
    restore(c);
}

START_TEST(verify_detects_tampering_in_and_across_shards)
{
    db_conn *c = scratch_conn();
    char s1[512], s2[512], s3[512], want[160];
    long long x, y, z;
    four_shards(c);

    /* an edit in shard 2 */
    x = nth(c, 2, 2);
    snprintf(s1, sizeof s1, "UPDATE audit_log SET outcome = 'denied' WHERE seq = %lld", x);
    snprintf(want, sizeof want, "record %lld was altered", x);
    attack(c, want, NULL, 0, s1, NULL, NULL);

    /* a deletion inside shard 1: the next record names the missing one */
    x = nth(c, 1, 2);
    snprintf(s1, sizeof s1, "DELETE FROM audit_log WHERE seq = %lld", x);
    snprintf(want, sizeof want, "record %lld is missing", x);
    attack(c, want, NULL, 0, s1, NULL, NULL);

    /* a record moved from shard 1 to shard 3 */
    x = nth(c, 1, 2);
    snprintf(s1, sizeof s1, "UPDATE audit_log SET shard = 3 WHERE seq = %lld", x);
    snprintf(want, sizeof want, "record %lld", x);
    attack(c, want, NULL, 0, s1, NULL, NULL);

    /* two records of different shards swap their contents (seq kept) */
    x = nth(c, 1, 2);
    y = nth(c, 3, 2);
    snprintf(s1, sizeof s1, "CREATE TEMPORARY TABLE sw AS SELECT * FROM audit_log WHERE seq IN (%lld, %lld)", x, y);
    snprintf(s2, sizeof s2,
             "UPDATE audit_log a JOIN sw b ON b.seq = IF(a.seq = %lld, %lld, %lld) SET a.shard = b.shard, "
             "a.prev_seq = b.prev_seq, a.at = b.at, a.action = b.action, a.outcome = b.outcome, "
             "a.prev_hash = b.prev_hash, a.hash = b.hash WHERE a.seq IN (%lld, %lld)", x, y, x, x, y);
    attack(c, "record", NULL, 0, s1, s2, "DROP TEMPORARY TABLE sw");

    /* two records of different shards exchange their numbers (reordered) */
    x = nth(c, 2, 1);
    y = nth(c, 0, 3);
    snprintf(s1, sizeof s1, "UPDATE audit_log SET seq = -1 WHERE seq = %lld", x);
    snprintf(s2, sizeof s2, "UPDATE audit_log SET seq = %lld WHERE seq = %lld", x, y);
    snprintf(s3, sizeof s3, "UPDATE audit_log SET seq = %lld WHERE seq = -1", y);
    attack(c, "was altered", NULL, 0, s1, s2, s3);

    /* two records of one shard exchange their numbers */
    x = nth(c, 3, 1);
    y = nth(c, 3, 2);
    snprintf(s1, sizeof s1, "UPDATE audit_log SET seq = -1 WHERE seq = %lld", x);
    snprintf(s2, sizeof s2, "UPDATE audit_log SET seq = %lld WHERE seq = %lld", x, y);
    snprintf(s3, sizeof s3, "UPDATE audit_log SET seq = %lld WHERE seq = -1", y);
    snprintf(want, sizeof want, "record %lld does not link", x);
    attack(c, want, NULL, 0, s1, s2, s3);

    /* a record turned into a pre-shard one (prev_seq NULL) */
    x = nth(c, 2, 3);
    snprintf(s1, sizeof s1, "UPDATE audit_log SET prev_seq = NULL WHERE seq = %lld", x);
    snprintf(want, sizeof want, "record %lld has no prev_seq", x);
    attack(c, want, NULL, 0, s1, NULL, NULL);

    /* the last record of shard 2 deleted: its head says more */
    z = nth(c, 2, 3);
    snprintf(s1, sizeof s1, "DELETE FROM audit_log WHERE seq = %lld", z);
    attack(c, "the chain of shard 2 ends at record", NULL, 0, s1, NULL, NULL);

    /* ... and moved out of every shard, with its head moved back */
    y = nth(c, 2, 2);
    snprintf(s1, sizeof s1, "UPDATE audit_log SET shard = 40 WHERE seq = %lld", z);
    snprintf(s2, sizeof s2, "UPDATE audit_head h JOIN audit_log l ON l.seq = %lld SET h.seq = l.seq, "
             "h.records = 2, h.hash = l.hash WHERE h.shard = 2", y);
    snprintf(want, sizeof want, "record %lld is in shard 40, which has no chain", z);
    attack(c, want, NULL, 0, s1, s2, NULL);

    /* a head row removed */
    attack(c, "the head row of shard 5 is missing", NULL, 0, "DELETE FROM audit_head WHERE shard = 5",
           NULL, NULL);
    db_conn_free(c);
}
END_TEST

/* A shard cut short with its head moved back still verifies on its own;
 * an anchor from a checkpoint of that shard shows it. */
START_TEST(truncated_shard_detected_by_anchor)
{
    db_conn *c = scratch_conn();
    audit_head heads[AUDIT_SHARDS];
    audit_anchor an[2];
    char s1[256], s2[512], msg[512];
    long long y;
    four_shards(c);
    ck_assert_int_eq(audit_heads_read(c, heads, msg, sizeof msg), 0);
    ck_assert_int_eq(heads[3].records, 3);
    memset(an, 0, sizeof an);
    an[0].shard = 0;
    an[0].count = heads[0].records;
    snprintf(an[0].head, sizeof an[0].head, "%s", heads[0].hash);
    snprintf(an[0].what, sizeof an[0].what, "checkpoint A");
    an[1].shard = 3;
    an[1].count = heads[3].records;
    snprintf(an[1].head, sizeof an[1].head, "%s", heads[3].hash);
    snprintf(an[1].what, sizeof an[1].what, "checkpoint A");
    ck_assert_msg(verify(c, an, 2, msg, sizeof msg) == 0, "%s", msg);

    y = nth(c, 3, 2);
    snprintf(s1, sizeof s1, "DELETE FROM audit_log WHERE shard = 3 AND seq > %lld", y);
    snprintf(s2, sizeof s2, "UPDATE audit_head h JOIN audit_log l ON l.seq = %lld SET h.seq = l.seq, "
             "h.records = 2, h.hash = l.hash WHERE h.shard = 3", y);
    scratch_exec(c, s1);
    scratch_exec(c, s2);
    ck_assert_msg(verify(c, NULL, 0, msg, sizeof msg) == 0, "blind: %s", msg);
    ck_assert_int_eq(verify(c, an, 2, msg, sizeof msg), 1);
    ck_assert_msg(strstr(msg, "the chain of shard 3 ends at record") != NULL &&
                  strstr(msg, "but checkpoint A saw 3 records") != NULL, "%s", msg);
    restore(c);
    /* an anchor whose head differs: shard 3's chain was rewritten */
    an[1].head[0] = an[1].head[0] == 'a' ? 'b' : 'a';
    ck_assert_int_eq(verify(c, an, 2, msg, sizeof msg), 1);
    ck_assert_msg(strstr(msg, "differs from checkpoint A") != NULL, "%s", msg);
    db_conn_free(c);
}
END_TEST

/* New audit statements use their indexes: the shard walk and the stray
 * check read ix_audit_shard, the head lock uq_audit_head_shard. */
START_TEST(audit_statements_use_indexes)
{
    db_conn *c = scratch_conn();
    static const struct { const char *sql, *key; } q[] = {
        {"EXPLAIN SELECT seq FROM audit_log WHERE shard = 3 AND seq > 10 ORDER BY seq LIMIT 1000",
         "ix_audit_shard"},
        {"EXPLAIN SELECT seq, shard FROM audit_log WHERE shard >= 16 ORDER BY shard, seq LIMIT 1",
         "ix_audit_shard"},
        {"EXPLAIN SELECT seq, records, hash FROM audit_head WHERE shard = 3 FOR UPDATE",
         "uq_audit_head_shard"},
    };
    four_shards(c);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        db_rows *r = NULL;
        ck_assert_int_eq(db_query(c, q[i].sql, DBP0, &r), 0);
        ck_assert_int_ge(r->nrows, 1);
        /* EXPLAIN columns: id, select_type, table, type, possible_keys, key */
        ck_assert_msg(db_cell(r, 0, 5) && strcmp(db_cell(r, 0, 5), q[i].key) == 0, "%s: key %s",
                      q[i].sql, db_cell(r, 0, 5) ? db_cell(r, 0, 5) : "NULL");
        db_rows_free(r);
    }
    db_conn_free(c);
}
END_TEST

Suite *audit_live_suite(void)
{
    Suite *s = suite_create("audit_live");
    TCase *tc = check_tcase(s, "live", CHECK_TESTS(shards_do_not_block_each_other,
                      verify_detects_tampering_in_and_across_shards,
                      truncated_shard_detected_by_anchor, audit_statements_use_indexes));
    tcase_add_unchecked_fixture(tc, live_setup, scratch_teardown);
    tcase_set_timeout(tc, 120);
    return s;
}
