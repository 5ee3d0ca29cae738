/* identity_sql.c - statements of the identity module (see identity_sql.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/identity/identity_sql.h"
#include "db/rows.h"
#include "server/app.h"

#define OPERATOR_COLS                                                                              \
    "SELECT id, username, display_name, password_hash, roles, outlet_id, status = 'active' AS active " \
    "FROM operators "
static const char SQL_OP_BY_NAME[] = OPERATOR_COLS "WHERE username = ?";
static const char SQL_OP_BY_ID[] = OPERATOR_COLS "WHERE id = ?";
static const char SQL_SESSION_NEW[] =
    "INSERT INTO operator_sessions (operator_id, refresh_hash, expires_at, revoked, created_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, 0, UTC_TIMESTAMP(3))";
static const char SQL_SESSION_BY_REFRESH[] =
    "SELECT id, operator_id, revoked, expires_at > UTC_TIMESTAMP(3) AS live FROM operator_sessions "
    "WHERE refresh_hash = ? FOR UPDATE";
static const char SQL_SESSION_ROTATE[] = "UPDATE operator_sessions SET refresh_hash = ? WHERE id = ?";
static const char SQL_USED_ADD[] =
    "INSERT INTO operator_refresh_used (refresh_hash, session_id, expires_at) "
    "SELECT ?, id, expires_at FROM operator_sessions WHERE id = ?";
static const char SQL_USED_FIND[] =
    "SELECT session_id AS id FROM operator_refresh_used WHERE refresh_hash = ?";
static const char SQL_SESSION_REVOKE[] = "UPDATE operator_sessions SET revoked = 1 WHERE id = ?";
static const char SQL_PRUNE_JWT[] =
    "DELETE FROM jwt_seen WHERE expires_at < UTC_TIMESTAMP(3) LIMIT 1000";
static const char SQL_PRUNE_NONCES[] =
    "DELETE FROM partner_nonces WHERE expires_at < UTC_TIMESTAMP(3) LIMIT 1000";
static const char SQL_PRUNE_SESSIONS[] =
    "DELETE FROM operator_sessions WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY LIMIT 1000";
static const char SQL_ME_CITIZEN[] =
    "SELECT name, id_number_enc, phone_enc, birth_date, disabled FROM citizens WHERE id = ?";
static const char SQL_ME_PARTNER[] =
    "SELECT p.name, p.type, p.outlet_id, o.code AS outlet_code FROM partners p "
    "JOIN outlets o ON o.id = p.outlet_id WHERE p.id = ?";
static const char SQL_OUTLET_CODE[] = "SELECT code FROM outlets WHERE id = ?";
/* ---- login sources (login_policy.h) ---- */

/* Blocks in force on either source of an attempt, longest first. */
static const char SQL_LOGIN_BLOCKED[] =
    "SELECT scope, block, CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), blocked_until) / 1000000) "
    "AS SIGNED) AS retry_s FROM login_sources WHERE ((scope = 'address' AND address = ? AND username = '') OR "
    "(scope = 'username' AND address = ? AND username = ?)) AND blocked_until > UTC_TIMESTAMP(3) "
    "ORDER BY blocked_until DESC LIMIT 1";
/* quiet: seconds since the last failure or the end of the last block. */
static const char SQL_SOURCE_LOCK[] =
    "SELECT failures, lockouts, block, "
    "GREATEST(0, TIMESTAMPDIFF(SECOND, GREATEST(last_failed_at, COALESCE(blocked_until, last_failed_at)), "
    "UTC_TIMESTAMP(3))) AS quiet_s, "
    "GREATEST(0, CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), COALESCE(blocked_until, "
    "UTC_TIMESTAMP(3))) / 1000000) AS SIGNED)) AS blocked_s "
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
    "SELECT l.scope, l.address, l.username, o.id AS operator_id, l.failures, l.lockouts, "         \
    "IF(l.blocked_until > UTC_TIMESTAMP(3), l.block, NULL) AS block, "                            \
    "IF(l.blocked_until > UTC_TIMESTAMP(3), l.blocked_until, NULL) AS blocked_until, "            \
    "l.first_failed_at, l.last_failed_at FROM login_sources l "                                   \
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

