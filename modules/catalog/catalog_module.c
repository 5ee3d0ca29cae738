/* catalog_module.c - placeholder descriptor; the module's work replaces it. */
#include "server/app.h"

extern const db_migration *const catalog_migrations[];

const app_module catalog_module = {
    .name = "catalog",
    .migrations = catalog_migrations,
};
