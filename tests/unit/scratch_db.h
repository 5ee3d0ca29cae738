/* scratch_db.h - a scratch database on the test MariaDB, for the live
 * suites (db_live, db_rows, module_reads).
 *
 * Needs ONETRIP_TEST_DB_SOCKET: the Unix socket of a MariaDB where root
 * connects by unix_socket authentication (ops/test exports it). Without it
 * a live suite FAILS: a database test that silently passes proves nothing.
 *
 * scratch_setup/teardown are an unchecked fixture's halves: they run once
 * in the runner's own process, so with CK_FORK=yes every forked test
 * inherits the scratch database's name. */
#ifndef ONETRIP_SCRATCH_DB_H
#define ONETRIP_SCRATCH_DB_H

#include "db/db.h"

extern char scratch_sock[256]; /* the server's socket */
extern char scratch_db[64];    /* the scratch database; "" when setup failed */

/* Creates the scratch database <prefix>_<pid>_<random> (pid + random:
 * concurrent runs on one server never share one), or aborts the test case
 * with the reason. */
void scratch_setup(const char *prefix);
/* Drops it (a failure is only reported on stderr: unchecked teardowns run
 * outside any jump buffer) and ends the client library. */
void scratch_teardown(void);
/* A connection as root to database ("" = none), not yet connected. */
db_conn *scratch_conn_make(const char *database);
/* Connected as root to database, or the test fails. */
db_conn *scratch_conn_in(const char *database);
/* Connected to the scratch database, or the test fails. */
db_conn *scratch_conn(void);
/* Runs text SQL, or the test fails naming the statement. */
void scratch_exec(db_conn *c, const char *sql);
/* Applies every module's migrations to the scratch database, or aborts
 * with "<what> setup: <reason>". */
void scratch_migrate_all(const char *what);

#endif
