/* identity_sql.c - statements of the identity module (see identity_sql.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/identity/identity_sql.h"
#include "server/app.h"

#define OPERATOR_COLS                                                                              \
    "SELECT id, username, display_name, password_hash, roles, outlet_id, status = 'active' "       \
    "FROM operators "
static const char SQL_OP_BY_NAME[] = OPERATOR_COLS "WHERE username = ?";
static const char SQL_OP_BY_ID[] = OPERATOR_COLS "WHERE id = ?";
static const char SQL_SESSION_NEW[] =
    "INSERT INTO operator_sessions (operator_id, refresh_hash, expires_at, revoked, created_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, 0, UTC_TIMESTAMP(3))";
static const char SQL_SESSION_BY_REFRESH[] =
    "SELECT id, operator_id, revoked, expires_at > UTC_TIMESTAMP(3) FROM operator_sessions "
    "WHERE refresh_hash = ? FOR UPDATE";
static const char SQL_SESSION_ROTATE[] = "UPDATE operator_sessions SET refresh_hash = ? WHERE id = ?";
static const char SQL_USED_ADD[] =
    "INSERT INTO operator_refresh_used (refresh_hash, session_id, expires_at) "
    "SELECT ?, id, expires_at FROM operator_sessions WHERE id = ?";
static const char SQL_USED_FIND[] =
    "SELECT session_id FROM operator_refresh_used WHERE refresh_hash = ?";
static const char SQL_SESSION_REVOKE[] = "UPDATE operator_sessions SET revoked = 1 WHERE id = ?";
static const char SQL_PRUNE_JWT[] =
    "DELETE FROM jwt_seen WHERE expires_at < UTC_TIMESTAMP(3) LIMIT 1000";
static const char SQL_PRUNE_NONCES[] =
    "DELETE FROM partner_nonces WHERE expires_at < UTC_TIMESTAMP(3) LIMIT 1000";
static const char SQL_PRUNE_SESSIONS[] =
    "DELETE FROM operator_sessions WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY LIMIT 1000";
/* ---- login sources (login_policy.h) ---- */

/* Blocks in force on either source of an attempt, longest first. */
static const char SQL_LOGIN_BLOCKED[] =
    "SELECT scope, block, CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), blocked_until) / 1000000) "
    "AS SIGNED) FROM login_sources WHERE ((scope = 'address' AND address = ? AND username = '') OR "
    "(scope = 'username' AND address = ? AND username = ?)) AND blocked_until > UTC_TIMESTAMP(3) "
    "ORDER BY blocked_until DESC LIMIT 1";
/* quiet: seconds since the last failure or the end of the last block. */
static const char SQL_SOURCE_LOCK[] =
    "SELECT failures, lockouts, block, "
    "GREATEST(0, TIMESTAMPDIFF(SECOND, GREATEST(last_failed_at, COALESCE(blocked_until, last_failed_at)), "
    "UTC_TIMESTAMP(3))), "
    "GREATEST(0, CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), COALESCE(blocked_until, "
    "UTC_TIMESTAMP(3))) / 1000000) AS SIGNED)) "
    "FROM login_sources WHERE scope = ? AND address = ? AND username = ? FOR UPDATE";
static const char SQL_SOURCE_SAVE[] =
    "INSERT INTO login_sources (scope, address, username, failures, lockouts, block, blocked_until, "
    "first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?, ?, "
    "IF(? > 0, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, NULL), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)) "
    "ON DUPLICATE KEY UPDATE failures = VALUES(failures), lockouts = VALUES(lockouts), "
    "block = VALUES(block), blocked_until = VALUES(blocked_until), "
    "first_failed_at = IF(?, VALUES(first_failed_at), first_failed_at), "
    "last_failed_at = VALUES(last_failed_at)";
static const char SQL_SOURCE_FORGET[] =
    "DELETE FROM login_sources WHERE scope = 'username' AND address = ? AND username = ?";
static const char SQL_SOURCES_FORGET_USER[] =
    "DELETE FROM login_sources WHERE scope = 'username' AND username = ?";
