/* db.c - MariaDB access through mariadb-connector-c prepared statements.
 *
 * One db_conn per thread. Each connection keeps its prepared statements in a
 * small open-addressing table keyed by the ADDRESS of the caller's static SQL
 * text, so a hot statement costs one pointer hash and no re-parse. The table
 * is emptied whenever the connection is re-established: statement ids are
 * per-session on the server.
 *
 * Deliberately absent: MYSQL_OPT_RECONNECT. The connector's auto-reconnect
 * silently drops session settings (time zone, sql_mode) and any open
 * transaction, and re-runs the failed statement on a fresh session. Instead a
 * connection error marks the db_conn down and only db_conn_ensure() (which
 * callers run before a unit of work) reconnects.
 *
 * After the database restarts, every idle connection is dead without knowing
 * it. So that no request pays for that with a 503 once the database is back:
 * - db_conn_ensure() looks at an idle session's socket (poll, no round trip):
 *   a server that closed it (restart, KILL, wait_timeout) left it readable,
 *   and it is replaced before anything of the new unit is sent;
 * - if the session dies between that look and the unit's first command, the
 *   command is sent once more on a new session, but only when it provably had
 *   no effect: it never reached the server (the connector reports a failed
 *   write as 2006, a failed read as 2013), or it cannot change anything
 *   (statement prepare, START TRANSACTION). A command that may have run, in
 *   particular anything that may have committed, is never sent twice;
 * - a failed connect holds further attempts off for a hold-off (250 ms), but
 *   not once another connection of this process has connected since that
 *   attempt began (connect_gen): the database is back, no need to wait.
 */
#include "db/db.h"
#include "db/db_internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

/* A failed connect is not retried for this long (unless db_config says
 * otherwise): a down database then costs callers a fast DB_ERR_CONN instead
 * of a connect timeout per request. */
#define RECONNECT_HOLDOFF_MS 250
#define ERRMSG_LEN 512

/* Successful connects of this process so far. Every connection of a process
 * serves one database (onetripd's workers and scheduler share db.*), so one
 * counter is enough: a process that talked to two servers would only spend a
 * connect attempt where the hold-off would have saved it. */
static atomic_uint connect_gen;

typedef struct stmt_slot {
    const char *sql;   /* key: the caller's static string, by address */
    MYSQL_STMT *st;    /* NULL: known key whose statement must be prepared */
} stmt_slot;

struct db_conn {
    /* private copies of the configuration (the caller may free theirs) */
    char *socket, *host, *user, *password, *database;
    unsigned port;
    unsigned connect_timeout_s, rw_timeout_s;
    int64_t holdoff_ms;

    MYSQL *my;             /* NULL when never connected / dropped */
    bool up;               /* false after a connection error */
    int64_t fail_ms;       /* monotonic time of the last failed connect, 0 = none */
    unsigned fail_gen;     /* ... connect_gen when that attempt began */
    unsigned fail_errno;   /* ... and why it failed (for the hold-off message) */
    char fail_msg[ERRMSG_LEN];
    /* Set by db_conn_ensure on a session that sat idle: nothing of the unit
     * of work has reached the server yet, so a connection error of its first
     * command may be answered by one fresh session (see retry_first). */
    bool first_cmd;
    int held;              /* db_conn_hold_session depth: never replace the session */

    stmt_slot *slots;      /* capacity is a power of two, load <= 1/2 */
    size_t nslots, used;

    MYSQL_BIND *pbind;     /* parameter binds, reused between calls */
    unsigned long *plen;
    int pcap;

    db_err_kind kind;      /* last error */
    unsigned err_no;
    char msg[ERRMSG_LEN];

    /* A retryable error (deadlock, lock wait) seen while db_tx runs fn is
     * remembered even if fn swallows it and issues more statements: after
     * 1213 InnoDB has already rolled the transaction back, so committing
     * what follows would be wrong. db_error_clear() forgets it. */
    bool in_tx_fn;
    int slot;              /* db_conn_set_slot: the owner's number for it */
    unsigned tx_retry_errno;
    char tx_retry_msg[ERRMSG_LEN];

    unsigned rng;          /* rand_r state for backoff jitter, per connection */
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void *db_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        abort();
    return p;
}

void *db_xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (p == NULL)
        abort();
    return p;
}

