/* identity_http.c - operator login, token refresh and logout, the login
 * sources admins read, and GET /v1/me.
 *
 * Login answers an unknown user and a wrong password with the same 401
 * invalid_credentials after the same PBKDF2 work (a dummy hash is verified
 * for unknown users), so neither the answer nor its timing tells which
 * usernames exist. Failures lock out their source, never the account
 * (login_policy.h): the client address, and the username at that address,
 * each back off or lock out; a blocked source gets 429 with Retry-After
 * before any password work, and the right password from a clean address
 * still works. The refresh token is 32 random bytes (hex) and only its
 * SHA-256 is stored; each refresh rotates it, and presenting a rotated one
 * again revokes the whole session (it was copied). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/identity/identity_http.h"
#include "modules/identity/identity_sql.h"
#include "modules/identity/login_policy.h"
#include "server/audit.h"
#include "server/auth_token.h"
#include "server/config.h"
#include "server/crypto.h"
#include "server/pii.h"

/* ---- dummy hash for unknown users ----------------------------------------- */

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char *dummy_hash;

static void dummy_init(void)
{
    char pw[33];
    crypto_random_hex(16, pw);
    if (crypto_password_hash(pw, CRYPTO_PBKDF2_ITERATIONS, &dummy_hash) != 0)
        dummy_hash = NULL;
}

/* ---- helpers --------------------------------------------------------------- */

json_t *identity_roles_json(unsigned roles)
{
    static const char *names[] = {"window", "supervisor", "reviewer", "auditor", "admin", "inspector"};
    json_t *a = json_array();
    for (unsigned i = 0; i < 6; i++)
        if (roles & (1u << i))
            json_array_append_new(a, json_string(names[i]));
    return a;
}

static void refresh_hash(const char *hex, unsigned char out[32])
{
    crypto_sha256(hex, strlen(hex), out);
}

/* Issues an access token for the session and sets the 200 response with a
 * fresh refresh token (whose hash the caller stores). */
static int reply_tokens(app_req *r, const identity_operator *o, int64_t sid, const char *refresh)
{
    int ttl = (int)server_conf.auth.operator_token_ttl_s;
    char *tok = auth_issue_operator_token(o->id, sid, (unsigned)o->roles, o->outlet_id, ttl);
    if (tok == NULL) {
        app_fail(r, "login_unavailable", NULL, NULL);
        return -1;
    }
    app_reply_json(r, 200,
                   json_pack("{sssssisss{sIsssssosI}}", "access_token", tok, "token_type", "Bearer",
                             "expires_in", ttl, "refresh_token", refresh, "operator", "id",
                             (json_int_t)o->id, "username", o->username, "display_name", o->display_name,
                             "roles", identity_roles_json((unsigned)o->roles), "outlet_id", (json_int_t)o->outlet_id));
    memset(tok, 0, strlen(tok));
    free(tok);
    return 0;
}

static void as_operator(app_req *r, const identity_operator *o)
{
    r->who.kind = CALLER_OPERATOR;
    r->who.id = o->id;
    r->who.roles = (unsigned)o->roles;
    r->who.outlet_id = o->outlet_id;
    snprintf(r->who.name, sizeof r->who.name, "op:%lld", (long long)o->id);
}

/* An audit record about an operator (id 0: unknown); takes det. */
static int audit_op(app_req *r, const char *action, int64_t id, const char *outcome, json_t *det)
{
    return audit_write_id(r, action, "operator", id, outcome, det);
}

/* ---- POST /v1/auth/login ----------------------------------------------------- */

typedef struct login_ctx {
    identity_operator op;
    int found, password_ok;
    const char *username;
    char source[IDENTITY_LOGIN_SOURCE_LEN];
    char refresh[65];
    identity_login_source locked[2]; /* lockouts this attempt started: [0] username, [1] address */
} login_ctx;

static void login_policies(identity_login_policy *user, identity_login_policy *addr)
{
    user->max_failures = (int)identity_conf.max_failed_logins;
    user->lock_s = (long)identity_conf.lock_s;
    user->backoff_s = (long)identity_conf.login_backoff_s;
    /* The address as a whole only locks out: backing off every colleague
     * behind one office address after each typo would punish them all. */
    addr->max_failures = (int)identity_conf.max_failed_logins_per_address;
    addr->lock_s = user->lock_s;
    addr->backoff_s = 0;
}

/* A source's lockout: audited once when it starts (refusals while it lasts
 * are not written anywhere, so they cost the database nothing). */