#define SOURCE_COLS                                                                                \
    "SELECT l.scope, l.address, l.username, o.id, l.failures, l.lockouts, "                        \
    "IF(l.blocked_until > UTC_TIMESTAMP(3), l.block, NULL), "                                     \
    "IF(l.blocked_until > UTC_TIMESTAMP(3), DATE_FORMAT(l.blocked_until, '%Y-%m-%dT%H:%i:%sZ'), NULL), " \
    "DATE_FORMAT(l.first_failed_at, '%Y-%m-%dT%H:%i:%sZ'), "                                      \
    "DATE_FORMAT(l.last_failed_at, '%Y-%m-%dT%H:%i:%sZ') FROM login_sources l "                   \
    "LEFT JOIN operators o ON l.scope = 'username' AND o.username = l.username "
/* One indexed branch per filter (username, address, neither), newest first. */
static const char SQL_SOURCES_BY_USERNAME[] =
    SOURCE_COLS "WHERE l.username = ? AND (? IS NULL OR l.address = ?) "
    "ORDER BY l.last_failed_at DESC, l.scope, l.address LIMIT ?";
static const char SQL_SOURCES_BY_ADDRESS[] =
    SOURCE_COLS "WHERE l.address = ? ORDER BY l.last_failed_at DESC, l.scope, l.username LIMIT ?";
static const char SQL_SOURCES_ALL[] =
    SOURCE_COLS "ORDER BY l.last_failed_at DESC, l.scope, l.address, l.username LIMIT ?";
static const char SQL_OPERATOR_USERNAME[] = "SELECT username FROM operators WHERE id = ?";
/* A source is forgotten after a quiet day and blocked for at most a day
 * after its last failure, so rows two days past it are dead. */
static const char SQL_PRUNE_SOURCES[] =
    "DELETE FROM login_sources WHERE last_failed_at < UTC_TIMESTAMP(3) - INTERVAL 2 DAY LIMIT 1000";
static const char SQL_PRUNE_USED[] =
    "DELETE FROM operator_refresh_used WHERE expires_at < UTC_TIMESTAMP(3) LIMIT 1000";

void identity_operator_clear(identity_operator *o)
{
    if (o->password_hash) {
        memset(o->password_hash, 0, strlen(o->password_hash));
        free(o->password_hash);
    }
    memset(o, 0, sizeof *o);
}

static int operator_query(db_conn *c, const char *sql, db_val key, identity_operator *o)
{
    db_rows *r = NULL;
    int rc = -1;

    memset(o, 0, sizeof *o);
    if (db_query(c, sql, &key, 1, &r) != 0)
        goto done;
    rc = 1;
    if (r->nrows != 1)
        goto done;
    o->id = db_cell_i64(r, 0, 0);
    snprintf(o->username, sizeof o->username, "%s", db_cell(r, 0, 1));
    snprintf(o->display_name, sizeof o->display_name, "%s", db_cell(r, 0, 2));
    o->password_hash = app_strdup(db_cell(r, 0, 3));
    o->roles = (unsigned)db_cell_i64(r, 0, 4);
    o->outlet_id = db_cell_i64(r, 0, 5);
    o->active = db_cell_i64(r, 0, 6) == 1;
    rc = 0;
done:
    db_rows_free(r);
    return rc;
}

int identity_operator_by_username(db_conn *c, const char *username, identity_operator *o)
{
    return operator_query(c, SQL_OP_BY_NAME, DB_STR(username), o);
}

int identity_operator_by_id(db_conn *c, int64_t id, identity_operator *o)
{
    return operator_query(c, SQL_OP_BY_ID, DB_I64(id), o);
}

int identity_session_create(db_conn *c, int64_t operator_id, const unsigned char hash[32], int ttl_s,
                            int64_t *session_id)
{
    uint64_t id = 0;
    if (db_exec(c, SQL_SESSION_NEW, DBP(DB_I64(operator_id), DB_BLOB(hash, 32), DB_I64(ttl_s)), NULL,
                &id) != 0)
        return -1;
    *session_id = (int64_t)id;
    return 0;
}