static char *xstrdup_or_null(const char *s)
{
    char *d = NULL;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static const char *empty_to_null(const char *s)
{
    return (s != NULL && s[0] != '\0') ? s : NULL;
}

/* ---- errors ----------------------------------------------------------- */

db_err_kind db_classify(unsigned mysql_errno, bool during_commit)
{
    switch (mysql_errno) {
    case 0:
        return DB_OK;
    case ER_LOCK_DEADLOCK:       /* 1213; also Galera certification failure at COMMIT */
    case ER_LOCK_WAIT_TIMEOUT:   /* 1205 */
    case ER_CHECKREAD:           /* 1020: snapshot conflict (innodb_snapshot_isolation) */
        return DB_ERR_RETRY;
    case CR_SERVER_GONE_ERROR:   /* 2006 */
    case CR_SERVER_LOST:         /* 2013 */
    case ER_CONNECTION_KILLED:   /* 1927 */
        /* The COMMIT may or may not have been durably applied before the
         * connection died (or was killed while committing): re-running the
         * transaction could apply it twice. 1927 is included for that reason
         * too - a kill can land after the engine committed. */
        return during_commit ? DB_ERR_UNKNOWN_OUTCOME : DB_ERR_CONN;
    case CR_CONNECTION_ERROR:    /* 2002 */
    case CR_CONN_HOST_ERROR:     /* 2003 */
    case CR_SSL_CONNECTION_ERROR:/* 2026 */
    case CR_SERVER_LOST_EXTENDED:/* 2055: only raised while connecting */
        return DB_ERR_CONN;
    /* 4031 is deliberately NOT here: it is MySQL 8's "disconnected for
     * inactivity", but on MariaDB 10.11 it is ER_REFERENCED_TRG_DOES_NOT_EXIST,
     * a trigger DDL error. An idle-killed MariaDB session shows up as 2006/2013. */
    case ER_DUP_ENTRY:           /* 1062 */
        return DB_ERR_DUP;
    default:
        return DB_ERR_OTHER;
    }
}

static void set_err_kind(db_conn *c, db_err_kind kind, unsigned e, const char *msg)
{
    c->kind = kind;
    c->err_no = e;
    snprintf(c->msg, sizeof c->msg, "%s", msg != NULL && msg[0] ? msg : "unknown error");
    if (kind == DB_ERR_CONN || kind == DB_ERR_UNKNOWN_OUTCOME)
        c->up = false;
    if (kind == DB_ERR_RETRY && c->in_tx_fn && c->tx_retry_errno == 0) {
        c->tx_retry_errno = e;
        snprintf(c->tx_retry_msg, sizeof c->tx_retry_msg, "%s", c->msg);
    }
}

static void set_err(db_conn *c, unsigned e, const char *msg, bool during_commit)
{
    /* errno 0 with a failure return is a client-side oddity: not DB_OK. */
    db_err_kind k = e == 0 ? DB_ERR_OTHER : db_classify(e, during_commit);

    set_err_kind(c, k, e, msg);
}

/* Error of a plain connection call (mysql_real_query, mysql_stmt_init...). */
static void set_err_mysql(db_conn *c, bool during_commit)
{
    set_err(c, mysql_errno(c->my), mysql_error(c->my), during_commit);
}

/* Error of a statement call: the statement handle holds it, not MYSQL. */
static void set_err_stmt(db_conn *c, MYSQL_STMT *st)
{
    set_err(c, mysql_stmt_errno(st), mysql_stmt_error(st), false);
}

void db_error_clear(db_conn *c)
{
    if (c == NULL)
        return;
    c->kind = DB_OK;
    c->err_no = 0;
    c->msg[0] = '\0';
    c->tx_retry_errno = 0;
    c->tx_retry_msg[0] = '\0';
}

/* Clears the last error but not a pending retryable error of db_tx's fn. */
static void err_reset(db_conn *c)
{
    c->kind = DB_OK;
    c->err_no = 0;
    c->msg[0] = '\0';
}

db_err_kind db_error(const db_conn *c) { return c != NULL ? c->kind : DB_ERR_CONN; }
unsigned db_errno(const db_conn *c) { return c != NULL ? c->err_no : 0; }
const char *db_errmsg(const db_conn *c) { return c != NULL ? c->msg : "no connection"; }

/* ---- statement cache ---------------------------------------------------- */

static size_t slot_hash(const char *sql, size_t mask)
{
    uintptr_t h = (uintptr_t)sql;

    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static stmt_slot *slot_lookup(db_conn *c, const char *sql)
{
    size_t mask = c->nslots - 1;

    for (size_t i = slot_hash(sql, mask);; i = (i + 1) & mask)
        if (c->slots[i].sql == sql || c->slots[i].sql == NULL)
            return &c->slots[i];
}

static void slots_grow(db_conn *c)
{
    stmt_slot *old = c->slots;
    size_t oldn = c->nslots;

    c->nslots = oldn ? oldn * 2 : 64;
    c->slots = db_xcalloc(c->nslots, sizeof *c->slots);
    for (size_t i = 0; i < oldn; i++)
        if (old[i].sql != NULL)
            *slot_lookup(c, old[i].sql) = old[i];
    free(old);
}

/* The slot for sql, created (with no statement yet) if new. */
static stmt_slot *slot_get(db_conn *c, const char *sql)
{
    stmt_slot *s = NULL;

    if ((c->used + 1) * 2 > c->nslots)
        slots_grow(c);
    s = slot_lookup(c, sql);
    if (s->sql == NULL) {
        s->sql = sql;
        c->used++;
    }
    return s;
}

/* Closes every cached statement. Called after mysql_close(), which detached
 * them from the connection, so mysql_stmt_close() only frees memory and
 * never writes to a dead socket. */
static void slots_close_all(db_conn *c)
{
    for (size_t i = 0; i < c->nslots; i++) {
        if (c->slots[i].st != NULL)
            mysql_stmt_close(c->slots[i].st);
        c->slots[i].sql = NULL;
        c->slots[i].st = NULL;
    }
    c->used = 0;
}

/* ---- connection ---------------------------------------------------------- */

db_conn *db_conn_new(const db_config *cfg)
{
    db_conn *c = db_xcalloc(1, sizeof *c);
    struct timespec ts;

    c->socket = xstrdup_or_null(empty_to_null(cfg->socket));
    c->host = xstrdup_or_null(empty_to_null(cfg->host));
    c->user = xstrdup_or_null(cfg->user);
    c->password = xstrdup_or_null(cfg->password);
    c->database = xstrdup_or_null(empty_to_null(cfg->database));
    c->port = cfg->port;
    c->connect_timeout_s = cfg->connect_timeout_s > 0 ? (unsigned)cfg->connect_timeout_s : 0;
    c->rw_timeout_s = cfg->rw_timeout_s > 0 ? (unsigned)cfg->rw_timeout_s : 0;
    c->holdoff_ms = cfg->reconnect_holdoff_ms > 0 ? cfg->reconnect_holdoff_ms : RECONNECT_HOLDOFF_MS;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Distinct seeds per connection and thread, so workers that deadlock
     * together do not back off in lock-step. */
    c->rng = (unsigned)ts.tv_sec ^ (unsigned)ts.tv_nsec ^ (unsigned)gettid() ^
             (unsigned)((uintptr_t)c >> 4);
    return c;
}

/* Closes the session (if any) and forgets its prepared statements. */
static void conn_drop(db_conn *c)
{
    if (c->my != NULL) {
        mysql_close(c->my);
        c->my = NULL;
    }
    slots_close_all(c);
    c->up = false;
    c->first_cmd = false;
}

void db_conn_free(db_conn *c)
{
    if (c == NULL)
        return;
    conn_drop(c);
    free(c->slots);
    free(c->pbind);
    free(c->plen);
    free(c->socket);
    free(c->host);
    free(c->user);
    free(c->password);
    free(c->database);
    free(c);
}

static void opt_timeout(MYSQL *my, enum mysql_option opt, unsigned secs)
{
    unsigned int v = secs;

    if (secs > 0)
        mysql_optionsv(my, opt, &v);
}

/* Session settings every connection must have before any statement. */
static const char *const session_sql[] = {
    "SET time_zone='+00:00'",
    ("SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
     "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"),
    /* Not "SET SESSION transaction_isolation=...": MariaDB only has that
     * name from 11.1 on (10.11 answers 1193 unknown variable). This form
     * sets the same session default on every version. */
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
};

/* One connect attempt. Any failure is reported as DB_ERR_CONN (whatever the
 * server's errno, e.g. 1045 access denied): no usable connection exists. */
static int conn_open(db_conn *c)
{
    MYSQL *my = NULL;
    unsigned int proto = c->socket != NULL ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    int rc = -1;

    my = mysql_init(NULL);
    if (my == NULL)
        abort();
    opt_timeout(my, MYSQL_OPT_CONNECT_TIMEOUT, c->connect_timeout_s);
    opt_timeout(my, MYSQL_OPT_READ_TIMEOUT, c->rw_timeout_s);
    opt_timeout(my, MYSQL_OPT_WRITE_TIMEOUT, c->rw_timeout_s);
    mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* Explicit protocol: with host "localhost" the connector would otherwise
     * silently pick a default Unix socket instead of TCP. */
    mysql_optionsv(my, MYSQL_OPT_PROTOCOL, &proto);

    /* CLIENT_FOUND_ROWS: affected rows of an UPDATE count matched rows, so a
     * conditional "UPDATE ... WHERE id=? AND state=?" reports 1 even when the
     * new values equal the old ones (the same choice as Django and Rails). */
    if (mysql_real_connect(my, c->socket != NULL ? "localhost" : c->host, c->user,
                           c->password, c->database, c->socket != NULL ? 0 : c->port,
                           c->socket, CLIENT_FOUND_ROWS) == NULL) {
        set_err_kind(c, DB_ERR_CONN, mysql_errno(my), mysql_error(my));
        goto fail;
    }
    for (size_t i = 0; i < sizeof session_sql / sizeof session_sql[0]; i++) {
        if (mysql_real_query(my, session_sql[i], strlen(session_sql[i])) != 0) {
            set_err_kind(c, DB_ERR_CONN, mysql_errno(my), mysql_error(my));
            goto fail;
        }
    }
    c->my = my;
    my = NULL;
    c->up = true;
    rc = 0;
fail:
    if (my != NULL)
        mysql_close(my);
    return rc;
}

/* Drops the session (if any) and connects afresh. A failure starts the
 * hold-off; a success tells every held-off connection the database is back. */
static int conn_reconnect(db_conn *c)
{
    unsigned gen = atomic_load(&connect_gen);
    int64_t now = mono_ms();

    conn_drop(c);
    if (conn_open(c) != 0) {
        c->fail_ms = now != 0 ? now : 1;
        c->fail_gen = gen;
        c->fail_errno = c->err_no;
        snprintf(c->fail_msg, sizeof c->fail_msg, "%s", c->msg);
        return -1;
    }
    atomic_fetch_add(&connect_gen, 1);
    c->fail_ms = 0;
    err_reset(c);
    return 0;
}

/* True when the server has closed an idle session or sent something
 * unasked (the error packet of a KILL): a healthy idle session has nothing
 * to read. Costs one poll(), no round trip. */
static bool conn_idle_dead(db_conn *c)
{
    struct pollfd p = {.fd = -1, .events = POLLIN};

    if (c->my == NULL)
        return true;
    p.fd = (int)mysql_get_socket(c->my);
    if (p.fd < 0)
        return true;
    /* poll() itself failing (EINTR) proves nothing: the command will tell. */
    return poll(&p, 1, 0) > 0;
}

static void set_session_lost(db_conn *c)
{
    set_err_kind(c, DB_ERR_CONN, CR_SERVER_GONE_ERROR,
                 "the session was lost while its state was needed (held session or open transaction)");
}

int db_conn_ensure(db_conn *c)
{
    int64_t now = 0;

    /* Inside db_tx's fn or a held session, the session IS the state: a lost
     * one is reported, never replaced (that would continue a transaction or
     * a lock that no longer exists). */
    if (c->in_tx_fn || c->held > 0) {
        if (!c->up || conn_idle_dead(c)) {
            set_session_lost(c);
            return -1;
        }
        err_reset(c);
        return 0;
    }
    if (c->up && !conn_idle_dead(c)) {
        err_reset(c);
        c->first_cmd = true;
        return 0;
    }
    c->first_cmd = false;
    now = mono_ms();
    /* Held off after a failed connect, unless someone connected since. */
    if (!c->up && c->fail_ms != 0 && now - c->fail_ms < c->holdoff_ms &&
        atomic_load(&connect_gen) == c->fail_gen) {
        char m[ERRMSG_LEN];

        snprintf(m, sizeof m, "database unreachable (last attempt: %.400s)", c->fail_msg);
        set_err_kind(c, DB_ERR_CONN, c->fail_errno, m);
        return -1;
    }
    /* A down connection is never pinged: a failed statement (or the look at
     * its socket) already proved it broken, so connect afresh. */
    return conn_reconnect(c);
}

/* The unit's first command failed. True when it may be sent once more, now
 * on a new session: the session was reused after idling, the failure is the
 * connection's, and the command provably had no effect - it never reached
 * the server (2006: the write failed) or cannot change anything (no_effect).
 * 2013 after a complete write may follow an executed, even committed,
 * statement: never re-sent. Disarms first_cmd either way. */
static bool retry_first(db_conn *c, bool no_effect)
{
    bool armed = c->first_cmd;

    c->first_cmd = false;
    if (!armed || c->in_tx_fn || c->held > 0 || c->kind != DB_ERR_CONN)
        return false;
    if (!no_effect && c->err_no != CR_SERVER_GONE_ERROR)
        return false;
    return conn_reconnect(c) == 0;
}

void db_conn_set_slot(db_conn *c, int slot)
{
    c->slot = slot < 0 ? 0 : slot;
}

int db_conn_slot(const db_conn *c)
{
    return c->slot;
}

bool db_conn_is_up(const db_conn *c)
{
    return c != NULL && c->up;
}

void db_conn_hold_session(db_conn *c)
{
    c->held++;
    c->first_cmd = false;
}

void db_conn_release_session(db_conn *c)
{
    if (c->held > 0)
        c->held--;
}

/* Common entry of every statement call: clears the last error and refuses
 * to touch a connection known to be broken (reconnecting here could hide a
 * lost transaction; db_conn_ensure decides that). */
static int conn_usable(db_conn *c)
{
    err_reset(c);
    if (!c->up || c->my == NULL) {
        set_err_kind(c, DB_ERR_CONN, CR_SERVER_GONE_ERROR,
                     "not connected (db_conn_ensure not called or connection lost)");
        return -1;
    }
    return 0;
}

/* ---- prepared statements ---------------------------------------------- */

db_val db_val_str(const char *s)
{
    if (s == NULL)
        return DB_NULL;
    return (db_val){.t = DBV_STR, .p = s, .len = strlen(s)};
}

static MYSQL_STMT *stmt_prepare(db_conn *c, const char *sql)
{
    MYSQL_STMT *st = NULL;
    my_bool on = 1;

    st = mysql_stmt_init(c->my);
    if (st == NULL) {
        set_err_mysql(c, false);
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        set_err_stmt(c, st);
        mysql_stmt_close(st);
        return NULL;
    }
    /* Lets db_query size its column buffers from the stored result. */
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
    return st;
}

/* The server forgot or invalidated the statement (table altered, statement
 * evicted): preparing it again on the same session is safe. */
static bool needs_reprepare(unsigned e)
{
    return e == ER_NEED_REPREPARE || e == ER_UNKNOWN_STMT_HANDLER ||
           e == CR_NEW_STMT_METADATA || e == CR_NO_PREPARE_STMT;
}

static int bind_params(db_conn *c, MYSQL_STMT *st, const db_val *params, int n)
{
    static const char empty[1] = "";
    unsigned long want = mysql_stmt_param_count(st);

    if (n < 0 || (n > 0 && params == NULL) || want != (unsigned long)n) {
        char m[96];

        snprintf(m, sizeof m, "statement has %lu parameters, %d given", want, n);
        set_err_kind(c, DB_ERR_OTHER, 0, m);
        return -1;
    }
    if (n == 0)
        return 0;
    if (n > c->pcap) {
        c->pbind = db_xrealloc(c->pbind, (size_t)n * sizeof *c->pbind);
        c->plen = db_xrealloc(c->plen, (size_t)n * sizeof *c->plen);
        c->pcap = n;
    }
    memset(c->pbind, 0, (size_t)n * sizeof *c->pbind);
    for (int i = 0; i < n; i++) {
        MYSQL_BIND *b = &c->pbind[i];
        const db_val *v = &params[i];

        switch (v->t) {
        case DBV_I64:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)&v->i;
            break;
        case DBV_STR:
        case DBV_BLOB:
            b->buffer_type = v->t == DBV_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            /* A NULL buffer would be sent as SQL NULL: empty stays empty. */
            b->buffer = (void *)(v->p != NULL ? v->p : empty);
            c->plen[i] = v->p != NULL ? (unsigned long)v->len : 0;
            b->buffer_length = c->plen[i];
            b->length = &c->plen[i];
            break;
        case DBV_NULL:
        default:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
    if (mysql_stmt_bind_param(st, c->pbind) != 0) {
        set_err_stmt(c, st);
        return -1;
    }
    return 0;
}

/* Prepares (or reuses) and executes sql. Returns the executed statement, or
 * NULL with the error recorded. */
static MYSQL_STMT *stmt_run(db_conn *c, const char *sql, const db_val *params, int n)
{
    stmt_slot *slot = NULL;
    bool reprepared = false;

    if (conn_usable(c) != 0)
        return NULL;
    for (;;) {
        unsigned e = 0;

        /* Looked up on every round: a new session empties the cache. */
        slot = slot_get(c, sql);
        if (slot->st == NULL && (slot->st = stmt_prepare(c, sql)) == NULL) {
            if (retry_first(c, true))  /* a prepare changes nothing */
                continue;
            return NULL;
        }
        if (bind_params(c, slot->st, params, n) != 0)
            return NULL;
        if (mysql_stmt_execute(slot->st) == 0) {
            c->first_cmd = false;
            return slot->st;
        }
        e = mysql_stmt_errno(slot->st);
        if (!reprepared && needs_reprepare(e)) {
            reprepared = true;
            mysql_stmt_close(slot->st);
            slot->st = NULL;
            continue;
        }
        set_err_stmt(c, slot->st);
        if (retry_first(c, false))
            continue;
        return NULL;
    }
}

/* Reads and discards any further result sets (CALL of a procedure), so the
 * statement and the connection are ready for the next command. */
static int stmt_drain(db_conn *c, MYSQL_STMT *st)
{
    while (mysql_stmt_more_results(st)) {
        int r = mysql_stmt_next_result(st);

        if (r > 0) {
            set_err_stmt(c, st);
            return -1;
        }
        if (r < 0)
            break;
        if (mysql_stmt_field_count(st) > 0) {
            if (mysql_stmt_store_result(st) != 0) {
                set_err_stmt(c, st);
                return -1;
            }
            mysql_stmt_free_result(st);
        }
    }
    return 0;
}

int db_exec(db_conn *c, const char *sql, const db_val *params, int nparams,
            uint64_t *affected, uint64_t *insert_id)
{
    MYSQL_STMT *st = NULL;
    my_ulonglong aff = 0;
    int rc = -1;

    st = stmt_run(c, sql, params, nparams);
    if (st == NULL)
        goto fail;
    if (mysql_stmt_field_count(st) > 0) {
        /* A statement with rows run through db_exec: consume them. */
        if (mysql_stmt_store_result(st) != 0) {
            set_err_stmt(c, st);
            goto fail;
        }
    }
    aff = mysql_stmt_affected_rows(st);
    if (affected != NULL)
        *affected = aff == (my_ulonglong)-1 ? 0 : (uint64_t)aff;
    if (insert_id != NULL)
        *insert_id = (uint64_t)mysql_stmt_insert_id(st);
    if (stmt_drain(c, st) != 0)
        goto fail;
    rc = 0;
fail:
    /* Client-side only (no round trip); must follow error capture because it
     * clears the statement's error. */
    if (st != NULL)
        mysql_stmt_free_result(st);
    return rc;
}

/* Per-column fetch state of db_query. */
typedef struct col_buf {
    char *buf;
    unsigned long cap, len;
    my_bool is_null, error;
} col_buf;

static void cols_bind(MYSQL_BIND *binds, col_buf *cols, unsigned n)
{
    memset(binds, 0, n * sizeof *binds);
    for (unsigned i = 0; i < n; i++) {
        binds[i].buffer_type = MYSQL_TYPE_STRING;
        binds[i].buffer = cols[i].buf;
        binds[i].buffer_length = cols[i].cap;
        binds[i].length = &cols[i].len;
        binds[i].is_null = &cols[i].is_null;
        binds[i].error = &cols[i].error;
    }
}

static bool col_truncated(const col_buf *col)
{
    return !col->is_null && (col->error || col->len >= col->cap);
}

/* After MYSQL_DATA_TRUNCATED: grow each truncated column and fetch it again
 * (max_length is only a hint). Text reports its full length, so one round
 * suffices; the connector's number formatting may instead shrink to the
 * buffer and flag the error, hence the doubling and the few rounds.
 * Returns 1 if buffers moved (rebind needed), 0 if not, -1 on error. */
static int cols_refetch(db_conn *c, MYSQL_STMT *st, MYSQL_BIND *binds, col_buf *cols, unsigned n)
{
    int moved = 0;

    for (unsigned i = 0; i < n; i++) {
        for (int round = 0; round < 4 && col_truncated(&cols[i]); round++) {
            unsigned long want = cols[i].cap * 2;

            if (cols[i].len + 1 > want)
                want = cols[i].len + 1;
            cols[i].cap = want;
            cols[i].buf = db_xrealloc(cols[i].buf, cols[i].cap);
            binds[i].buffer = cols[i].buf;
            binds[i].buffer_length = cols[i].cap;
            if (mysql_stmt_fetch_column(st, &binds[i], i, 0) != 0) {
                set_err_stmt(c, st);
                return -1;
            }
            moved = 1;
        }
    }
    return moved;
}

static char *cell_copy(const col_buf *col)
{
    char *s = NULL;
    size_t n = col->len < col->cap ? col->len : col->cap;  /* never overread */

    if (col->is_null)
        return NULL;
    s = db_xcalloc(1, n + 1);
    memcpy(s, col->buf, n);
    return s;
}

int db_query(db_conn *c, const char *sql, const db_val *params, int nparams,
             db_rows **out)
{
    MYSQL_STMT *st = NULL;
    MYSQL_RES *meta = NULL;
    MYSQL_FIELD *fields = NULL;
    MYSQL_BIND *binds = NULL;
    col_buf *cols = NULL;
    db_rows *rows = NULL;
    unsigned ncols = 0;
    my_ulonglong nrows = 0;
    size_t row = 0;
    int rc = -1;

    *out = NULL;
    rows = db_xcalloc(1, sizeof *rows);
    st = stmt_run(c, sql, params, nparams);
    if (st == NULL)
        goto fail;
    ncols = mysql_stmt_field_count(st);
    if (ncols == 0)
        goto done;  /* not a row-returning statement: empty result */
    if (mysql_stmt_store_result(st) != 0) {
        set_err_stmt(c, st);
        goto fail;
    }
    /* Metadata fetched after store_result carries each column's max_length
     * over the rows just stored. */
    meta = mysql_stmt_result_metadata(st);
    if (meta == NULL) {
        set_err_stmt(c, st);
        goto fail;
    }
    fields = mysql_fetch_fields(meta);
    nrows = mysql_stmt_num_rows(st);
    if (nrows > (my_ulonglong)INT_MAX || ncols > (unsigned)INT_MAX ||
        (nrows > 0 && ncols > SIZE_MAX / sizeof(char *) / nrows)) {
        set_err_kind(c, DB_ERR_OTHER, 0, "result too large");
        goto fail;
    }
    binds = db_xcalloc(ncols, sizeof *binds);
    cols = db_xcalloc(ncols, sizeof *cols);
    for (unsigned i = 0; i < ncols; i++) {
        /* +1: room for the connector's NUL. At least 64 bytes: every
         * number and date fits, and FLOAT/DOUBLE are formatted to the
         * buffer's width, so a tiny buffer would silently lose digits. */
        cols[i].cap = (fields[i].max_length > 63 ? fields[i].max_length : 63) + 1;
        cols[i].buf = db_xcalloc(1, cols[i].cap);
    }
    cols_bind(binds, cols, ncols);
    if (mysql_stmt_bind_result(st, binds) != 0) {
        set_err_stmt(c, st);
        goto fail;
    }
    rows->ncols = (int)ncols;
    rows->cells = db_xcalloc((size_t)nrows * ncols, sizeof *rows->cells);
    rows->lens = db_xcalloc((size_t)nrows * ncols, sizeof *rows->lens);
    for (;;) {
        int r = mysql_stmt_fetch(st);

        if (r == MYSQL_NO_DATA)
            break;
        if (r == 1) {
            set_err_stmt(c, st);
            goto fail;
        }
        if (row >= nrows) {
            set_err_kind(c, DB_ERR_OTHER, 0, "more rows fetched than stored");
            goto fail;
        }
        if (r == MYSQL_DATA_TRUNCATED) {
            int moved = cols_refetch(c, st, binds, cols, ncols);

            if (moved < 0)
                goto fail;
            if (moved > 0 && mysql_stmt_bind_result(st, binds) != 0) {
                set_err_stmt(c, st);
                goto fail;
            }
        }
        for (unsigned i = 0; i < ncols; i++) {
            rows->cells[row * ncols + i] = cell_copy(&cols[i]);
            rows->lens[row * ncols + i] =
                cols[i].is_null ? 0 : (cols[i].len < cols[i].cap ? cols[i].len : cols[i].cap);
        }
        row++;
        rows->nrows = (int)row;
    }
done:
    if (stmt_drain(c, st) != 0)
        goto fail;
    *out = rows;
    rows = NULL;
    rc = 0;
fail:
    if (st != NULL)
        mysql_stmt_free_result(st);
    if (meta != NULL)
        mysql_free_result(meta);
    for (unsigned i = 0; cols != NULL && i < ncols; i++)
        free(cols[i].buf);
    free(cols);
    free(binds);
    db_rows_free(rows);
    return rc;
}

/* ---- text queries ------------------------------------------------------- */

/* no_effect: the statement changes nothing (START TRANSACTION), so a
 * first command that met a dead session may be re-sent (retry_first). */
static int text_query(db_conn *c, const char *sql, bool during_commit, bool no_effect)
{
    MYSQL_RES *res = NULL;

    if (conn_usable(c) != 0)
        return -1;
    while (mysql_real_query(c->my, sql, strlen(sql)) != 0) {
        set_err_mysql(c, during_commit);
        if (during_commit || !retry_first(c, no_effect))
            return -1;
    }
    c->first_cmd = false;
    /* Discard rows, and any further result sets (a CALL returns several),
     * so the connection is in sync for the next command. */
    for (;;) {
        int next = 0;

        if (mysql_field_count(c->my) > 0) {
            res = mysql_store_result(c->my);
            if (res == NULL) {
                set_err_mysql(c, during_commit);
                return -1;
            }
            mysql_free_result(res);
        }
        next = mysql_next_result(c->my);
        if (next < 0)
            break;
        if (next > 0) {
            set_err_mysql(c, during_commit);
            return -1;
        }
    }
    return 0;
}

int db_exec_text(db_conn *c, const char *sql)
{
    return text_query(c, sql, false, false);
}

/* ROLLBACK whose own failure is ignored (the caller reports the error that
 * caused it), except that a dead connection is marked down. */
static void rollback_quiet(db_conn *c)
{
    if (!c->up || c->my == NULL)
        return;
    if (mysql_real_query(c->my, "ROLLBACK", 8) != 0 &&
        db_classify(mysql_errno(c->my), false) == DB_ERR_CONN)
        c->up = false;
}

/* ---- rows -------------------------------------------------------------- */

static bool cell_ok(const db_rows *r, int row, int col)
{
    return r != NULL && row >= 0 && col >= 0 && row < r->nrows && col < r->ncols;
}

const char *db_cell(const db_rows *r, int row, int col)
{
    return cell_ok(r, row, col) ? r->cells[(size_t)row * r->ncols + col] : NULL;
}

size_t db_cell_len(const db_rows *r, int row, int col)
{
    return cell_ok(r, row, col) ? r->lens[(size_t)row * r->ncols + col] : 0;
}

int64_t db_cell_i64(const db_rows *r, int row, int col)
{
    const char *s = db_cell(r, row, col);

    return s != NULL ? (int64_t)strtoll(s, NULL, 10) : 0;
}

void db_rows_free(db_rows *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->cells != NULL && i < (size_t)r->nrows * r->ncols; i++)
        free(r->cells[i]);
    free(r->cells);
    free(r->lens);
    free(r);
}

/* ---- transactions --------------------------------------------------- */

unsigned db_retry_delay_ms(int retry, double rnd)
{
    unsigned base = 200, half = 0;

    /* 5 << (retry-1) passes 200 from retry 7 on: cap before shifting so a
     * huge retry count cannot overflow the shift. */
    if (retry < 1)
        retry = 1;
    if (retry <= 6)
        base = 5u << (retry - 1);
    if (base > 200)
        base = 200;
    if (!(rnd >= 0.0))  /* also catches NaN */
        rnd = 0.0;
    if (rnd >= 1.0)
        rnd = 0.999999;
    half = base / 2;
    return half + (unsigned)(rnd * (double)(base - half));
}

/* One attempt: START TRANSACTION, fn, COMMIT. Returns 0 when committed. */
static int tx_once(db_conn *c, db_tx_fn fn, void *arg)
{
    int r = -1;

    /* A session that died while idle (server restart, wait_timeout) is
     * replaced by db_conn_ensure, or when START TRANSACTION meets it:
     * nothing of this transaction has run yet (see retry_first). */
    if (db_conn_ensure(c) != 0 || text_query(c, "START TRANSACTION", false, true) != 0)
        return -1;
    db_error_clear(c);
    c->in_tx_fn = true;
    r = fn(c, arg);
    c->in_tx_fn = false;
    if (!c->up)
        return -1;  /* the error that took it down is kept; nothing to roll back */
    if (c->tx_retry_errno != 0 && c->kind != DB_ERR_RETRY) {
        /* fn swallowed a deadlock/lock wait: the attempt is void, retry it. */
        char m[ERRMSG_LEN];

        snprintf(m, sizeof m, "%s", c->tx_retry_msg);
        set_err_kind(c, DB_ERR_RETRY, c->tx_retry_errno, m);
    }
    if (r != 0 || c->kind == DB_ERR_RETRY) {
        /* r != 0 with DB_OK is fn's own decision and stays DB_OK. */
        rollback_quiet(c);
        return -1;
    }
    /* fn returned 0: any DUP/OTHER error left behind was handled by fn. */
    db_error_clear(c);
    if (text_query(c, "COMMIT", true, false) != 0) {
        rollback_quiet(c);  /* no-op when the connection is gone */
        return -1;
    }
    return 0;
}

int db_tx(db_conn *c, db_tx_fn fn, void *arg, int max_attempts, int *attempts_out)
{
    int attempt = 0, rc = -1;

    if (max_attempts < 1)
        max_attempts = 1;
    for (;;) {
        attempt++;
        rc = tx_once(c, fn, arg);
        /* Only DB_ERR_RETRY is re-run: never DB_ERR_UNKNOWN_OUTCOME (the
         * commit may have happened) nor CONN/DUP/OTHER/fn's decision. */
        if (rc == 0 || c->kind != DB_ERR_RETRY || attempt >= max_attempts)
            break;
        sleep_ms(db_retry_delay_ms(attempt, rand_r(&c->rng) / ((double)RAND_MAX + 1.0)));
    }
    c->in_tx_fn = false;
    if (attempts_out != NULL)
        *attempts_out = attempt;
    return rc;
}

/* ---- start-up checks and library --------------------------------------- */

int db_check_durability(db_conn *c, const char **why)
{
    static const char sql[] =
        "SELECT @@innodb_flush_log_at_trx_commit, @@log_bin, @@sync_binlog";
    db_rows *r = NULL;
    int rc = -1;

    *why = NULL;
    if (db_query(c, sql, DBP0, &r) != 0 || r->nrows != 1 || r->ncols != 3) {
        *why = "could not read innodb_flush_log_at_trx_commit/log_bin/sync_binlog";
        goto fail;
    }
    if (db_cell_i64(r, 0, 0) != 1) {
        *why = "innodb_flush_log_at_trx_commit is not 1: a crash can lose committed transactions";
        goto fail;
    }
    if (db_cell_i64(r, 0, 1) != 0 && db_cell_i64(r, 0, 2) != 1) {
        *why = "log_bin is on but sync_binlog is not 1: a crash can lose committed transactions";
        goto fail;
    }
    rc = 0;
fail:
    db_rows_free(r);
    return rc;
}

int db_library_init(void)
{
    return mysql_library_init(0, NULL, NULL) == 0 ? 0 : -1;
}

void db_library_end(void)
{
    mysql_library_end();
}

void db_thread_init(void)
{
    mysql_thread_init();
}

void db_thread_end(void)
{
    mysql_thread_end();
}

/* ---- for db/ only (db_internal.h) --------------------------------------- */

MYSQL_STMT *db_stmt_execute(db_conn *c, const char *sql, const db_val *params, int nparams)
{
    return stmt_run(c, sql, params, nparams);
}

int db_stmt_drain(db_conn *c, MYSQL_STMT *st)
{
    return stmt_drain(c, st);
}

void db_stmt_error(db_conn *c, MYSQL_STMT *st)
{
    set_err_stmt(c, st);
}

void db_set_error(db_conn *c, db_err_kind kind, const char *msg)
{
    set_err_kind(c, kind, 0, msg);
}
