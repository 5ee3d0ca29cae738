/* identity_module.c - callers: app backends, operators, partners.
 * Authentication itself is in server/auth.c (it runs before every route);
 * this module manages the identities (CLI), operator sessions and /v1/me. */
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
};

static const app_perm perms[] = {
    {"identity.me", KIND_CITIZEN | KIND_OPERATOR | KIND_PARTNER, ROLE_ALL, PARTNER_ALL,
     "see who the credentials identify (own profile, masked)"},
    {"identity.logout", KIND_OPERATOR, ROLE_ALL, 0, "end the operator's own session"},
};

static const app_job jobs[] = {
    {"identity_prune", 600, identity_job_prune},
};

const app_module identity_module = {
    .name = "identity",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = identity_migrations,
    .jobs = jobs, .njobs = APP_LEN(jobs),
    .cmds = identity_cmds, .ncmds = IDENTITY_NCMDS,
};
