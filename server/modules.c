/* modules.c - THE list of modules. Adding a module = one line here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth.h"
#include "server/modules.h"

extern const app_module core_module;
extern const app_module identity_module;
extern const app_module people_module;
extern const app_module catalog_module;
extern const app_module cases_module;
extern const app_module violations_module;
extern const app_module payments_module;
extern const app_module registration_module;

/* Order matters for migrations only through their version numbers; each
 * module owns a range: core 1-99, identity 100-199, people 200-299,
 * catalog 300-399, cases 400-499, violations 500-599, payments 600-699,
 * registration 700-799. */
const app_module *const modules_all[] = {
    &core_module,
    &identity_module,
    &people_module,
    &catalog_module,
    &cases_module,
    &violations_module,
    &payments_module,
    &registration_module,
};
const int modules_count = APP_LEN(modules_all);

const db_migration **modules_migrations(int *n)
{
    int total = 0, k = 0;
    const db_migration **out;
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; modules_all[i]->migrations && modules_all[i]->migrations[j]; j++)
            total++;
    out = app_calloc((size_t)total + 1, sizeof *out);
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; modules_all[i]->migrations && modules_all[i]->migrations[j]; j++)
            out[k++] = modules_all[i]->migrations[j];
    *n = total;
    return out;
}

router *modules_router(char *err, size_t errlen)
{
    router *rt = router_new();
    for (int i = 0; i < modules_count; i++) {
        const app_module *m = modules_all[i];
        for (int j = 0; j < m->nroutes; j++) {
            if (router_add(rt, &m->routes[j]) != 0) {
                snprintf(err, errlen, "module %s: route %s %s is malformed or duplicated", m->name,
                         router_method_name(m->routes[j].method), m->routes[j].pattern);
                router_free(rt);
                return NULL;
            }
        }
    }
    return rt;
}

int modules_init(char *err, size_t errlen)
{
    for (int i = 0; i < modules_count; i++) {
        const app_module *m = modules_all[i];
        for (int j = 0; j < m->nroutes; j++) {
            if (m->routes[j].perm == NULL || auth_perm_find(m->routes[j].perm) == NULL) {
                snprintf(err, errlen, "module %s: route %s %s names unknown permission '%s'", m->name,
                         router_method_name(m->routes[j].method), m->routes[j].pattern,
                         m->routes[j].perm ? m->routes[j].perm : "(none)");
                return -1;
            }
        }
    }
    for (int i = 0; i < modules_count; i++) {
        if (modules_all[i]->init && modules_all[i]->init() != 0) {
            snprintf(err, errlen, "module %s failed to initialise (see log)", modules_all[i]->name);
            return -1;
        }
    }
    return 0;
}

const app_job *modules_job_find(const char *name)
{
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->njobs; j++)
            if (strcmp(modules_all[i]->jobs[j].name, name) == 0)
                return &modules_all[i]->jobs[j];
    return NULL;
}

const app_cmd *modules_cmd_find(const char *name)
{
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->ncmds; j++)
            if (strcmp(modules_all[i]->cmds[j].name, name) == 0)
                return &modules_all[i]->cmds[j];
    return NULL;
}
