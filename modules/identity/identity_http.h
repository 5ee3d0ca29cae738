/* identity_http.h - handlers of the identity module (worker threads). */
#ifndef ONETRIP_IDENTITY_HTTP_H
#define ONETRIP_IDENTITY_HTTP_H

#include "server/app.h"

/* The login policy's configuration ("auth.lock_s" is identity_conf.lock_s),
 * bound and checked at start-up (identity_module.c). */
typedef struct identity_settings {
    int64_t max_failed_logins, max_failed_logins_per_address, lock_s, login_backoff_s;
} identity_settings;
extern identity_settings identity_conf;

void identity_on_login(app_req *r);
void identity_on_refresh(app_req *r);
void identity_on_logout(app_req *r);
void identity_on_me(app_req *r);
/* GET /v1/auth/login-sources: failed-login sources and their blocks (admins, auditors). */
void identity_on_login_sources(app_req *r);
/* ["window", "admin", ...] for a ROLE_* mask (new reference). */
json_t *identity_roles_json(unsigned roles);

#endif
