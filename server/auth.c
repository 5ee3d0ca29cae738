/* auth.c - who is calling (see auth.h).
 *
 * Three credentials, tried in this order:
 *  1. Authorization: Bearer <JWT>
 *     - kid "op1": an operator token this server issued (HS256, our key);
 *     - any other kid: an app backend's token (ES256/RS256, its registered
 *       public key), acting for the citizen in `sub` (an ID number).
 *  2. X-Onetrip-Key/-Timestamp/-Nonce/-Signature: a partner's HMAC request
 *     signature (for partners behind a TLS-terminating proxy).
 *  3. A verified TLS client certificate registered to a partner.
 *
 * libjwt 1.10.2 takes the algorithm from the token, accepts unsigned "none"
 * tokens when given no key, matches alg case-insensitively, decodes base64url
 * leniently (trailing garbage, non-canonical last characters) and checks no
 * claims. So: the token length is capped before libjwt sees it (it alloca's
 * by token size), the compact form is checked strictly first
 * (auth_jws_compact_check), the header's alg must equal, byte for byte, the
 * algorithm registered for the kid, libjwt always gets the registered key,
 * jwt_get_alg is checked again after decoding, and the claims are checked
 * here.
 *
 * Claims of app-backend tokens (RFC 7519 makes every registered claim
 * optional; we require only what this protocol needs and check the rest
 * when present, as mainstream signers such as jose do not add nbf):
 *   required: iss  (the client that owns the kid),
 *             aud  (this service, auth.audience),
 *             sub  (the citizen's ID number the backend acts for),
 *             exp  (tokens live at most auth.app_token_max_ttl_s),
 *             jti  (a state-changing request uses it once: see below);
 *   optional: nbf  (not before, with auth.clock_skew_s),
 *             iat  (not in the future; exp - iat at most the cap).
 * Without iat the lifetime is bounded from our clock: exp at most the cap
 * + skew ahead. A present optional claim of the wrong type is
 * refused like a missing required one. Operator tokens are ours (see
 * auth_token.c) and always carry exp, nbf, iat and sid: all are required.
 *
 * Replay: an app token is a bearer credential for its short lifetime.
 * GET and HEAD (safe methods) do not record its jti, so a backend may use
 * one token for many reads and a read costs no durable write; every other
 * method records it, so a token carries at most one state change. That
 * holds with or without an Idempotency-Key: the key only folds an honest
 * client's retries into one answer, and whoever captured a token could pick
 * a fresh key. A captured token thus reads that one citizen's data until
 * exp (+ skew), and writes only if it beats the backend to the token's one
 * write (README, "Threat model of app tokens").
 *
 * This file is the mechanism only: the credentials (keys, sessions,
 * partners, replay caches, citizens) live in module tables and are looked
 * up through the app_authenticator functions the owning modules register
 * (identity_auth.c, people_auth.c). */
#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/auth.h"
#include "server/auth_token.h"
#include "server/config.h"
#include "server/crypto.h"
#include "server/http_internal.h"
#include "server/log.h"
#include "server/modules.h"
#include "server/pii.h"

#define MAX_TOKEN 4096

static unsigned char op_key[32];
static bool op_key_set;

/* The credential lookups, registered by the modules that own the tables
 * (app_module.auth): merged at start-up, one provider per function. */
static app_authenticator look;

