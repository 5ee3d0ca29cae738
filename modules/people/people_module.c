/* people_module.c - placeholder descriptor; the module's work replaces it. */
#include "server/app.h"

extern const db_migration *const people_migrations[];

const app_module people_module = {
    .name = "people",
    .migrations = people_migrations,
};
