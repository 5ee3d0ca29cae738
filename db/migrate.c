/* migrate.c - versioned SQL migrations recorded in schema_migrations.
 *
 * Order of work in db_migrate_apply:
 *   1. validate the list (sorted copy, no duplicate versions);
 *   2. take the named lock 'onetrip_migrate' (see lock_take for why);
 *   3. create schema_migrations if missing;
 *   4. verify every applied row: still in the list, checksum unchanged -
 *      nothing is applied while the history disagrees with the binary;
 *   5. apply pending files in ascending version order, each one's last
 *      statement and its schema_migrations row in one transaction.
 */
#include "db/migrate.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>
#include <openssl/evp.h>

#define LOCK_WAIT_S 30

static const char SQL_CREATE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(200) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME(3) NOT NULL"
    ") ENGINE=InnoDB";
static const char SQL_APPLIED[] =
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_LOCK[] = "SELECT GET_LOCK('onetrip_migrate', 1)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('onetrip_migrate')";

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        abort();
    return p;
}

/* ---- pure helpers --------------------------------------------------------- */

void db_migration_checksum(const char *sql, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(sql, strlen(sql), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort();  /* SHA-256 on a memory buffer cannot fail short of OOM */
    for (unsigned i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

typedef struct stmt_vec {
    char **v;
    int n, cap;
} stmt_vec;

/* Appends [b, e) trimmed of surrounding whitespace. */
static void vec_push(stmt_vec *sv, const char *b, const char *e)
{
    char *s = NULL;

    while (b < e && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n' || *b == '\f' || *b == '\v'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n' ||
                     e[-1] == '\f' || e[-1] == '\v'))
        e--;
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = realloc(sv->v, (size_t)sv->cap * sizeof *sv->v);
        if (sv->v == NULL)
            abort();
    }
    s = xmalloc((size_t)(e - b) + 1);
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = '\0';
    sv->v[sv->n++] = s;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* Past a quoted literal or identifier starting at p (the opening quote), or
 * NULL if it never closes. '...' and "..." take backslash escapes (sql_mode
 * here has no NO_BACKSLASH_ESCAPES); all three take a doubled quote. */
static const char *skip_quoted(const char *p)
{
    char q = *p++;

    for (;;) {
        if (*p == '\0')
            return NULL;
        if (*p == '\\' && q != '`') {
            if (p[1] == '\0')
                return NULL;
            p += 2;
            continue;
        }
        if (*p == q) {
            if (p[1] == q) {
                p += 2;
                continue;
            }
            return p + 1;
        }
        p++;
    }
}

/* The splitter knows quotes and comments, not SQL: a ';' at the end of a
 * line always ends the statement. So compound statements (CREATE TRIGGER /
 * PROCEDURE with BEGIN ... END;) are only supported when the whole body is
 * on ONE line, where its inner ';' are followed by more text. Likewise a
 * comment after a statement's ';' on the same line keeps the statement
 * open: put such comments on their own line. */
int db_split_statements(const char *sql, char ***out)
{
    stmt_vec sv = {0};
    const char *p = sql, *start = sql;
    bool has_code = false;  /* the current statement is not only comments */

    *out = NULL;
    while (*p != '\0') {
        if (*p == '\'' || *p == '"' || *p == '`') {
            p = skip_quoted(p);
            if (p == NULL)
                goto fail;
            has_code = true;
        } else if ((p[0] == '-' && p[1] == '-' && (p[2] == '\0' || (unsigned char)p[2] <= ' ')) ||
                   p[0] == '#') {
            /* "--" starts a comment only before whitespace/control (MariaDB
             * rule: "1--1" is arithmetic). The newline stays outside. */
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");

            if (end == NULL)
                goto fail;
            /* Executable comments (slash-star-bang, slash-star-M-bang) are
             * run by the server: they count as code. */
            if (p[2] == '!' || (p[2] == 'M' && p[3] == '!'))
                has_code = true;
            p = end + 2;
        } else if (*p == ';') {
            const char *q = p + 1;

            while (*q == ' ' || *q == '\t' || *q == '\r')
                q++;
            if (*q == '\n' || *q == '\0') {
                if (has_code)
                    vec_push(&sv, start, p);
                has_code = false;
                p = *q == '\n' ? q + 1 : q;
                start = p;
            } else {
                has_code = true;  /* mid-line ';' belongs to the statement */
                p++;
            }
        } else {
            if (!is_space(*p))
                has_code = true;
            p++;
        }
    }
    if (has_code)
        vec_push(&sv, start, p);
    *out = sv.v;
    return sv.n;
fail:
    db_split_free(sv.v, sv.n);
    return -1;
}

void db_split_free(char **stmts, int n)
{
    if (stmts == NULL)
        return;
    for (int i = 0; i < n; i++)
        free(stmts[i]);
    free(stmts);
}

/* ---- list handling --------------------------------------------------- */

static int cmp_version(const void *a, const void *b)
{
    const db_migration *x = *(const db_migration *const *)a;
    const db_migration *y = *(const db_migration *const *)b;

    return (x->version > y->version) - (x->version < y->version);
}

static const char *mname(const db_migration *m)
{
    return m->name != NULL ? m->name : "(unnamed)";
}

/* A sorted copy of list (caller frees), or NULL with err set. */
static const db_migration **sorted_list(const db_migration *const *list, int n,
                                        char *err, size_t errlen)
{
    const db_migration **ms = NULL;

    if (n < 0 || (n > 0 && list == NULL)) {
        errf(err, errlen, "invalid migration list");
        return NULL;
    }
    ms = xmalloc((size_t)n * sizeof *ms);
    for (int i = 0; i < n; i++) {
        if (list[i] == NULL || list[i]->sql == NULL) {
            errf(err, errlen, "migration list entry %d is empty", i);
            goto fail;
        }
        ms[i] = list[i];
    }
    if (n > 1)
        qsort(ms, (size_t)n, sizeof *ms, cmp_version);
    for (int i = 1; i < n; i++) {
        if (ms[i]->version == ms[i - 1]->version) {
            errf(err, errlen, "migrations %s and %s have the same version %d",
                 mname(ms[i - 1]), mname(ms[i]), ms[i]->version);
            goto fail;
        }
    }
    return ms;
fail:
    free(ms);
    return NULL;
}

static int find_version(const db_migration **ms, int n, long long v)
{
    int lo = 0, hi = n - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;

        if (ms[mid]->version == v)
            return mid;
        if (ms[mid]->version < v)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Reads schema_migrations and checks it against ms: every applied version
 * must be known and unchanged. Sets applied[i]; returns how many are
 * applied, or -1 with err. A missing table counts as nothing applied when
 * missing_ok (db_migrate_pending must not create it). */
static int check_applied(db_conn *c, const db_migration **ms, int n, bool *applied,
                         bool missing_ok, char *err, size_t errlen)
{
    db_rows *r = NULL;
    int count = 0, rc = -1;

    if (db_query(c, SQL_APPLIED, DBP0, &r) != 0) {
        if (missing_ok && db_errno(c) == ER_NO_SUCH_TABLE) {
            db_error_clear(c);
            rc = 0;
            goto done;
        }
        errf(err, errlen, "reading schema_migrations failed: %s", db_errmsg(c));
        goto done;
    }
    for (int row = 0; row < r->nrows; row++) {
        long long v = db_cell_i64(r, row, 0);
        int i = find_version(ms, n, v);
        char sum[65];

        if (i < 0) {
            errf(err, errlen, "database has migration %lld unknown to this binary (%s)",
                 v, db_cell(r, row, 1) != NULL ? db_cell(r, row, 1) : "?");
            goto done;
        }
        db_migration_checksum(ms[i]->sql, sum);
        if (db_cell(r, row, 2) == NULL || strcmp(db_cell(r, row, 2), sum) != 0) {
            errf(err, errlen, "migration %s was changed after it was applied (checksum differs)",
                 mname(ms[i]));
            goto done;
        }
        applied[i] = true;
        count++;
    }
    rc = count;
done:
    db_rows_free(r);
    return rc;
}

/* ---- applying --------------------------------------------------------- */

/* Concurrent migrators (two nodes starting together) are serialised with a
 * named lock. A row lock (SELECT ... FOR UPDATE) cannot do it: every DDL
 * statement commits implicitly and would release the row lock mid-run,
 * whereas GET_LOCK belongs to the session and survives commits. GET_LOCK is
 * node-local under Galera (supported again since 10.11.4): migrations must
 * run through one node. It is polled with 1 s waits so that a lock wait
 * never outlasts the connection's read timeout (which would look like a
 * lost connection). The lock dies with the session if we crash. */
static int lock_take(db_conn *c, char *err, size_t errlen)
{
    for (int i = 0; i < LOCK_WAIT_S; i++) {
        db_rows *r = NULL;
        const char *got = NULL;

        if (db_query(c, SQL_LOCK, DBP0, &r) != 0) {
            errf(err, errlen, "GET_LOCK('onetrip_migrate') failed: %s", db_errmsg(c));
            return -1;
        }
        got = db_cell(r, 0, 0);
        if (got != NULL && strcmp(got, "1") == 0) {
            db_rows_free(r);
            /* The lock lives in this session: losing it must stop the run. */
            db_conn_hold_session(c);
            return 0;
        }
        db_rows_free(r);
        if (got == NULL) {
            errf(err, errlen, "GET_LOCK('onetrip_migrate') returned NULL");
            return -1;
        }
    }
    errf(err, errlen, "another process is applying migrations (lock onetrip_migrate busy for %d s)",
         LOCK_WAIT_S);
    return -1;
}

static void lock_release(db_conn *c)
{
    db_rows *r = NULL;

    /* Best effort: if the session is gone the server already released it. */
    if (db_conn_is_up(c) && db_query(c, SQL_UNLOCK, DBP0, &r) == 0)
        db_rows_free(r);
    db_conn_release_session(c);
}

typedef struct record_arg {
    const db_migration *m;
    const char *last;   /* last statement, or NULL for a file without any */
    int last_no;        /* its 1-based number */
    char sum[65];
    char *err;
    size_t errlen;
} record_arg;

/* Inside db_tx: the file's last statement and its schema_migrations row
 * commit together (truly atomic when that statement is DML; DDL commits
 * implicitly - hence the re-runnable DDL rule in migrate.h). */
static int record_fn(db_conn *c, void *argp)
{
    record_arg *a = argp;

    if (a->last != NULL && db_exec_text(c, a->last) != 0) {
        errf(a->err, a->errlen, "migration %s statement %d failed: %s",
             mname(a->m), a->last_no, db_errmsg(c));
        return -1;
    }
    if (db_exec(c, SQL_RECORD, DBP(DB_I64(a->m->version), DB_STR(mname(a->m)), DB_STR(a->sum)),
                NULL, NULL) != 0) {
        errf(a->err, a->errlen, "migration %s: recording it in schema_migrations failed: %s",
             mname(a->m), db_errmsg(c));
        return -1;
    }
    return 0;
}

static int apply_one(db_conn *c, const db_migration *m, char *err, size_t errlen)
{
    char **stmts = NULL;
    int nst = -1, rc = -1;
    record_arg a = {.m = m, .err = err, .errlen = errlen};

    nst = db_split_statements(m->sql, &stmts);
    if (nst < 0) {
        errf(err, errlen, "migration %s: unterminated quote or comment", mname(m));
        goto fail;
    }
    for (int i = 0; i + 1 < nst; i++) {
        if (db_exec_text(c, stmts[i]) != 0) {
            errf(err, errlen, "migration %s statement %d failed: %s", mname(m), i + 1,
                 db_errmsg(c));
            goto fail;
        }
    }
    a.last = nst > 0 ? stmts[nst - 1] : NULL;
    a.last_no = nst;
    db_migration_checksum(m->sql, a.sum);
    errf(err, errlen, "%s", "");
    /* One attempt: the last statement may be DDL, already committed. */
    if (db_tx(c, record_fn, &a, 1, NULL) != 0) {
        if (err == NULL || errlen == 0 || err[0] == '\0')
            errf(err, errlen, "migration %s: commit failed: %s", mname(m), db_errmsg(c));
        goto fail;
    }
    rc = 0;
fail:
    db_split_free(stmts, nst);
    return rc;
}

/* The list sorted and checked, with the database reachable; NULL with err set. */
static const db_migration **sorted_for(db_conn *c, const db_migration *const *list, int n,
                                       char *err, size_t errlen)
{
    const db_migration **ms;

    errf(err, errlen, "%s", "");
    ms = sorted_list(list, n, err, errlen);
    if (ms != NULL && db_conn_ensure(c) != 0) {
        errf(err, errlen, "database unavailable: %s", db_errmsg(c));
        free(ms);
        ms = NULL;
    }
    return ms;
}

int db_migrate_apply(db_conn *c, const db_migration *const *list, int n,
                     char *err, size_t errlen)
{
    const db_migration **ms = NULL;
    bool *applied = NULL;
    bool locked = false;
    int done = 0, rc = -1;

    ms = sorted_for(c, list, n, err, errlen);
    if (ms == NULL)
        goto fail;
    if (lock_take(c, err, errlen) != 0)
        goto fail;
    locked = true;
    if (db_exec_text(c, SQL_CREATE) != 0) {
        errf(err, errlen, "creating schema_migrations failed: %s", db_errmsg(c));
        goto fail;
    }
    applied = calloc((size_t)(n > 0 ? n : 1), sizeof *applied);
    if (applied == NULL)
        abort();
    if (check_applied(c, ms, n, applied, false, err, errlen) < 0)
        goto fail;
    for (int i = 0; i < n; i++) {
        if (applied[i])
            continue;
        if (apply_one(c, ms[i], err, errlen) != 0)
            goto fail;
        done++;
    }
    rc = done;
fail:
    if (locked)
        lock_release(c);
    free(applied);
    free(ms);
    return rc;
}

int db_migrate_pending(db_conn *c, const db_migration *const *list, int n,
                       char *err, size_t errlen)
{
    const db_migration **ms = NULL;
    bool *applied = NULL;
    int napplied = -1, rc = -1;

    ms = sorted_for(c, list, n, err, errlen);
    if (ms == NULL)
        goto fail;
    applied = calloc((size_t)(n > 0 ? n : 1), sizeof *applied);
    if (applied == NULL)
        abort();
    napplied = check_applied(c, ms, n, applied, true, err, errlen);
    if (napplied < 0)
        goto fail;
    rc = n - napplied;
fail:
    free(applied);
    free(ms);
    return rc;
}
