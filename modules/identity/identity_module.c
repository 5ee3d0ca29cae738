/* identity_module.c - callers: app backends, operators, partners. */
#include "server/app.h"

extern const db_migration *const identity_migrations[];

const app_module identity_module = {
    .name = "identity",
    .migrations = identity_migrations,
};