int identity_session_by_refresh(db_conn *c, const unsigned char hash[32], identity_session *s)
{
    db_rows *r = NULL;
    int rc = -1;

    memset(s, 0, sizeof *s);
    if (db_query(c, SQL_SESSION_BY_REFRESH, DBP(DB_BLOB(hash, 32)), &r) != 0)
        goto done;
    rc = 1;
    if (r->nrows != 1)
        goto done;
    s->id = db_cell_i64(r, 0, 0);
    s->operator_id = db_cell_i64(r, 0, 1);
    s->revoked = db_cell_i64(r, 0, 2) != 0;
    s->live = db_cell_i64(r, 0, 3) == 1;
    rc = 0;
done:
    db_rows_free(r);
    return rc;
}

int identity_session_rotate(db_conn *c, int64_t session_id, const unsigned char old_hash[32],
                            const unsigned char new_hash[32])
{
    if (db_exec(c, SQL_USED_ADD, DBP(DB_BLOB(old_hash, 32), DB_I64(session_id)), NULL, NULL) != 0)
        return -1;
    return db_exec(c, SQL_SESSION_ROTATE, DBP(DB_BLOB(new_hash, 32), DB_I64(session_id)), NULL, NULL);
}

int identity_refresh_used(db_conn *c, const unsigned char hash[32], int64_t *session_id)
{
    db_rows *r = NULL;
    int rc = -1;
    if (db_query(c, SQL_USED_FIND, DBP(DB_BLOB(hash, 32)), &r) != 0)
        goto done;
    rc = r->nrows == 1 ? 0 : 1;
    *session_id = rc == 0 ? db_cell_i64(r, 0, 0) : 0;
done:
    db_rows_free(r);
    return rc;
}

int identity_session_revoke(db_conn *c, int64_t session_id)
{
    return db_exec(c, SQL_SESSION_REVOKE, DBP(DB_I64(session_id)), NULL, NULL);
}

int identity_prune_jwt_seen(db_conn *c, uint64_t *n)
{
    return db_exec(c, SQL_PRUNE_JWT, DBP0, n, NULL);
}

int identity_prune_nonces(db_conn *c, uint64_t *n)
{
    return db_exec(c, SQL_PRUNE_NONCES, DBP0, n, NULL);
}

int identity_prune_sessions(db_conn *c, uint64_t *n)
{
    return db_exec(c, SQL_PRUNE_SESSIONS, DBP0, n, NULL);
}

int identity_prune_refresh_used(db_conn *c, uint64_t *n)
{
    return db_exec(c, SQL_PRUNE_USED, DBP0, n, NULL);
}

/* ---- login sources ---- */

static identity_login_block block_parse(const char *s)
{
    if (s == NULL)
        return LOGIN_BLOCK_NONE;
    return strcmp(s, "lockout") == 0 ? LOGIN_BLOCK_LOCKOUT : LOGIN_BLOCK_BACKOFF;
}

const char *identity_login_block_name(identity_login_block b)
{
    return b == LOGIN_BLOCK_LOCKOUT ? "lockout" : b == LOGIN_BLOCK_BACKOFF ? "backoff" : NULL;
}

int identity_login_blocked(db_conn *c, const char *address, const char *username, identity_login_check *out)
{
    db_rows *r = NULL;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (db_query(c, SQL_LOGIN_BLOCKED, DBP(DB_STR(address), DB_STR(address), DB_STR(username)), &r) != 0)
        goto done;
    rc = 0;
    if (r->nrows != 1)
        goto done;
    out->block = block_parse(db_cell(r, 0, 1));
    out->address_scope = strcmp(db_cell(r, 0, 0), "address") == 0;
    out->retry_s = db_cell_i64(r, 0, 2);
    if (out->retry_s < 1)
        out->retry_s = 1;
done:
    db_rows_free(r);
    return rc;
}

