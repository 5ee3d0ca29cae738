/* identity_http.h - handlers of the identity module (worker threads). */
#ifndef ONETRIP_IDENTITY_HTTP_H
#define ONETRIP_IDENTITY_HTTP_H

#include "server/app.h"

void identity_on_login(app_req *r);
void identity_on_refresh(app_req *r);
void identity_on_logout(app_req *r);
void identity_on_me(app_req *r);
/* GET /v1/auth/login-sources: failed-login sources and their blocks (admins, auditors). */
void identity_on_login_sources(app_req *r);
/* ["window", "admin", ...] for a ROLE_* mask (new reference). */
json_t *identity_roles_json(unsigned roles);

#endif
