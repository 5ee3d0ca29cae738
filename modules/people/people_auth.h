/* people_auth.h - the citizen lookup server/auth.c needs, registered
 * through people_module's .auth. */
#ifndef ONETRIP_PEOPLE_AUTH_H
#define ONETRIP_PEOPLE_AUTH_H

#include "server/app.h"

extern const app_authenticator people_authenticator;

#endif
