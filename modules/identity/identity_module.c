/* identity_module.c - callers: app backends, operators, partners.
 * The authentication mechanism is in server/auth.c (it runs before every
 * route) and looks credentials up through this module's .auth
 * (identity_auth.c); this module manages the identities (CLI), operator
 * sessions and /v1/me. */
#include "modules/identity/identity_auth.h"
#include "modules/identity/identity_cli.h"
#include "modules/identity/identity_http.h"
#include "modules/identity/identity_jobs.h"
#include "server/app.h"

extern const db_migration *const identity_migrations[];

/* The problems this module answers (app_fail). */
static const app_error errors[] = {
    {"invalid_credentials", 401, "Login failed", "Unknown username or wrong password."},
    {"operator_disabled", 401, "Account disabled", "This operator account is disabled."},
    {"login_unavailable", 503, "Operator login is not configured", NULL},
    {"login_busy", 503, "Too many logins at once", "Retry in a moment."},
    {"source_locked", 429, "Too many failed logins", NULL},
    {"login_backoff", 429, "Too soon after a failed login",
     "Wait before trying again; each failure makes the wait longer."},
    {"invalid_refresh_token", 401, "Refresh failed",
     "The refresh token is unknown, expired or revoked; log in again."},
    {"refresh_token_reused", 401, "Refresh failed",
     "This refresh token was already used; the session has been ended."},
    {"bad_query", 400, "Bad query", NULL},
    {"not_found", 404, "Not found", NULL},
};

/* Declared inputs, checked by the dispatcher before the handler runs. */
static const app_jfield LOGIN_B[] = {
    {"username", JF_STRING, true, 64},
    {"password", JF_STRING, true, 256},
};
static const app_input IN_LOGIN = {APP_IN_BODY(LOGIN_B)};

static const app_jfield REFRESH_B[] = {{"refresh_token", JF_STRING, true, 128}};
static const app_input IN_REFRESH = {APP_IN_BODY(REFRESH_B)};

static const app_jfield SOURCES_Q[] = {
    {"operator_id", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "bad_query",
     .detail = "operator_id must be a positive whole number."},
    /* the address's form is checked by the handler (identity_login_source_key) */
    {"address", JF_STRING, false, 64, .code = "bad_query",
     .detail = "address must be an IPv4 or IPv6 address."},
    {"limit", JF_INT, false, .min = 1, .max = 200, .code = "bad_query",
     .detail = "limit must be a whole number from 1 to 200."},
};
static const app_input IN_SOURCES = {APP_IN_QUERY(SOURCES_Q)};

static const app_input IN_NONE = {0}; /* no parameters, no body */

static const app_route routes[] = {
    {M_POST, "/v1/auth/login", identity_on_login, "public", ROUTE_PUBLIC | ROUTE_JSON, .in = &IN_LOGIN},
    {M_POST, "/v1/auth/refresh", identity_on_refresh, "public", ROUTE_PUBLIC | ROUTE_JSON,
     .in = &IN_REFRESH},
    {M_POST, "/v1/auth/logout", identity_on_logout, "identity.logout", 0, .in = &IN_NONE},
    {M_GET, "/v1/me", identity_on_me, "identity.me", 0, .in = &IN_NONE},
    {M_GET, "/v1/auth/login-sources", identity_on_login_sources, "identity.login_sources_read", 0,
     .in = &IN_SOURCES},
};

static const app_perm perms[] = {
    {"identity.me", KIND_CITIZEN | KIND_OPERATOR | KIND_PARTNER, ROLE_ALL, PARTNER_ALL,
     "see who the credentials identify (own profile, masked)"},
    {"identity.logout", KIND_OPERATOR, ROLE_ALL, 0, "end the operator's own session"},
    {"identity.login_sources_read", KIND_OPERATOR, ROLE_ADMIN | ROLE_AUDITOR, 0,
     "see failed-login sources (addresses, usernames at addresses) and their back-offs and lockouts"},
};

/* The login policy (login_policy.h): failures lock out their source, never
 * the account. */
identity_settings identity_conf;

static const app_conf conf[] = {
    APP_CONF_INT("auth.max_failed_logins", identity_conf.max_failed_logins, "5", 1, 100,
                 "failed logins of one username from one address before that pair is locked out"),
    APP_CONF_INT("auth.max_failed_logins_per_address", identity_conf.max_failed_logins_per_address,
                 "20", 1, 10000,
                 "failed logins from one address (any usernames) before the address is locked out"),
    APP_CONF_INT("auth.lock_s", identity_conf.lock_s, "900", 1, 86400,
                 "a source's first lockout; each further one doubles (at most a day)"),
    APP_CONF_INT("auth.login_backoff_s", identity_conf.login_backoff_s, "1", 0, 3600,
                 "wait after a username's n-th failure at an address: this * 2^(n-1) s, at most auth.lock_s"),
};

static const app_job jobs[] = {
    {"identity_prune", 600, identity_job_prune},
};

const app_module identity_module = {
    .name = "identity", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = identity_migrations, .migrations_from = 100, .migrations_to = 199,
    APP_LIST(jobs, jobs), .cmds = identity_cmds, .ncmds = IDENTITY_NCMDS, APP_LIST(conf, conf),
    .auth = &identity_authenticator, APP_LIST(errors, errors),
};