/* ---- row tables: each SELECT above names its columns after these fields ---- */

static const db_col OP_COLS[] = {
    DBR_I64(identity_operator, id),
    DBR_CHARS(identity_operator, username),
    DBR_CHARS(identity_operator, display_name),
    DBR_STR(identity_operator, password_hash),
    DBR_I64(identity_operator, roles),
    DBR_I64(identity_operator, outlet_id),
    DBR_BOOL(identity_operator, active),
};
static const db_row_spec OP_ROW = DB_ROW_SPEC(identity_operator, OP_COLS);

static const db_col SESSION_COLS[] = {
    DBR_I64(identity_session, id),
    DBR_I64(identity_session, operator_id),
    DBR_BOOL(identity_session, revoked),
    DBR_BOOL(identity_session, live),
};
static const db_row_spec SESSION_ROW = DB_ROW_SPEC(identity_session, SESSION_COLS);

/* One integer column named id. */
typedef struct id_row {
    int64_t id;
} id_row;
static const db_col ID_COLS[] = {DBR_I64(id_row, id)};
static const db_row_spec ID_ROW = DB_ROW_SPEC(id_row, ID_COLS);

typedef struct username_row {
    char username[257];             /* VARCHAR(64) utf8mb4 */
} username_row;
static const db_col USERNAME_COLS[] = {DBR_CHARS(username_row, username)};
static const db_row_spec USERNAME_ROW = DB_ROW_SPEC(username_row, USERNAME_COLS);

/* A block in force (SQL_LOGIN_BLOCKED). */
typedef struct blocked_row {
    char scope[16];
    char block[16];                 /* ENUM, NULL: none */
    bool has_block;
    int64_t retry_s;
} blocked_row;
static const db_col BLOCKED_COLS[] = {
    DBR_CHARS(blocked_row, scope),
    DBR_CHARS_NULL(blocked_row, block, has_block),
    DBR_I64(blocked_row, retry_s),
};
static const db_row_spec BLOCKED_ROW = DB_ROW_SPEC(blocked_row, BLOCKED_COLS);

/* A source's counters, locked (SQL_SOURCE_LOCK). */
typedef struct lock_row {
    int32_t failures, lockouts;
    char block[16];
    bool has_block;
    int64_t quiet_s, blocked_s;
} lock_row;
static const db_col LOCK_COLS[] = {
    DBR_I32(lock_row, failures),
    DBR_I32(lock_row, lockouts),
    DBR_CHARS_NULL(lock_row, block, has_block),
    DBR_I64(lock_row, quiet_s),
    DBR_I64(lock_row, blocked_s),
};
static const db_row_spec LOCK_ROW = DB_ROW_SPEC(lock_row, LOCK_COLS);

/* A listed source (SOURCE_COLS), before the enums are decoded. */
typedef struct source_row {
    char scope[16];
    char address[IDENTITY_LOGIN_SOURCE_LEN + 1]; /* a source key (login_policy.h) */
    char username[257];             /* VARCHAR(64) utf8mb4 */
    int64_t operator_id;
    bool has_operator_id;
    int32_t failures, lockouts;
    char block[16];
    bool has_block;
    char blocked_until[21];
    bool has_blocked_until;
    char first_failed_at[21], last_failed_at[21];
} source_row;
static const db_col SOURCE_ROW_COLS[] = {
    DBR_CHARS(source_row, scope),
    DBR_CHARS(source_row, address),
    DBR_CHARS(source_row, username),
    DBR_I64_NULL(source_row, operator_id, has_operator_id),
    DBR_I32(source_row, failures),
    DBR_I32(source_row, lockouts),
    DBR_CHARS_NULL(source_row, block, has_block),
    DBR_UTC_NULL(source_row, blocked_until, has_blocked_until),
    DBR_UTC(source_row, first_failed_at),
    DBR_UTC(source_row, last_failed_at),
};
static const db_row_spec SOURCE_ROW = DB_ROW_SPEC(source_row, SOURCE_ROW_COLS);

