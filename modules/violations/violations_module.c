/* violations_module.c - placeholder descriptor; the module's work replaces it. */
#include "server/app.h"

extern const db_migration *const violations_migrations[];

const app_module violations_module = {
    .name = "violations",
    .migrations = violations_migrations,
};