static int lookups_merge(char *err, size_t errlen)
{
    memset(&look, 0, sizeof look);
    for (int i = 0; i < modules_count; i++) {
        const app_authenticator *a = modules_all[i]->auth;
        if (a == NULL)
            continue;
#define MERGE(f)                                                                             \
    if (a->f != NULL) {                                                                      \
        if (look.f != NULL) {                                                                \
            snprintf(err, errlen, "authentication lookup %s registered twice (module %s)", #f, \
                     modules_all[i]->name);                                                  \
            return -1;                                                                       \
        }                                                                                    \
        look.f = a->f;                                                                       \
    }
        MERGE(app_key) MERGE(app_key_clear) MERGE(record_jti) MERGE(citizen_by_id_hash)
        MERGE(operator_session) MERGE(partner_by_cert) MERGE(partner_by_hmac_key)
        MERGE(partner_clear) MERGE(record_nonce)
#undef MERGE
    }
#define NEED(f)                                                                  \
    if (look.f == NULL) {                                                        \
        snprintf(err, errlen, "no module registers the authentication lookup %s", #f); \
        return -1;                                                               \
    }
    NEED(app_key) NEED(app_key_clear) NEED(record_jti) NEED(citizen_by_id_hash)
    NEED(operator_session) NEED(partner_by_cert) NEED(partner_by_hmac_key) NEED(partner_clear)
    NEED(record_nonce)
#undef NEED
    return 0;
}

int auth_init(char *err, size_t errlen)
{
    const char *hex = server_conf.auth.operator_token_key;
    op_key_set = false;
    if (lookups_merge(err, errlen) != 0)
        return -1;
    if (hex[0] == '\0')
        return 0; /* operator login disabled until a key is configured */
    if (strlen(hex) != 64 || crypto_unhex(hex, op_key, sizeof op_key) != 32) {
        snprintf(err, errlen, "auth.operator_token_key must be 64 hex characters");
        return -1;
    }
    op_key_set = true;
    return 0;
}

void auth_cleanup(void)
{
    memset(op_key, 0, sizeof op_key);
    op_key_set = false;
}

const unsigned char *auth_operator_key(void)
{
    return op_key_set ? op_key : NULL;
}

static int fail401(app_req *r, const char *code, const char *detail)
{
    app_add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    app_problem(r, 401, code, "Authentication failed", detail, NULL);
    return -1;
}

unsigned auth_partner_type_bit(const char *type)
{
    static const char *types[] = {"post", "insurer", "hospital", "court", "dealer", "agency", "station"};
    for (unsigned i = 0; i < 7; i++)
        if (type && strcmp(type, types[i]) == 0)
            return 1u << i;
    return 0;
}

/* Header of a compact JWS: alg and kid, from our own decoding (libjwt
 * 1.10 would pick the algorithm from it). Returns 0 or -1. */
int auth_token_header(const char *token, char *alg, size_t alen, char *kid, size_t klen)
{
    const char *dot = strchr(token, '.');
    char *part = NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    json_t *h = NULL;
    int rc = -1;

    if (dot == NULL || strchr(dot + 1, '.') == NULL || strchr(strchr(dot + 1, '.') + 1, '.') != NULL)
        goto fail;
    part = app_strndup(token, (size_t)(dot - token));
    raw = crypto_b64url_decode(part, &rawlen);
    if (raw == NULL)
        goto fail;
    h = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(h) || !json_is_string(json_object_get(h, "alg")))
        goto fail;
    snprintf(alg, alen, "%s", json_string_value(json_object_get(h, "alg")));
    kid[0] = '\0';
    if (json_is_string(json_object_get(h, "kid")))
        snprintf(kid, klen, "%s", json_string_value(json_object_get(h, "kid")));
    else if (json_object_get(h, "kid") != NULL)
        goto fail;
    rc = 0;
fail:
    json_decref(h);
    free(raw);
    free(part);
    return rc;
}

/* Integer claim. libjwt 1.10's jwt_get_grant_int answers 0 without an
 * error for a claim of another type ("nbf": "x" would read as 1970), so the
 * type is checked on the JSON itself. Returns 1 when absent (*out
 * untouched), 0 when an integer, -1 when present with another type. */
static int claim_int_opt(jwt_t *jwt, const char *name, long *out)
{
    char *js = jwt_get_grants_json(jwt, name);
    json_t *v = js ? json_loads(js, JSON_DECODE_ANY, NULL) : NULL;
    int rc = js == NULL ? 1 : -1;

    if (json_is_integer(v)) {
        *out = (long)json_integer_value(v);
        rc = 0;
    }
    json_decref(v);
    free(js);
    return rc;
}

/* Integer claim that must be present: 0, or -1 when absent or not an integer. */
static int claim_int(jwt_t *jwt, const char *name, long *out)
{
    return claim_int_opt(jwt, name, out) == 0 ? 0 : -1;
}