int identity_login_source_failed(db_conn *c, const char *scope, const char *address, const char *username,
                                 const identity_login_policy *p, identity_login_source *s, int *lockout)
{
    db_rows *r = NULL;
    int fresh = 0, rc = -1;

    memset(s, 0, sizeof *s);
    s->quiet_s = LONG_MAX;
    if (db_query(c, SQL_SOURCE_LOCK, DBP(DB_STR(scope), DB_STR(address), DB_STR(username)), &r) != 0)
        goto done;
    if (r->nrows == 1) {
        s->failures = (int)db_cell_i64(r, 0, 0);
        s->lockouts = (int)db_cell_i64(r, 0, 1);
        s->block = block_parse(db_cell(r, 0, 2));
        s->quiet_s = (long)db_cell_i64(r, 0, 3);
        s->blocked_s = (long)db_cell_i64(r, 0, 4);
        if (s->blocked_s == 0)
            s->block = LOGIN_BLOCK_NONE;
    }
    *lockout = identity_login_failure(p, s, &fresh);
    if (db_exec(c, SQL_SOURCE_SAVE,
                DBP(DB_STR(scope), DB_STR(address), DB_STR(username), DB_I64(s->failures),
                    DB_I64(s->lockouts), DB_STR(identity_login_block_name(s->block)), DB_I64(s->blocked_s),
                    DB_I64(s->blocked_s), DB_I64(fresh)),
                NULL, NULL) != 0)
        goto done;
    rc = 0;
done:
    db_rows_free(r);
    return rc;
}

int identity_login_source_forget(db_conn *c, const char *address, const char *username)
{
    return db_exec(c, SQL_SOURCE_FORGET, DBP(DB_STR(address), DB_STR(username)), NULL, NULL);
}

int identity_login_sources_forget_user(db_conn *c, const char *username, uint64_t *n)
{
    return db_exec(c, SQL_SOURCES_FORGET_USER, DBP(DB_STR(username)), n, NULL);
}

void identity_login_sources_free(identity_login_source_row *rows)
{
    free(rows);
}

int identity_login_sources_list(db_conn *c, int64_t operator_id, const char *address, int limit,
                                identity_login_source_row **out, int *n)
{
    db_rows *u = NULL, *r = NULL;
    identity_login_source_row *rows = NULL;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (operator_id > 0) {
        if (db_query(c, SQL_OPERATOR_USERNAME, DBP(DB_I64(operator_id)), &u) != 0)
            goto done;
        rc = 1;
        if (u->nrows != 1)
            goto done;
        rc = -1;
        if (db_query(c, SQL_SOURCES_BY_USERNAME,
                     DBP(DB_STR(db_cell(u, 0, 0)), DB_STR(address), DB_STR(address), DB_I64(limit)), &r) != 0)
            goto done;
    } else if (address != NULL) {
        if (db_query(c, SQL_SOURCES_BY_ADDRESS, DBP(DB_STR(address), DB_I64(limit)), &r) != 0)
            goto done;
    } else if (db_query(c, SQL_SOURCES_ALL, DBP(DB_I64(limit)), &r) != 0) {
        goto done;
    }
    rows = app_calloc(r->nrows > 0 ? (size_t)r->nrows : 1, sizeof *rows);
    for (int i = 0; i < r->nrows; i++) {
        identity_login_source_row *x = &rows[i];
        x->address_scope = strcmp(db_cell(r, i, 0), "address") == 0;
        snprintf(x->address, sizeof x->address, "%s", db_cell(r, i, 1));
        snprintf(x->username, sizeof x->username, "%s", db_cell(r, i, 2));
        x->operator_id = db_cell_i64(r, i, 3);
        x->failures = (int)db_cell_i64(r, i, 4);
        x->lockouts = (int)db_cell_i64(r, i, 5);
        x->block = block_parse(db_cell(r, i, 6));
        snprintf(x->blocked_until, sizeof x->blocked_until, "%s", db_cell(r, i, 7) ? db_cell(r, i, 7) : "");
        snprintf(x->first_failed_at, sizeof x->first_failed_at, "%s", db_cell(r, i, 8));
        snprintf(x->last_failed_at, sizeof x->last_failed_at, "%s", db_cell(r, i, 9));
    }
    *out = rows;
    *n = r->nrows;
    rows = NULL;
    rc = 0;
done:
    free(rows);
    db_rows_free(r);
    db_rows_free(u);
    return rc;
}

int identity_prune_login_sources(db_conn *c, uint64_t *n)
{
    return db_exec(c, SQL_PRUNE_SOURCES, DBP0, n, NULL);
}
