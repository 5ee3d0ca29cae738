/* identity_sql.c - statements of the identity module (see identity_sql.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/identity/identity_sql.h"
#include "server/app.h"

#define OPERATOR_COLS                                                                              \
    "SELECT id, username, display_name, password_hash, roles, outlet_id, status = 'active', "      \
    "COALESCE(locked_until > UTC_TIMESTAMP(3), 0) FROM operators "
static const char SQL_OP_BY_NAME[] = OPERATOR_COLS "WHERE username = ?";
static const char SQL_OP_BY_ID[] = OPERATOR_COLS "WHERE id = ?";
/* Assignments run left to right and see earlier ones: locked_until is set
 * from the old counter before the counter changes. */
static const char SQL_LOGIN_FAILED[] =
    "UPDATE operators SET "
    "locked_until = IF(failed_logins + 1 >= ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, locked_until), "
    "failed_logins = IF(failed_logins + 1 >= ?, 0, failed_logins + 1) WHERE id = ?";
static const char SQL_LOCKED[] =
    "SELECT COALESCE(locked_until > UTC_TIMESTAMP(3), 0) FROM operators WHERE id = ?";
static const char SQL_LOGIN_OK[] =
    "UPDATE operators SET failed_logins = 0, locked_until = NULL WHERE id = ?";
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
    o->locked = db_cell_i64(r, 0, 7) == 1;
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

int identity_login_failed(db_conn *c, int64_t id, int max, int lock_s, int *locked_now)
{
    db_rows *r = NULL;
    int rc = -1;

    *locked_now = 0;
    if (db_exec(c, SQL_LOGIN_FAILED, DBP(DB_I64(max), DB_I64(lock_s), DB_I64(max), DB_I64(id)), NULL,
                NULL) != 0)
        goto done;
    if (db_query(c, SQL_LOCKED, DBP(DB_I64(id)), &r) != 0)
        goto done;
    *locked_now = r->nrows == 1 && db_cell_i64(r, 0, 0) == 1;
    rc = 0;
done:
    db_rows_free(r);
    return rc;
}

int identity_login_succeeded(db_conn *c, int64_t id)
{
    return db_exec(c, SQL_LOGIN_OK, DBP(DB_I64(id)), NULL, NULL);
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