/* aud may be a string or an array of strings (RFC 7519 4.1.3). */
static int aud_matches(jwt_t *jwt, const char *want)
{
    const char *s = jwt_get_grant(jwt, "aud");
    char *js;
    json_t *a;
    size_t i;
    json_t *v;
    int ok = 0;

    if (s != NULL)
        return strcmp(s, want) == 0;
    js = jwt_get_grants_json(jwt, "aud");
    if (js == NULL)
        return 0;
    a = json_loads(js, 0, NULL);
    free(js);
    json_array_foreach(a, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            ok = 1;
    json_decref(a);
    return ok;
}

/* Time claims (see auth_token.h): now within [nbf - skew, exp + skew];
 * iat not in the future; lifetime at most max_life seconds. */
int auth_check_times(long exp, const long *nbf, const long *iat, long now, long skew, long max_life,
                     const char **why)
{
    /* The claims are the signer's numbers, anywhere in long's range: every
     * comparison moves only now, skew and max_life (small, non-negative) so
     * nothing overflows (an overflowing exp - iat once let a ten-year token
     * with a very negative iat through). */
    if (exp < now - skew) {
        *why = "token_expired";
        return -1;
    }
    if (nbf != NULL && *nbf > now + skew) {
        *why = "token_not_yet_valid";
        return -1;
    }
    if (iat != NULL && *iat > now + skew) {
        *why = "token_issued_in_future";
        return -1;
    }
    /* Here exp >= now - skew > 0, so exp - max_life (max_life >= 0) cannot
     * wrap, nor can exp - now - skew (>= -2 * skew). Without iat the
     * lifetime left is measured from our clock, allowing the skew. */
    if (iat != NULL ? exp < *iat || exp - max_life > *iat : exp - now - skew > max_life) {
        *why = "token_lifetime_too_long";
        return -1;
    }
    return 0;
}

static int auth_app_token(app_req *r, const char *token, const char *alg, const char *kid)
{
    app_auth_app_key k = {0};
    jwt_t *jwt = NULL;
    const char *pem, *why = NULL, *s, *jti, *sub;
    bool found = false, replayed = false;
    int64_t citizen_id = 0;
    long exp, nbf = 0, iat = 0, now = (long)time(NULL);
    long skew = (long)server_conf.auth.clock_skew_s;
    jwt_alg_t want;
    unsigned char h[32];
    char cid[32], detail[120];
    int rc = -1, has_nbf, has_iat, high_s;

    if (look.app_key(r->db, kid, &k, &found) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (!found) {
        fail401(r, "unknown_key", "The token's key id is not registered.");
        goto done;
    }
    /* Exact, case-sensitive: "none", "None", "HS256" never match. */
    if (strcmp(alg, k.alg) != 0) {
        fail401(r, "algorithm_not_allowed", "The token's algorithm is not the one registered for its key.");
        goto done;
    }
    want = strcmp(alg, "ES256") == 0 ? JWT_ALG_ES256 : JWT_ALG_RS256;
    /* An ECDSA signature (R, S) has a twin (R, n - S) that verifies too.
     * A twin adds nothing to what its token already allows (reads for its
     * lifetime; a write once, by jti, whichever twin comes), so the high one is
     * refused only where configured: signers that do not normalise S
     * (OpenSSL's ECDSA, hence jose in Node) emit it for about half of their
     * tokens, and RFC 7518 does not ask them to. */
    if (want == JWT_ALG_ES256) {
        high_s = auth_es256_sig_high_s(strrchr(token, '.') + 1);
        if (high_s < 0) {
            fail401(r, "bad_signature", "The token's signature does not verify.");
            goto done;
        }
        if (high_s == 1 && server_conf.auth.es256_require_low_s == 1) {
            fail401(r, "high_s_signature",
                    "ES256 signatures must use the low S value (S <= n/2); normalise S to n - S.");
            goto done;
        }
    }
    pem = k.public_pem;
    if (jwt_decode(&jwt, token, (const unsigned char *)pem, (int)strlen(pem)) != 0 || jwt == NULL) {
        fail401(r, "bad_signature", "The token's signature does not verify.");
        goto done;
    }
    if (jwt_get_alg(jwt) != want) {
        fail401(r, "algorithm_not_allowed", "The token's algorithm is not the one registered for its key.");
        goto done;
    }
    s = jwt_get_grant(jwt, "iss");
    if (s == NULL || strcmp(s, k.client_name) != 0) {
        fail401(r, "wrong_issuer", "The token's issuer is not the client that owns its key.");
        goto done;
    }
    if (!aud_matches(jwt, server_conf.auth.audience)) {
        fail401(r, "wrong_audience", "The token is not meant for this service.");
        goto done;
    }
    /* exp is required; nbf and iat are optional but must be integers when present. */
    has_nbf = claim_int_opt(jwt, "nbf", &nbf);
    has_iat = claim_int_opt(jwt, "iat", &iat);
    if (claim_int(jwt, "exp", &exp) != 0 || has_nbf < 0 || has_iat < 0) {
        fail401(r, "missing_claim", "exp is required; nbf and iat, when present, must be integers.");
        goto done;
    }
    /* One second over the cap is let through: signers such as jose read the
     * clock once for iat and again for exp, so "5m" can come out as 301 s. */
    if (auth_check_times(exp, has_nbf == 0 ? &nbf : NULL, has_iat == 0 ? &iat : NULL, now, skew,
                         (long)server_conf.auth.app_token_max_ttl_s + 1, &why) != 0) {
        snprintf(detail, sizeof detail,
                 "The token is outside its validity period or lives longer than %lld seconds.",
                 (long long)server_conf.auth.app_token_max_ttl_s);
        fail401(r, why, detail);
        goto done;
    }
    jti = jwt_get_grant(jwt, "jti");
    sub = jwt_get_grant(jwt, "sub");
    if (jti == NULL || jti[0] == '\0' || strlen(jti) > 128 || sub == NULL || sub[0] == '\0' ||
        strlen(sub) > 64) {
        fail401(r, "missing_claim", "jti and sub are required.");
        goto done;
    }
    /* Reads reuse the token (no durable write per read); anything else
     * records the jti, accepted once (the row outlives exp). See the top. */
    if (r->method != M_GET && r->method != M_HEAD &&
        look.record_jti(r->db, k.client_id, jti, (int64_t)exp + skew, &replayed) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (replayed) {
        fail401(r, "token_replayed", "This token was already used for a state-changing request.");
        goto done;
    }
    pii_hash(PII_ID_NUMBER, sub, h);
    if (look.citizen_by_id_hash(r->db, h, &citizen_id, &found) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (!found) {
        fail401(r, "unknown_subject", "The token's subject is not a known citizen.");
        goto done;
    }
    r->who.kind = CALLER_CITIZEN;
    r->who.id = citizen_id;
    r->who.client_id = k.client_id;
    snprintf(cid, sizeof cid, "%lld", (long long)r->who.client_id);
    snprintf(r->who.name, sizeof r->who.name, "cit:%lld@app:%s", (long long)r->who.id, cid);
    rc = 0;
done:
    jwt_free(jwt);
    look.app_key_clear(&k);
    return rc;
}

/* libjwt 1.10 compares HMAC signatures with strcmp, which leaks through
 * timing how much of a forged signature is right (CVE-2024-25189): the
 * signature is checked here in constant time before libjwt sees the token. */
static int hs256_signature_ok(const char *token, const unsigned char *key, size_t klen)
{
    const char *dot = strrchr(token, '.');
    unsigned char mac[32], *sig = NULL;
    size_t slen = 0;
    int ok;

    if (dot == NULL)
        return 0;
    crypto_hmac_sha256(key, klen, token, (size_t)(dot - token), mac);
    sig = crypto_b64url_decode(dot + 1, &slen);
    ok = sig != NULL && crypto_equal(mac, sizeof mac, sig, slen);
    free(sig);
    return ok;
}

static int auth_operator_token(app_req *r, const char *token, const char *alg)
{
    jwt_t *jwt = NULL;
    app_auth_operator o = {0};
    bool found = false;
    const char *why = NULL, *s;
    long exp, nbf, iat, sid, now = (long)time(NULL);
    long skew = (long)server_conf.auth.clock_skew_s;
    long long opid;
    char *end = NULL;
    int rc = -1;

    if (!op_key_set || strcmp(alg, "HS256") != 0) {
        fail401(r, "algorithm_not_allowed", "Operator tokens are HS256 tokens issued by this service.");
        goto done;
    }
    if (!hs256_signature_ok(token, op_key, sizeof op_key) ||
        jwt_decode(&jwt, token, op_key, (int)sizeof op_key) != 0 || jwt == NULL ||
        jwt_get_alg(jwt) != JWT_ALG_HS256) {
        fail401(r, "bad_signature", "The token's signature does not verify.");
        goto done;
    }
    s = jwt_get_grant(jwt, "iss");
    if (s == NULL || strcmp(s, AUTH_OPERATOR_ISSUER) != 0 || !aud_matches(jwt, AUTH_OPERATOR_AUDIENCE)) {
        fail401(r, "wrong_issuer", "Not an operator token of this service.");
        goto done;
    }
    if (claim_int(jwt, "exp", &exp) || claim_int(jwt, "nbf", &nbf) || claim_int(jwt, "iat", &iat) ||
        claim_int(jwt, "sid", &sid)) {
        fail401(r, "missing_claim", "exp, nbf, iat and sid are required.");
        goto done;
    }
    if (auth_check_times(exp, &nbf, &iat, now, skew, server_conf.auth.operator_token_ttl_s, &why) != 0) {
        fail401(r, why, "The token is outside its validity period.");
        goto done;
    }
    s = jwt_get_grant(jwt, "sub");
    if (s == NULL || strncmp(s, "op:", 3) != 0 || (opid = strtoll(s + 3, &end, 10)) <= 0 || *end) {
        fail401(r, "missing_claim", "sub must name an operator.");
        goto done;
    }
    /* Roles and outlet come from the database, not the token, so a change
     * (or disabling, or logout) takes effect at once. */
    if (look.operator_session(r->db, opid, sid, &o, &found) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (!found) {
        fail401(r, "token_revoked", "This session has ended; log in again.");
        goto done;
    }
    if (strcmp(o.status, "active") != 0) {
        fail401(r, "operator_disabled", "This operator account is disabled.");
        goto done;
    }
    if (o.revoked || !o.live) {
        fail401(r, "token_revoked", "This session has ended; log in again.");
        goto done;
    }
    r->who.kind = CALLER_OPERATOR;
    r->who.id = opid;
    r->who.roles = (unsigned)o.roles;
    r->who.outlet_id = o.outlet_id;
    r->who.client_id = sid; /* the session: keeps idempotency scopes per login */
    snprintf(r->who.name, sizeof r->who.name, "op:%lld", opid);
    rc = 0;
done:
    jwt_free(jwt);
    return rc;
}

static int set_partner(app_req *r, const app_auth_partner *p)
{
    if (strcmp(p->status, "active") != 0)
        return fail401(r, "partner_disabled", "This partner is disabled.");
    r->who.kind = CALLER_PARTNER;
    r->who.id = p->id;
    r->who.partner_type = auth_partner_type_bit(p->type);
    r->who.outlet_id = p->outlet_id;
    snprintf(r->who.name, sizeof r->who.name, "ptn:%lld", (long long)r->who.id);
    return 0;
}

/* String a partner signs: METHOD \n path[?query] \n timestamp \n nonce \n
 * hex(SHA-256(body)). */
char *auth_hmac_string(const char *method, const char *path, const char *query, const char *ts,
                       const char *nonce, const void *body, size_t blen)
{
    char digest[65];
    size_t n;
    char *out;
    crypto_sha256_hex(body ? body : "", blen, digest);
    n = strlen(method) + strlen(path) + (query ? strlen(query) + 1 : 0) + strlen(ts) + strlen(nonce) + 70;
    out = app_malloc(n);
    snprintf(out, n, "%s\n%s%s%s\n%s\n%s\n%s", method, path, query && query[0] ? "?" : "",
             query && query[0] ? query : "", ts, nonce, digest);
    return out;
}

static int auth_partner_hmac(app_req *r, const char *keyid)
{
    const char *ts = app_header(r, "X-Onetrip-Timestamp");
    const char *nonce = app_header(r, "X-Onetrip-Nonce");
    const char *sig = app_header(r, "X-Onetrip-Signature");
    long window = (long)server_conf.auth.partner_hmac_window_s;
    app_auth_partner p = {0};
    bool found = false, replayed = false;
    char *secret = NULL, *msg = NULL, *end = NULL;
    unsigned char mac[32], given[32];
    long long t;
    int rc = -1;

    if (ts == NULL || nonce == NULL || sig == NULL) {
        fail401(r, "signature_incomplete",
                "X-Onetrip-Key needs X-Onetrip-Timestamp, X-Onetrip-Nonce and X-Onetrip-Signature.");
        goto done;
    }
    /* At most 12 digits: no overflow in strtoll or in the subtraction. */
    errno = 0;
    t = strtoll(ts, &end, 10);
    if (end == ts || *end != '\0' || errno != 0 || strlen(ts) > 12 || t < 0 ||
        llabs(t - (long long)time(NULL)) > window) {
        fail401(r, "stale_timestamp", "The signature's timestamp is outside the allowed window.");
        goto done;
    }
    if (strlen(nonce) < 8 || strlen(nonce) > 64) {
        fail401(r, "bad_nonce", "The nonce must be 8 to 64 characters.");
        goto done;
    }
    if (look.partner_by_hmac_key(r->db, keyid, &p, &found) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (!found || p.hmac_secret_enc == NULL ||
        (secret = pii_open("partner.hmac", p.hmac_secret_enc, p.hmac_secret_enc_len)) == NULL) {
        fail401(r, "unknown_key", "The signing key is not registered.");
        goto done;
    }
    msg = auth_hmac_string(router_method_name(r->method), r->path, r->priv->query_raw, ts, nonce,
                           r->body, r->body_len);
    crypto_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
    if (strlen(sig) != 64 || crypto_unhex(sig, given, sizeof given) != 32 ||
        !crypto_equal(mac, 32, given, 32)) {
        fail401(r, "bad_signature", "The request signature does not verify.");
        goto done;
    }
    if (set_partner(r, &p) != 0)
        goto done;
    if (look.record_nonce(r->db, r->who.id, nonce, 2 * (int64_t)window, &replayed) != 0 || replayed) {
        if (replayed)
            fail401(r, "nonce_replayed", "This nonce was already used.");
        else
            app_problem_db(r);
        memset(&r->who, 0, sizeof r->who);
        goto done;
    }
    rc = 0;
done:
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    free(msg);
    look.partner_clear(&p);
    return rc;
}

static int auth_partner_cert(app_req *r)
{
    app_auth_partner p = {0};
    bool found = false;
    int rc = -1;
    if (look.partner_by_cert(r->db, r->tls_cert_sha256, &p, &found) != 0) {
        app_problem_db(r);
        goto done;
    }
    if (!found) {
        fail401(r, "unknown_certificate", "This client certificate is not registered to a partner.");
        goto done;
    }
    if (strcmp(p.cert_status, "active") != 0) {
        fail401(r, "certificate_revoked", "This client certificate was revoked.");
        goto done;
    }
    rc = set_partner(r, &p);
done:
    look.partner_clear(&p);
    return rc;
}

int auth_authenticate(app_req *r)
{
    const char *authz = app_header(r, "Authorization");
    const char *keyid = app_header(r, "X-Onetrip-Key");
    char alg[32], kid[80];

    memset(&r->who, 0, sizeof r->who);
    r->who.kind = CALLER_ANON;
    if (authz != NULL) {
        const char *token;
        /* The scheme is case-insensitive (RFC 9110 11.1). */
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return fail401(r, "bad_authorization", "Use Authorization: Bearer <token>.");
        token = authz + 7;
        /* libjwt alloca's by token size: never hand it a large token. */
        if (strlen(token) > MAX_TOKEN)
            return fail401(r, "token_too_large", "The token is larger than 4 KiB.");
        /* Strict compact form before anything decodes it (libjwt is lenient). */
        if (auth_jws_compact_check(token) != 0)
            return fail401(r, "malformed_token", "The token is not a well-formed compact JWS.");
        if (auth_token_header(token, alg, sizeof alg, kid, sizeof kid) != 0)
            return fail401(r, "malformed_token", "The token is not a compact JWS.");
        if (kid[0] == '\0')
            return fail401(r, "unknown_key", "The token has no key id (kid).");
        if (strcmp(kid, AUTH_OPERATOR_KID) == 0)
            return auth_operator_token(r, token, alg);
        return auth_app_token(r, token, alg, kid);
    }
    if (keyid != NULL)
        return auth_partner_hmac(r, keyid);
    if (r->tls_cert_sha256[0] != '\0')
        return auth_partner_cert(r);
    return 0;
}