static int audit_lockout(app_req *r, login_ctx *l, int address_scope, const identity_login_source *s)
{
    json_t *det = json_pack("{sssssIsI}", "scope", address_scope ? "address" : "username", "address",
                            l->source, "lockouts", (json_int_t)s->lockouts, "locked_s",
                            (json_int_t)s->blocked_s);

    l->locked[address_scope] = *s;
    if (!address_scope && l->found)
        return audit_op(r, "auth.source_locked", l->op.id, "ok", det);
    return audit_write_owned(r, "auth.source_locked", "login_source", l->source, det);
}

/* Counts a failed password on both sources of the attempt. */
static int login_failed(app_req *r, login_ctx *l)
{
    identity_login_policy user, addr;
    identity_login_source s;
    int lockout = 0;

    login_policies(&user, &addr);
    if (identity_login_source_failed(r->db, "username", l->source, l->username, &user, &s, &lockout) != 0)
        return -1;
    if (lockout && audit_lockout(r, l, 0, &s) != 0)
        return -1;
    if (identity_login_source_failed(r->db, "address", l->source, "", &addr, &s, &lockout) != 0)
        return -1;
    if (lockout && audit_lockout(r, l, 1, &s) != 0)
        return -1;
    return 0;
}

static int login_tx(app_req *r, void *arg)
{
    login_ctx *l = arg;
    unsigned char h[32];
    int64_t sid = 0;

    memset(l->locked, 0, sizeof l->locked); /* a retried transaction starts over */
    if (!l->found || !l->password_ok) {
        if (login_failed(r, l) != 0)
            return -1;
        app_fail(r, "invalid_credentials", NULL, NULL);
        return audit_op(r, "auth.login", l->found ? l->op.id : 0, "failed",
                        json_pack("{ss}", "reason", l->found ? "wrong_password" : "unknown_user"));
    }
    if (!l->op.active) {
        app_fail(r, "operator_disabled", NULL, NULL);
        return audit_op(r, "auth.login", l->op.id, "failed", json_pack("{ss}", "reason", "disabled"));
    }
    refresh_hash(l->refresh, h);
    if (identity_login_source_forget(r->db, l->source, l->username) != 0 ||
        identity_session_create(r->db, l->op.id, h, (int)server_conf.auth.refresh_ttl_s, &sid) != 0)
        return -1;
    as_operator(r, &l->op);
    r->who.client_id = sid;
    if (reply_tokens(r, &l->op, sid, l->refresh) != 0)
        return -1;
    return audit_op(r, "auth.login", l->op.id, "ok", json_pack("{sI}", "session_id", (json_int_t)sid));
}

/* 429 for a blocked source: no password is checked, nothing is written. */
static void login_refused(app_req *r, const identity_login_check *b)
{
    char secs[24];
    const int lockout = b->block == LOGIN_BLOCK_LOCKOUT;

    snprintf(secs, sizeof secs, "%lld", (long long)b->retry_s);
    app_add_header(r, "Retry-After", secs);
    app_fail_ext(r, lockout ? "source_locked" : "login_backoff",
                 !lockout ? NULL
                 : b->address_scope ? "Too many failed logins from this address; try again later."
                                    : "Too many failed logins for this username from this address; "
                                      "try again later.",
                 NULL,
                 json_pack("{sIss}", "retry_after_s", (json_int_t)b->retry_s, "scope",
                           b->address_scope ? "address" : "username"));
}

static atomic_int hashing; /* password checks running now, all workers */

static int login_slots(void)
{
    int n = (int)server_conf.workers.count / 2;
    return n > 0 ? n : 1;
}

