/* perms.c - the permission table (every module's app_perm rows) and the
 * deny-by-default check. */
#include <stdio.h>
#include <string.h>

#include "server/audit.h"
#include "server/auth.h"
#include "server/modules.h"

const app_perm *auth_perm_find(const char *name)
{
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nperms; j++)
            if (strcmp(modules_all[i]->perms[j].name, name) == 0)
                return &modules_all[i]->perms[j];
    return NULL;
}

int auth_perm_allows(const app_perm *p, const app_principal *who)
{
    if (p == NULL || !(p->kinds & (1u << who->kind)))
        return 0;
    if (who->kind == CALLER_OPERATOR && !(p->roles & who->roles))
        return 0;
    if (who->kind == CALLER_PARTNER && !(p->partner_types & who->partner_type))
        return 0;
    return 1;
}

int auth_authorize(app_req *r)
{
    const app_perm *p = auth_perm_find(r->route->perm);

    if (auth_perm_allows(p, &r->who))
        return 0;
    if (r->who.kind == CALLER_ANON) {
        app_add_header(r, "WWW-Authenticate", "Bearer");
        app_problem(r, 401, "unauthenticated", "Authentication required",
                    "This endpoint needs credentials.", NULL);
        return -1;
    }
    audit_denied(r, r->route->perm, "permission");
    app_problem(r, 403, "forbidden", "Forbidden", "Your account may not perform this action.", NULL);
    return -1;
}

static void mask_names(char *out, size_t cap, unsigned mask, const char *const *names, int n)
{
    size_t len = 0;
    out[0] = '\0';
    if (mask == 0xffffffffu) {
        snprintf(out, cap, "any");
        return;
    }
    for (int i = 0; i < n; i++)
        if (mask & (1u << i))
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "", names[i]);
    if (len == 0)
        snprintf(out, cap, "-");
}

void auth_print_permissions(FILE *out)
{
    static const char *kinds[] = {"anon", "citizen", "operator", "partner", "system"};
    static const char *roles[] = {"window", "supervisor", "reviewer", "auditor", "admin", "inspector"};
    static const char *ptypes[] = {"post", "insurer", "hospital", "court", "dealer", "agency", "station"};
    char k[128], ro[128], pt[128];

    fprintf(out, "%-32s %-34s %-44s %-40s %s\n", "PERMISSION", "CALLERS", "OPERATOR ROLES",
            "PARTNER TYPES", "DESCRIPTION");
    for (int i = 0; i < modules_count; i++) {
        for (int j = 0; j < modules_all[i]->nperms; j++) {
            const app_perm *p = &modules_all[i]->perms[j];
            mask_names(k, sizeof k, p->kinds, kinds, 5);
            mask_names(ro, sizeof ro, (p->kinds & KIND_OPERATOR) ? p->roles : 0, roles, 6);
            mask_names(pt, sizeof pt, (p->kinds & KIND_PARTNER) ? p->partner_types : 0, ptypes, 7);
            fprintf(out, "%-32s %-34s %-44s %-40s %s\n", p->name, k, ro, pt, p->desc);
        }
    }
    fprintf(out, "\nRoutes:\n");
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nroutes; j++) {
            char plain[256];
            router_pattern_plain(modules_all[i]->routes[j].pattern, plain, sizeof plain);
            fprintf(out, "  %-7s %-48s %s\n", router_method_name(modules_all[i]->routes[j].method),
                    plain, modules_all[i]->routes[j].perm);
        }
}