static const db_col CITIZEN_COLS[] = {
    DBR_STR(identity_citizen_row, name),
    DBR_BLOB(identity_citizen_row, id_number_enc, id_number_enc_len),
    DBR_BLOB_NULL(identity_citizen_row, phone_enc, phone_enc_len),
    DBR_CHARS(identity_citizen_row, birth_date),
    DBR_BOOL(identity_citizen_row, disabled),
};
static const db_row_spec CITIZEN_ROW = DB_ROW_SPEC(identity_citizen_row, CITIZEN_COLS);

static const db_col PARTNER_COLS[] = {
    DBR_CHARS(identity_partner_row, name),
    DBR_CHARS(identity_partner_row, type),
    DBR_I64(identity_partner_row, outlet_id),
    DBR_CHARS(identity_partner_row, outlet_code),
};
static const db_row_spec PARTNER_ROW = DB_ROW_SPEC(identity_partner_row, PARTNER_COLS);

typedef struct code_row {
    char code[129];                 /* VARCHAR(32) utf8mb4 */
} code_row;
static const db_col CODE_COLS[] = {DBR_CHARS(code_row, code)};
static const db_row_spec CODE_ROW = DB_ROW_SPEC(code_row, CODE_COLS);

void identity_operator_clear(identity_operator *o)
{
    if (o->password_hash)
        memset(o->password_hash, 0, strlen(o->password_hash));
    db_row_clear(&OP_ROW, o);
    memset(o, 0, sizeof *o);
}

