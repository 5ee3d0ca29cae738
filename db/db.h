/* db.h - MariaDB access for onetrip: one connection per worker thread,
 * prepared statements cached per connection, and a transaction helper that
 * retries deadlocks and lock-wait timeouts.
 *
 * Threading: a db_conn belongs to one thread at a time. Every call here
 * BLOCKS (network round trips): never call from an event-loop thread.
 *
 * Errors: functions return 0 on success and -1 on failure. The failure is
 * kept in the connection (db_error()) until the next call that clears it.
 */
#ifndef ONETRIP_DB_H
#define ONETRIP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db_conn db_conn;

typedef struct db_config {
    const char *socket;   /* Unix socket path, or NULL/"" for TCP */
    const char *host;     /* used when socket is empty */
    unsigned port;
    const char *user;
    const char *password;
    const char *database;
    int connect_timeout_s; /* connect() limit; keeps "DB down" answers fast */
    int rw_timeout_s;      /* read/write limit for one round trip */
    int reconnect_holdoff_ms; /* after a failed connect; 0 = the default (250) */
} db_config;

/* Classification of the last error, decides what callers may do next. */
typedef enum db_err_kind {
    DB_OK = 0,
    DB_ERR_RETRY,          /* 1213 deadlock, 1205 lock wait, 1020 snapshot: re-run the tx */
    DB_ERR_CONN,           /* server gone / unreachable: answer 503 */
    DB_ERR_UNKNOWN_OUTCOME,/* connection lost during COMMIT: never re-run blindly */
    DB_ERR_DUP,            /* 1062 duplicate key */
    DB_ERR_OTHER           /* anything else: a bug or a constraint; answer 500 */
} db_err_kind;

/* One bound parameter. Strings and blobs are borrowed for the call only. */
typedef enum { DBV_NULL = 0, DBV_I64, DBV_STR, DBV_BLOB } db_val_type;
typedef struct db_val {
    db_val_type t;
    int64_t i;
    const void *p;
    size_t len;
} db_val;

#define DB_NULL ((db_val){.t = DBV_NULL})
#define DB_I64(x) ((db_val){.t = DBV_I64, .i = (int64_t)(x)})
/* NULL string pointer binds SQL NULL. */
#define DB_STR(s) db_val_str(s)
#define DB_BLOB(ptr, n) ((db_val){.t = DBV_BLOB, .p = (ptr), .len = (n)})
/* DBP(a, b, c) expands to "array, count" for db_exec/db_query. */
#define DBP(...) (const db_val[]){__VA_ARGS__}, \
    (int)(sizeof((const db_val[]){__VA_ARGS__}) / sizeof(db_val))
#define DBP0 NULL, 0

db_val db_val_str(const char *s);

/* A fully fetched result: every cell as bytes (numbers in decimal text,
 * DATETIME as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC). Owned by the caller;
 * free with db_rows_free (accepts NULL). */
typedef struct db_rows {
    int nrows;
    int ncols;
    char **cells;  /* nrows*ncols, NUL-terminated copies, NULL for SQL NULL */
    size_t *lens;  /* byte lengths (blobs may contain NULs) */
} db_rows;

/* Connection lifecycle. db_conn_new does not connect; db_conn_ensure does.
 * Call db_conn_ensure before each unit of work (a request, a job run): it
 * reconnects a connection known to be broken, and replaces an idle session
 * the server has closed meanwhile (restart, KILL, wait_timeout), at most one
 * connect per call. After a failed connect it answers DB_ERR_CONN at once
 * for reconnect_holdoff_ms, unless another connection of the process has
 * connected since. The unit's first command, if it meets a session that
 * died after that check and provably had no effect, is sent once more on a
 * new session; anything that may have run is never re-sent.
 * Inside db_tx's fn and while the session is held, a lost session is an
 * error (DB_ERR_CONN) and is never replaced. */
db_conn *db_conn_new(const db_config *cfg);
void db_conn_free(db_conn *c);
int db_conn_ensure(db_conn *c);
bool db_conn_is_up(const db_conn *c);
/* A number its owner gives the connection (a worker's slot in the pool; 0
 * unless set), so that per-connection work can be spread without a shared
 * counter: e.g. the audit shard a connection writes to (server/audit.h). */
void db_conn_set_slot(db_conn *c, int slot);
int db_conn_slot(const db_conn *c);
/* For callers that keep state in the session (GET_LOCK, session variables):
 * between hold and release (nestable) the session is never replaced
 * silently; its loss fails db_conn_ensure, db_tx and statements with
 * DB_ERR_CONN. */
void db_conn_hold_session(db_conn *c);
void db_conn_release_session(db_conn *c);

/* Run one statement. sql must be a string with static storage duration: its
 * address keys the per-connection prepared-statement cache.
 * affected / insert_id may be NULL. */
int db_exec(db_conn *c, const char *sql, const db_val *params, int nparams,
            uint64_t *affected, uint64_t *insert_id);
/* Run one statement returning rows (all fetched). *out owned by caller. */
int db_query(db_conn *c, const char *sql, const db_val *params, int nparams,
             db_rows **out);
/* Plain text query without parameters, for DDL and migrations only. */
int db_exec_text(db_conn *c, const char *sql);

const char *db_cell(const db_rows *r, int row, int col); /* NULL for SQL NULL */
size_t db_cell_len(const db_rows *r, int row, int col);
int64_t db_cell_i64(const db_rows *r, int row, int col); /* 0 for NULL */
void db_rows_free(db_rows *r);

/* Last error of this connection. msg is for logs only, never for clients. */
db_err_kind db_error(const db_conn *c);
unsigned db_errno(const db_conn *c);
const char *db_errmsg(const db_conn *c);
void db_error_clear(db_conn *c);

/* Transaction helper. Runs fn inside START TRANSACTION ... COMMIT.
 * fn returns 0 to commit, -1 to roll back. If fn failed because of a
 * DB_ERR_RETRY error (or COMMIT failed with one), the whole transaction is
 * rolled back and re-run, up to max_attempts times in total, sleeping a
 * jittered backoff between attempts. A connection lost during COMMIT leaves
 * db_error() == DB_ERR_UNKNOWN_OUTCOME and is never re-run.
 * Returns 0 when committed; -1 otherwise (db_error() tells whether a
 * database error or fn's own decision caused it: DB_OK means fn chose -1).
 * *attempts_out (may be NULL) receives the number of attempts made. */
typedef int (*db_tx_fn)(db_conn *c, void *arg);
int db_tx(db_conn *c, db_tx_fn fn, void *arg, int max_attempts, int *attempts_out);

/* Pure helpers, exposed for unit tests. */
db_err_kind db_classify(unsigned mysql_errno, bool during_commit);
/* Backoff before attempt n (1-based retry count), with jitter drawn from
 * rnd in [0, 1): grows 5 ms, 10 ms, 20 ms ... capped at 200 ms. */
unsigned db_retry_delay_ms(int retry, double rnd);

/* Durability check at start-up: innodb_flush_log_at_trx_commit=1 and, when
 * log_bin is on, sync_binlog=1. Returns 0 if durable; -1 and a message in
 * why (static string) otherwise. */
int db_check_durability(db_conn *c, const char **why);

/* Library-wide init/cleanup (mysql_library_init); call once from main. */
int db_library_init(void);
void db_library_end(void);
/* Each thread that uses a db_conn calls these once. */
void db_thread_init(void);
void db_thread_end(void);

#endif
