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
/* Start-up checks of a list of descriptors: every migration inside its
 * module's version range and no two ranges overlapping, every route's
 * permission in the permission table, inline routes public (and not
 * idempotent), no two routes with the same method matching the same paths,
 * error tables and input declarations (input_check_modules).
 * -1 with one line naming the module in err. */
int modules_check(const app_module *const *mods, int n, char *err, size_t errlen);
/* modules_check on every module, the declarations' patterns compiled
 * (input_prepare_all), then the module init functions. */
int modules_init(char *err, size_t errlen);
const app_job *modules_job_find(const char *name);
const app_cmd *modules_cmd_find(const char *name);
#endif