/* 1 when there is no such operator. */
static int operator_query(db_conn *c, const char *sql, db_val key, identity_operator *o)
{
    bool found = false;

    if (db_query_one(c, sql, &key, 1, &OP_ROW, o, &found) != 0)
        return -1;
    return found ? 0 : 1;
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
    bool found = false;

    if (db_query_one(c, SQL_SESSION_BY_REFRESH, DBP(DB_BLOB(hash, 32)), &SESSION_ROW, s, &found) != 0)
        return -1;
    return found ? 0 : 1;
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
    id_row row;
    bool found = false;

    *session_id = 0;
    if (db_query_one(c, SQL_USED_FIND, DBP(DB_BLOB(hash, 32)), &ID_ROW, &row, &found) != 0)
        return -1;
    if (!found)
        return 1;
    *session_id = row.id;
    return 0;
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

int identity_citizen(db_conn *c, int64_t citizen_id, identity_citizen_row *out, bool *found)
{
    return db_query_one(c, SQL_ME_CITIZEN, DBP(DB_I64(citizen_id)), &CITIZEN_ROW, out, found);
}

void identity_citizen_row_clear(identity_citizen_row *r)
{
    db_row_clear(&CITIZEN_ROW, r);
}

int identity_partner(db_conn *c, int64_t partner_id, identity_partner_row *out, bool *found)
{
    return db_query_one(c, SQL_ME_PARTNER, DBP(DB_I64(partner_id)), &PARTNER_ROW, out, found);
}

int identity_outlet_code(db_conn *c, int64_t outlet_id, char code[129])
{
    code_row row;
    bool found = false;

    code[0] = '\0';
    if (db_query_one(c, SQL_OUTLET_CODE, DBP(DB_I64(outlet_id)), &CODE_ROW, &row, &found) != 0)
        return -1;
    if (found)
        memcpy(code, row.code, sizeof row.code);
    return 0;
}

/* ---- login sources ---- */

static identity_login_block block_parse(bool has, const char *s)
{
    if (!has)
        return LOGIN_BLOCK_NONE;
    return strcmp(s, "lockout") == 0 ? LOGIN_BLOCK_LOCKOUT : LOGIN_BLOCK_BACKOFF;
}

const char *identity_login_block_name(identity_login_block b)
{
    return b == LOGIN_BLOCK_LOCKOUT ? "lockout" : b == LOGIN_BLOCK_BACKOFF ? "backoff" : NULL;
}

int identity_login_blocked(db_conn *c, const char *address, const char *username, identity_login_check *out)
{
    blocked_row row;
    bool found = false;

    memset(out, 0, sizeof *out);
    if (db_query_one(c, SQL_LOGIN_BLOCKED, DBP(DB_STR(address), DB_STR(address), DB_STR(username)),
                     &BLOCKED_ROW, &row, &found) != 0)
        return -1;
    if (!found)
        return 0;
    out->block = block_parse(row.has_block, row.block);
    out->address_scope = strcmp(row.scope, "address") == 0;
    out->retry_s = row.retry_s < 1 ? 1 : row.retry_s;
    return 0;
}

int identity_login_source_failed(db_conn *c, const char *scope, const char *address, const char *username,
                                 const identity_login_policy *p, identity_login_source *s, int *lockout)
{
    lock_row row;
    bool found = false;
    int fresh = 0;

    memset(s, 0, sizeof *s);
    s->quiet_s = LONG_MAX;
    if (db_query_one(c, SQL_SOURCE_LOCK, DBP(DB_STR(scope), DB_STR(address), DB_STR(username)), &LOCK_ROW,
                     &row, &found) != 0)
        return -1;
    if (found) {
        s->failures = row.failures;
        s->lockouts = row.lockouts;
        s->block = row.blocked_s == 0 ? LOGIN_BLOCK_NONE : block_parse(row.has_block, row.block);
        s->quiet_s = (long)row.quiet_s;
        s->blocked_s = (long)row.blocked_s;
    }
    *lockout = identity_login_failure(p, s, &fresh);
    return db_exec(c, SQL_SOURCE_SAVE,
                   DBP(DB_STR(scope), DB_STR(address), DB_STR(username), DB_I64(s->failures),
                       DB_I64(s->lockouts), DB_STR(identity_login_block_name(s->block)), DB_I64(s->blocked_s),
                       DB_I64(s->blocked_s), DB_I64(fresh)),
                   NULL, NULL);
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
    username_row u;
    bool found = false;
    void *all = NULL;
    source_row *r;
    identity_login_source_row *rows = NULL;
    int nr = 0, rc;

    *out = NULL;
    *n = 0;
    if (operator_id > 0) {
        if (db_query_one(c, SQL_OPERATOR_USERNAME, DBP(DB_I64(operator_id)), &USERNAME_ROW, &u, &found) != 0)
            return -1;
        if (!found)
            return 1;
        rc = db_query_all(c, SQL_SOURCES_BY_USERNAME,
                          DBP(DB_STR(u.username), DB_STR(address), DB_STR(address), DB_I64(limit)), &SOURCE_ROW,
                          &all, &nr);
    } else if (address != NULL) {
        rc = db_query_all(c, SQL_SOURCES_BY_ADDRESS, DBP(DB_STR(address), DB_I64(limit)), &SOURCE_ROW, &all,
                          &nr);
    } else {
        rc = db_query_all(c, SQL_SOURCES_ALL, DBP(DB_I64(limit)), &SOURCE_ROW, &all, &nr);
    }
    if (rc != 0)
        return -1;
    r = all;
    rows = app_calloc(nr > 0 ? (size_t)nr : 1, sizeof *rows);
    for (int i = 0; i < nr; i++) {
        identity_login_source_row *x = &rows[i];
        x->address_scope = strcmp(r[i].scope, "address") == 0;
        snprintf(x->address, sizeof x->address, "%s", r[i].address);
        snprintf(x->username, sizeof x->username, "%s", r[i].username);
        x->operator_id = r[i].operator_id;
        x->failures = r[i].failures;
        x->lockouts = r[i].lockouts;
        x->block = block_parse(r[i].has_block, r[i].block);
        snprintf(x->blocked_until, sizeof x->blocked_until, "%s", r[i].blocked_until);
        snprintf(x->first_failed_at, sizeof x->first_failed_at, "%s", r[i].first_failed_at);
        snprintf(x->last_failed_at, sizeof x->last_failed_at, "%s", r[i].last_failed_at);
    }
    db_row_array_free(&SOURCE_ROW, all, nr);
    *out = rows;
    *n = nr;
    return 0;
}

int identity_prune_login_sources(db_conn *c, uint64_t *n)
{
    return db_exec(c, SQL_PRUNE_SOURCES, DBP0, n, NULL);
}
