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

static const app_route routes[] = {
    {M_POST, "/v1/auth/login", identity_on_login, "public", ROUTE_PUBLIC | ROUTE_JSON},
    {M_POST, "/v1/auth/refresh", identity_on_refresh, "public", ROUTE_PUBLIC | ROUTE_JSON},
    {M_POST, "/v1/auth/logout", identity_on_logout, "identity.logout", 0},
    {M_GET, "/v1/me", identity_on_me, "identity.me", 0},
    {M_GET, "/v1/auth/login-sources", identity_on_login_sources, "identity.login_sources_read", 0},
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
    .name = "identity",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = identity_migrations,
    .migrations_from = 100, .migrations_to = 199,
    .jobs = jobs, .njobs = APP_LEN(jobs),
    .cmds = identity_cmds, .ncmds = IDENTITY_NCMDS,
    .conf = conf, .nconf = APP_LEN(conf),
    .auth = &identity_authenticator,
};
