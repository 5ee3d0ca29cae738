/* payments_module.c - placeholder descriptor; the module's work replaces it. */
#include "server/app.h"

extern const db_migration *const payments_migrations[];

const app_module payments_module = {
    .name = "payments",
    .migrations = payments_migrations,
};
