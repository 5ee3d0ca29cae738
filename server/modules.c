/* modules.c - THE list of modules. Adding a module is one line in
 * ONETRIP_MODULES below (its descriptor, <name>_module in
 * modules/<name>/<name>_module.c, says the rest), and modules_check proves
 * the descriptors consistent at start-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/input.h"
#include "server/modules.h"

/* One line per module. Order matters for migrations only through their
 * version numbers; each module's descriptor declares the range it owns
 * (migrations_from..migrations_to): core 1-99, identity 100-199, people
 * 200-299, catalog 300-399, cases 400-499, violations 500-599, payments
 * 600-699, registration 700-799, supervision 800-899. */
#define ONETRIP_MODULES(X) \
    X(core)                \
    X(identity)            \
    X(people)              \
    X(catalog)             \
    X(cases)               \
    X(violations)          \
    X(payments)            \
    X(registration)        \
    X(supervision)

#define MODULE_EXTERN(name) extern const app_module name##_module;
#define MODULE_ENTRY(name) &name##_module,
ONETRIP_MODULES(MODULE_EXTERN)
const app_module *const modules_all[] = {ONETRIP_MODULES(MODULE_ENTRY)};
const int modules_count = APP_LEN(modules_all);

static const app_perm *perm_in(const app_module *const *mods, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < mods[i]->nperms; j++)
            if (strcmp(mods[i]->perms[j].name, name) == 0)
                return &mods[i]->perms[j];
    return NULL;
}

/* Two patterns that match the same paths: equal segment by segment, any
 * {name} equal to any other. */
static int same_shape(const char *a, const char *b)
{
    while (*a && *b) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        int pa = a[0] == '{', pb = b[0] == '{';
        if (pa != pb || (!pa && (la != lb || strncmp(a, b, la) != 0)))
            return 0;
        a += la;
        b += lb;
        if (*a != *b)
            return 0;
        if (*a == '/') {
            a++;
            b++;
        }
    }
    return *a == *b;
}

int modules_check(const app_module *const *mods, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const app_module *m = mods[i];
        if (m->migrations && m->migrations[0] &&
            (m->migrations_from <= 0 || m->migrations_from > m->migrations_to)) {
            snprintf(err, errlen, "module %s: has migrations but no version range (migrations_from..to)",
                     m->name);
            return -1;
        }
        for (int j = 0; m->migrations && m->migrations[j]; j++) {
            int v = m->migrations[j]->version;
            if (v < m->migrations_from || v > m->migrations_to) {
                snprintf(err, errlen, "module %s: migration %s has version %d outside the module's range %d-%d",
                         m->name, m->migrations[j]->name, v, m->migrations_from, m->migrations_to);
                return -1;
            }
        }
        for (int k = 0; k < i; k++) {
            const app_module *o = mods[k];
            if (m->migrations_from > 0 && o->migrations_from > 0 && m->migrations_from <= o->migrations_to &&
                o->migrations_from <= m->migrations_to) {
                snprintf(err, errlen, "module %s: migration range %d-%d overlaps module %s's %d-%d", m->name,
                         m->migrations_from, m->migrations_to, o->name, o->migrations_from, o->migrations_to);
                return -1;
            }
        }
        for (int j = 0; j < m->nroutes; j++) {
            const app_route *rt = &m->routes[j];
            const char *method = router_method_name(rt->method);
            if (rt->perm == NULL || perm_in(mods, n, rt->perm) == NULL) {
                snprintf(err, errlen, "module %s: route %s %s names unknown permission '%s'", m->name, method,
                         rt->pattern, rt->perm ? rt->perm : "(none)");
                return -1;
            }
            /* answered on the loop thread: no worker, no database, so no
             * caller lookup and no stored idempotent replies */
            if ((rt->flags & ROUTE_INLINE) &&
                (!(rt->flags & ROUTE_PUBLIC) || (rt->flags & (ROUTE_IDEMPOTENT | ROUTE_IDEM_OPTIONAL)))) {
                snprintf(err, errlen, "module %s: inline route %s %s must be public and not idempotent", m->name,
                         method, rt->pattern);
                return -1;
            }
            for (int k = 0; k <= i; k++)
                for (int l = 0; l < (k == i ? j : mods[k]->nroutes); l++)
                    if (mods[k]->routes[l].method == rt->method &&
                        same_shape(mods[k]->routes[l].pattern, rt->pattern)) {
                        snprintf(err, errlen, "module %s: route %s %s duplicates module %s's %s", m->name, method,
                                 rt->pattern, mods[k]->name, mods[k]->routes[l].pattern);
                        return -1;
                    }
        }
    }
    return input_check_modules(mods, n, err, errlen);
}

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
    if (modules_check(modules_all, modules_count, err, errlen) != 0 ||
        input_prepare_all(err, errlen) != 0)
        return -1;
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
