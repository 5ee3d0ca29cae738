/* registration_module.c - placeholder descriptor; the module's work replaces it. */
#include "server/app.h"

extern const db_migration *const registration_migrations[];

const app_module registration_module = {
    .name = "registration",
    .migrations = registration_migrations,
};
