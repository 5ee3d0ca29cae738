/* auth.h - who is calling, and may they do this.
 * Runs on worker threads (uses r->db). */
#ifndef ONETRIP_AUTH_H
#define ONETRIP_AUTH_H

#include <stdio.h>
#include "server/app.h"

/* Start-up: load keys from configuration. -1 with err on bad config. */
int auth_init(char *err, size_t errlen);
void auth_cleanup(void);

/* Resolves r->who from the request's credentials (Bearer JWT of an app
 * backend or operator, partner client certificate or HMAC signature).
 * No credentials -> anonymous, 0. Bad credentials -> 401 problem, -1. */
int auth_authenticate(app_req *r);

/* Checks r->who against the route's permission: 0 allowed; -1 with a
 * 401 (anonymous) or 403 problem set, the denial audited. */
int auth_authorize(app_req *r);

/* Permission table (all modules), built at start-up. */
const app_perm *auth_perm_find(const char *name);
int auth_perm_allows(const app_perm *p, const app_principal *who);
void auth_print_permissions(FILE *out);
/* The same table as JSON: {kinds, roles, partner_types: every name;
 * permissions: [{name, module, kinds, roles, partner_types, description}]},
 * each mask spelt out as the names it holds (for tests/integration/authz_matrix). */
void auth_print_permissions_json(FILE *out);

#endif
