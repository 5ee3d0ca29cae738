/* modules.h - the list of every module, and what the server derives from it. */
#ifndef ONETRIP_MODULES_H
#define ONETRIP_MODULES_H

#include "server/app.h"
#include "server/router.h"

extern const app_module *const modules_all[];
extern const int modules_count;

/* Every migration of every module (core first), in one malloc'd array. */
const db_migration **modules_migrations(int *n);
/* Router with every module's routes; NULL with err on a bad table. */
router *modules_router(char *err, size_t errlen);
/* Checks every route's permission exists; runs module init functions. */
int modules_init(char *err, size_t errlen);
const app_job *modules_job_find(const char *name);
const app_cmd *modules_cmd_find(const char *name);
#endif