/* The body is declared in identity_module.c. */
void identity_on_login(app_req *r)
{
    identity_login_check blocked;
    login_ctx l;
    int rc;

    memset(&l, 0, sizeof l);
    l.username = app_json_str(r, "username");
    identity_login_source_key(r->peer, l.source);
    /* Before any password work: a blocked source costs one indexed read. */
    if (identity_login_blocked(r->db, l.source, l.username, &blocked) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (blocked.block != LOGIN_BLOCK_NONE) {
        login_refused(r, &blocked);
        goto done;
    }
    rc = identity_operator_by_username(r->db, l.username, &l.op);
    if (rc < 0) {
        app_problem_db(r);
        goto done;
    }
    l.found = rc == 0;
    pthread_once(&dummy_once, dummy_init);
    /* A password check costs ~0.3 s of CPU on purpose: at most half the
     * workers may hash at once, so a burst of logins cannot take every
     * worker from the rest of the service. */
    if (atomic_fetch_add(&hashing, 1) >= login_slots()) {
        atomic_fetch_sub(&hashing, 1);
        app_add_header(r, "Retry-After", "1");
        app_fail(r, "login_busy", NULL, NULL);
        goto done;
    }
    /* Always one PBKDF2 verification, whatever the account's state. */
    l.password_ok = crypto_password_verify(app_json_str(r, "password"),
                                           l.found ? l.op.password_hash : dummy_hash) == 1 && l.found;
    atomic_fetch_sub(&hashing, 1);
    if (crypto_random_hex(32, l.refresh) != 0) {
        app_fail(r, "internal", NULL, NULL);
        goto done;
    }
    if (app_tx(r, login_tx, &l) == 0) {
        /* Once committed. Never the username: it may hold a mistyped password. */
        for (int i = 0; i < 2; i++)
            if (l.locked[i].lockouts > 0)
                app_log(1, "identity",
                        "event=source_locked request_id=%s scope=%s source=%s lockouts=%d locked_s=%ld",
                        r->request_id, i ? "address" : "username", l.source, l.locked[i].lockouts,
                        l.locked[i].blocked_s);
    }
done:
    memset(l.refresh, 0, sizeof l.refresh);
    identity_operator_clear(&l.op);
}

/* ---- GET /v1/auth/login-sources -------------------------------------------------- */

/* The query is declared in identity_module.c; only the address's form is
 * checked here. */
void identity_on_login_sources(app_req *r)
{
    const char *q_addr = app_query(r, "address");
    int64_t opid = app_query_int(r, "operator_id", 0), limit = app_query_int(r, "limit", 50);
    char addr[IDENTITY_LOGIN_SOURCE_LEN];
    identity_login_source_row *rows = NULL;
    json_t *items;
    int n = 0, rc;

    /* The same key the policy uses: an IPv6 address means its /64. */
    if (q_addr != NULL && identity_login_source_key(q_addr, addr) != 0) {
        app_fail(r, "bad_query", "address must be an IPv4 or IPv6 address.", "address");
        return;
    }
    rc = identity_login_sources_list(r->db, opid, q_addr ? addr : NULL, (int)limit, &rows, &n);
    if (rc < 0) {
        app_problem_db(r);
        return;
    }
    if (rc == 1) {
        app_fail(r, "not_found", "No operator has this id.", NULL);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++) {
        const identity_login_source_row *x = &rows[i];
        const char *block = identity_login_block_name(x->block);
        json_array_append_new(
            items, json_pack("{sssssososisisososossss}", "scope", x->address_scope ? "address" : "username",
                             "address", x->address,
                             "username", x->address_scope ? json_null() : json_string(x->username),
                             "operator_id", app_json_int_if(x->operator_id, x->operator_id),
                             "failures", x->failures, "lockouts", x->lockouts, "blocked",
                             json_boolean(block != NULL), "block", app_json_str_or_null(block),
                             "blocked_until", app_json_str_if(x->blocked_until[0], x->blocked_until),
                             "first_failed_at", x->first_failed_at, "last_failed_at", x->last_failed_at));
    }
    identity_login_sources_free(rows);
    app_reply_json(r, 200, json_pack("{so}", "items", items));
}

/* ---- POST /v1/auth/refresh ------------------------------------------------------ */

typedef struct refresh_ctx {
    const char *old;
    char fresh[65];
} refresh_ctx;

static int refresh_tx(app_req *r, void *arg)
{
    refresh_ctx *x = arg;
    unsigned char oldh[32], newh[32];
    identity_session s;
    identity_operator o;
    int64_t sid = 0;
    int rc = -1, f;

    memset(&o, 0, sizeof o);
    refresh_hash(x->old, oldh);
    f = identity_session_by_refresh(r->db, oldh, &s);
    if (f < 0)
        goto done;
    if (f == 1) {
        f = identity_refresh_used(r->db, oldh, &sid);
        if (f < 0)
            goto done;
        if (f == 0) {
            /* A rotated token came back: someone holds a copy. End the session. */
            if (identity_session_revoke(r->db, sid) != 0)
                goto done;
            app_fail(r, "refresh_token_reused", NULL, NULL);
            rc = audit_write_id(r, "auth.refresh_reuse", "operator_session", sid, "denied", NULL);
            goto done;
        }
        app_fail(r, "invalid_refresh_token", NULL, NULL);
        rc = 0;
        goto done;
    }
    f = identity_operator_by_id(r->db, s.operator_id, &o);
    if (f < 0)
        goto done;
    if (s.revoked || !s.live || f != 0 || !o.active) {
        app_fail(r, "invalid_refresh_token", NULL, NULL);
        rc = 0;
        goto done;
    }
    refresh_hash(x->fresh, newh);
    if (identity_session_rotate(r->db, s.id, oldh, newh) != 0)
        goto done;
    as_operator(r, &o);
    r->who.client_id = s.id;
    if (reply_tokens(r, &o, s.id, x->fresh) != 0)
        goto done;
    rc = audit_op(r, "auth.refresh", o.id, "ok", json_pack("{sI}", "session_id", (json_int_t)s.id));
done:
    identity_operator_clear(&o);
    return rc;
}

/* The body is declared in identity_module.c. */
void identity_on_refresh(app_req *r)
{
    refresh_ctx x;
    unsigned char raw[32];

    memset(&x, 0, sizeof x);
    x.old = app_json_str(r, "refresh_token");
    if (strlen(x.old) != 64 || crypto_unhex(x.old, raw, sizeof raw) != 32) {
        app_fail(r, "invalid_refresh_token", NULL, NULL);
        return;
    }
    if (crypto_random_hex(32, x.fresh) != 0) {
        app_fail(r, "internal", NULL, NULL);
        return;
    }
    app_tx(r, refresh_tx, &x);
    memset(x.fresh, 0, sizeof x.fresh);
}

/* ---- POST /v1/auth/logout -------------------------------------------------------- */

static int logout_tx(app_req *r, void *arg)
{
    (void)arg;
    /* For operators auth.c keeps the session id in who.client_id. */
    if (identity_session_revoke(r->db, r->who.client_id) != 0)
        return -1;
    app_reply_empty(r, 204);
    return audit_op(r, "auth.logout", r->who.id, "ok",
                    json_pack("{sI}", "session_id", (json_int_t)r->who.client_id));
}

void identity_on_logout(app_req *r)
{
    app_tx(r, logout_tx, NULL);
}

/* ---- GET /v1/me --------------------------------------------------------------------- */

/* Frees a decrypted identifier, wiping it first. */
static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static json_t *me_citizen(app_req *r)
{
    identity_citizen_row row;
    bool found = false;
    char *idn = NULL, *phone = NULL, *m_id = NULL, *m_phone = NULL, *m_name = NULL;
    json_t *out = NULL;

    if (identity_citizen(r->db, r->who.id, &row, &found) != 0 || !found)
        goto done;
    idn = pii_open(PII_ID_NUMBER, row.id_number_enc, row.id_number_enc_len);
    if (row.phone_enc)
        phone = pii_open(PII_PHONE, row.phone_enc, row.phone_enc_len);
    m_id = crypto_mask_id(idn ? idn : "");
    m_phone = phone ? crypto_mask_phone(phone) : NULL;
    m_name = crypto_mask_name(row.name);
    out = json_pack("{sssIsssssosssb}", "kind", "citizen", "id", (json_int_t)r->who.id, "name", m_name,
                    "id_number", m_id, "phone", app_json_str_or_null(m_phone),
                    "birth_date", row.birth_date, "disabled", row.disabled);
done:
    free_secret(idn);
    free_secret(phone);
    free(m_id);
    free(m_phone);
    free(m_name);
    identity_citizen_row_clear(&row);
    return out;
}

static json_t *me_operator(app_req *r)
{
    identity_operator o;
    char code[129];
    json_t *out = NULL;

    if (identity_operator_by_id(r->db, r->who.id, &o) != 0)
        goto done;
    if (identity_outlet_code(r->db, o.outlet_id, code) != 0)
        goto done;
    out = json_pack("{sssIsssssosIss}", "kind", "operator", "id", (json_int_t)o.id, "username", o.username,
                    "display_name", o.display_name, "roles", identity_roles_json(r->who.roles),
                    "outlet_id", (json_int_t)r->who.outlet_id, "outlet_code", code);
done:
    identity_operator_clear(&o);
    return out;
}

static json_t *me_partner(app_req *r)
{
    identity_partner_row p;
    bool found = false;

    if (identity_partner(r->db, r->who.id, &p, &found) != 0 || !found)
        return NULL;
    return json_pack("{sssIsssssIssss}", "kind", "partner", "id", (json_int_t)r->who.id, "name", p.name,
                     "type", p.type, "outlet_id", (json_int_t)p.outlet_id, "outlet_code", p.outlet_code,
                     "auth", r->tls_cert_sha256[0] && app_header(r, "X-Onetrip-Key") == NULL ? "certificate"
                                                                                           : "hmac");
}

void identity_on_me(app_req *r)
{
    json_t *out = NULL;

    if (r->who.kind == CALLER_CITIZEN)
        out = me_citizen(r);
    else if (r->who.kind == CALLER_OPERATOR)
        out = me_operator(r);
    else if (r->who.kind == CALLER_PARTNER)
        out = me_partner(r);
    if (out == NULL) {
        if (db_error(r->db) != DB_OK)
            app_problem_db(r);
        else
            app_fail(r, "not_found", "The caller's record is gone.", NULL);
        return;
    }
    app_reply_json(r, 200, out);
}
