/* identity_auth.c - identity's side of authentication: the SQL behind the
 * app_authenticator lookups (server/app.h). The checks themselves (JWS,
 * claims, signatures) stay in server/auth.c. */
#include <string.h>

#include "db/rows.h"
#include "modules/identity/identity_auth.h"

static const char SQL_APP_KEY[] =
    "SELECT k.client_id, k.alg, k.public_pem, c.name AS client_name FROM app_client_keys k "
    "JOIN app_clients c ON c.id = k.client_id WHERE k.kid = ? AND k.status = 'active' "
    "AND c.status = 'active'";
static const db_col APP_KEY_COLS[] = {
    DBR_I64(app_auth_app_key, client_id),
    DBR_CHARS(app_auth_app_key, alg),
    DBR_STR(app_auth_app_key, public_pem),
    DBR_STR(app_auth_app_key, client_name),
};
static const db_row_spec APP_KEY_ROW = DB_ROW_SPEC(app_auth_app_key, APP_KEY_COLS);

static const char SQL_JTI[] =
    "INSERT INTO jwt_seen (client_id, jti, expires_at) VALUES (?, ?, FROM_UNIXTIME(?))";

static const char SQL_OPERATOR_SESSION[] =
    "SELECT o.status, o.roles, o.outlet_id, s.revoked, s.expires_at > UTC_TIMESTAMP(3) AS live "
    "FROM operators o JOIN operator_sessions s ON s.operator_id = o.id WHERE o.id = ? AND s.id = ?";
static const db_col OPERATOR_COLS[] = {
    DBR_CHARS(app_auth_operator, status),
    DBR_I64(app_auth_operator, roles),
    DBR_I64(app_auth_operator, outlet_id),
    DBR_BOOL(app_auth_operator, revoked),
    DBR_BOOL(app_auth_operator, live),
};
static const db_row_spec OPERATOR_ROW = DB_ROW_SPEC(app_auth_operator, OPERATOR_COLS);

static const char SQL_PARTNER_CERT[] =
    "SELECT p.id, p.type, p.outlet_id, p.status, c.status AS cert_status FROM partner_certs c "
    "JOIN partners p ON p.id = c.partner_id WHERE c.sha256 = ?";
static const db_col PARTNER_CERT_COLS[] = {
    DBR_I64(app_auth_partner, id),
    DBR_CHARS(app_auth_partner, type),
    DBR_I64(app_auth_partner, outlet_id),
    DBR_CHARS(app_auth_partner, status),
    DBR_CHARS(app_auth_partner, cert_status),
};
static const db_row_spec PARTNER_CERT_ROW = DB_ROW_SPEC(app_auth_partner, PARTNER_CERT_COLS);

static const char SQL_PARTNER_HMAC[] =
    "SELECT id, type, outlet_id, status, hmac_secret_enc FROM partners WHERE hmac_key_id = ?";
static const db_col PARTNER_HMAC_COLS[] = {
    DBR_I64(app_auth_partner, id),
    DBR_CHARS(app_auth_partner, type),
    DBR_I64(app_auth_partner, outlet_id),
    DBR_CHARS(app_auth_partner, status),
    DBR_BLOB_NULL(app_auth_partner, hmac_secret_enc, hmac_secret_enc_len),
};
static const db_row_spec PARTNER_HMAC_ROW = DB_ROW_SPEC(app_auth_partner, PARTNER_HMAC_COLS);

static const char SQL_NONCE[] =
    "INSERT INTO partner_nonces (partner_id, nonce, expires_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)";

static int app_key(db_conn *c, const char *kid, app_auth_app_key *out, bool *found)
{
    return db_query_one(c, SQL_APP_KEY, DBP(DB_STR(kid)), &APP_KEY_ROW, out, found);
}

static void app_key_clear(app_auth_app_key *k)
{
    db_row_clear(&APP_KEY_ROW, k);
}

/* An insert that fails on the unique key means "seen before": the duplicate
 * is the answer, not an error. */
static int insert_once(db_conn *c, int rc, bool *replayed)
{
    *replayed = false;
    if (rc == 0)
        return 0;
    if (db_error(c) == DB_ERR_DUP) {
        db_error_clear(c);
        *replayed = true;
        return 0;
    }
    return -1;
}

static int record_jti(db_conn *c, int64_t client_id, const char *jti, int64_t expires_unix,
                      bool *replayed)
{
    return insert_once(c,
                       db_exec(c, SQL_JTI, DBP(DB_I64(client_id), DB_STR(jti), DB_I64(expires_unix)),
                               NULL, NULL),
                       replayed);
}

static int operator_session(db_conn *c, int64_t op, int64_t sid, app_auth_operator *out,
                            bool *found)
{
    return db_query_one(c, SQL_OPERATOR_SESSION, DBP(DB_I64(op), DB_I64(sid)), &OPERATOR_ROW, out,
                        found);
}

static int partner_by_cert(db_conn *c, const char *sha256_hex, app_auth_partner *out, bool *found)
{
    return db_query_one(c, SQL_PARTNER_CERT, DBP(DB_STR(sha256_hex)), &PARTNER_CERT_ROW, out, found);
}

static int partner_by_hmac_key(db_conn *c, const char *key_id, app_auth_partner *out, bool *found)
{
    return db_query_one(c, SQL_PARTNER_HMAC, DBP(DB_STR(key_id)), &PARTNER_HMAC_ROW, out, found);
}

static void partner_clear(app_auth_partner *p)
{
    /* Both specs own only the sealed secret; the HMAC one names it. */
    db_row_clear(&PARTNER_HMAC_ROW, p);
}

static int record_nonce(db_conn *c, int64_t partner_id, const char *nonce, int64_t ttl_s,
                        bool *replayed)
{
    return insert_once(c,
                       db_exec(c, SQL_NONCE, DBP(DB_I64(partner_id), DB_STR(nonce), DB_I64(ttl_s)),
                               NULL, NULL),
                       replayed);
}

const app_authenticator identity_authenticator = {
    .app_key = app_key,
    .app_key_clear = app_key_clear,
    .record_jti = record_jti,
    .operator_session = operator_session,
    .partner_by_cert = partner_by_cert,
    .partner_by_hmac_key = partner_by_hmac_key,
    .partner_clear = partner_clear,
    .record_nonce = record_nonce,
};
