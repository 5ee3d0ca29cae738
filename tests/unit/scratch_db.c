/* scratch_db.c - the scratch database of the live suites (scratch_db.h). */
#include "tests/unit/scratch_db.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/migrate.h"
#include "server/modules.h"

char scratch_sock[256];
char scratch_db[64];

db_conn *scratch_conn_make(const char *database)
{
    db_config cfg = {
        .socket = scratch_sock,
        .user = "root",
        .password = NULL, /* unix_socket authentication */
        .database = database,
        .connect_timeout_s = 5,
        /* Long enough for the migration lock poll (1 s waits) and DDL on a
         * loaded machine, short enough that a wedged server fails the test
         * instead of hanging. */
        .rw_timeout_s = 30,
    };

    return db_conn_new(&cfg);
}

db_conn *scratch_conn_in(const char *database)
{
    db_conn *c = scratch_conn_make(database);

    ck_assert_msg(scratch_db[0] != '\0', "no scratch database (the unchecked setup failed)");
    ck_assert_msg(db_conn_ensure(c) == 0, "connect to %s failed: %u %s", scratch_sock,
                  db_errno(c), db_errmsg(c));
    return c;
}

db_conn *scratch_conn(void)
{
    return scratch_conn_in(scratch_db);
}

void scratch_exec(db_conn *c, const char *sql)
{
    ck_assert_msg(db_exec_text(c, sql) == 0, "%s: %u %s", sql, db_errno(c), db_errmsg(c));
}

void scratch_setup(const char *prefix)
{
    const char *sock = getenv("ONETRIP_TEST_DB_SOCKET");
    unsigned rnd = 0;
    db_conn *root;
    char sql[128], msg[600];

    if (sock == NULL || sock[0] == '\0')
        ck_abort_msg("ONETRIP_TEST_DB_SOCKET is not set: the %s suite needs a MariaDB socket "
                     "where root connects without a password (ops/test exports it; by hand: "
                     "source ops/lib/common.sh ops/lib/mariadb.sh; mdb_start DIR; "
                     "export ONETRIP_TEST_DB_SOCKET=$(mdb_sock DIR))",
                     prefix);
    ck_assert_msg(strlen(sock) < sizeof scratch_sock, "ONETRIP_TEST_DB_SOCKET too long: %s", sock);
    snprintf(scratch_sock, sizeof scratch_sock, "%s", sock);
    ck_assert_msg(db_library_init() == 0, "db_library_init failed");
    db_thread_init();
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        rnd = (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec;
    }
    snprintf(scratch_db, sizeof scratch_db, "%s_%ld_%08x", prefix, (long)getpid(), rnd);
    root = scratch_conn_make("");
    snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4", scratch_db);
    if (db_conn_ensure(root) != 0 || db_exec_text(root, sql) != 0) {
        snprintf(msg, sizeof msg, "%s on %s: %u %s", sql, scratch_sock, db_errno(root),
                 db_errmsg(root));
        db_conn_free(root);
        scratch_db[0] = '\0';
        ck_abort_msg("%s", msg);
    }
    db_conn_free(root);
}

void scratch_teardown(void)
{
    if (scratch_db[0] != '\0') {
        db_conn *root = scratch_conn_make("");
        char sql[128];

        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", scratch_db);
        if (db_conn_ensure(root) != 0 || db_exec_text(root, sql) != 0)
            fprintf(stderr, "could not drop scratch database %s: %u %s\n", scratch_db,
                    db_errno(root), db_errmsg(root));
        db_conn_free(root);
        scratch_db[0] = '\0';
    }
    db_thread_end();
    db_library_end();
}

void scratch_migrate_all(const char *what)
{
    const db_migration **all = NULL;
    db_conn *c = scratch_conn_make(scratch_db);
    char err[512] = "";
    int n = 0;

    all = modules_migrations(&n);
    if (db_conn_ensure(c) != 0 || db_migrate_apply(c, all, n, err, sizeof err) < 0) {
        if (err[0] == '\0')
            snprintf(err, sizeof err, "%u %s", db_errno(c), db_errmsg(c));
    } else {
        err[0] = '\0';
    }
    free(all);
    db_conn_free(c);
    if (err[0] != '\0')
        ck_abort_msg("%s setup: %s", what, err);
}
