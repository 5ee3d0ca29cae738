/* cases_module.c - placeholder descriptor; the module's work replaces it. */
#include "server/app.h"

extern const db_migration *const cases_migrations[];

const app_module cases_module = {
    .name = "cases",
    .migrations = cases_migrations,
};
