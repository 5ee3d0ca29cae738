/* db_internal.h - what db.c lends to the other files of db/ (rows.c).
 * Not for modules: they use db.h and rows.h.
 *
 * Same contracts as db.c's own statement calls: one thread per db_conn,
 * every call blocks, errors are recorded in the connection (db_error()). */
#ifndef ONETRIP_DB_INTERNAL_H
#define ONETRIP_DB_INTERNAL_H

#include <mysql.h>

#include "db/db.h"

/* Prepares (or takes from the connection's cache) and executes sql with its
 * parameters. Returns the executed statement, which stays the cache's: the
 * caller reads its result, then calls db_stmt_drain and
 * mysql_stmt_free_result, never mysql_stmt_close. NULL on error (recorded). */
MYSQL_STMT *db_stmt_execute(db_conn *c, const char *sql, const db_val *params, int nparams);
/* Reads and discards further result sets. 0, or -1 with the error recorded. */
int db_stmt_drain(db_conn *c, MYSQL_STMT *st);
/* Records the statement's own error (classified like every other error). */
void db_stmt_error(db_conn *c, MYSQL_STMT *st);
/* Records an error found by the caller (e.g. a result of the wrong shape).
 * msg is copied (truncated to the connection's message buffer). */
void db_set_error(db_conn *c, db_err_kind kind, const char *msg);
/* calloc/realloc that abort on out-of-memory (and never ask for 0 bytes). */
void *db_xcalloc(size_t n, size_t size);
void *db_xrealloc(void *p, size_t size);

#endif
