/* identity_auth.h - the lookups server/auth.c needs from identity's tables
 * (app keys, the token replay cache, operator sessions, partners and their
 * nonces), registered through identity_module's .auth. */
#ifndef ONETRIP_IDENTITY_AUTH_H
#define ONETRIP_IDENTITY_AUTH_H

#include "server/app.h"

extern const app_authenticator identity_authenticator;

#endif
