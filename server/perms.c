/* perms.c - the permission table (every module's app_perm rows) and the
 * deny-by-default check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

static const char *const kinds[] = {"anon", "citizen", "operator", "partner", "system"};
static const char *const roles[] = {"window", "supervisor", "reviewer", "auditor", "admin", "inspector"};
static const char *const ptypes[] = {"post", "insurer", "hospital", "court", "dealer", "agency", "station"};

void auth_print_permissions(FILE *out)
{
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

/* The names a mask holds, each spelt out ("any" becomes every name). */
static json_t *mask_json(unsigned mask, const char *const *names, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        if (mask & (1u << i))
            json_array_append_new(a, json_string(names[i]));
    return a;
}

static json_t *names_json(const char *const *names, int n)
{
    return mask_json(0xffffffffu, names, n);
}

void auth_print_permissions_json(FILE *out)
{
    json_t *all = json_pack("{s o s o s o s []}", "kinds", names_json(kinds, 5), "roles",
                            names_json(roles, 6), "partner_types", names_json(ptypes, 7),
                            "permissions");
    json_t *list = json_object_get(all, "permissions");
    char *s;

    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nperms; j++) {
            const app_perm *p = &modules_all[i]->perms[j];
            json_array_append_new(
                list, json_pack("{s s s s s o s o s o s s}", "name", p->name, "module",
                                modules_all[i]->name, "kinds", mask_json(p->kinds, kinds, 5), "roles",
                                mask_json((p->kinds & KIND_OPERATOR) ? p->roles : 0, roles, 6),
                                "partner_types",
                                mask_json((p->kinds & KIND_PARTNER) ? p->partner_types : 0, ptypes, 7),
                                "description", p->desc));
        }
    s = json_dumps(all, JSON_INDENT(1));
    fprintf(out, "%s\n", s);
    free(s);
    json_decref(all);
}
