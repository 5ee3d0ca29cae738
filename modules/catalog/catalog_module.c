/* catalog_module.c - the service catalog: items with their guides, read by
 * anyone; versioned changes by administrators. */
#include "modules/catalog/catalog_http.h"
#include "server/app.h"

extern const db_migration *const catalog_migrations[];

static const app_route routes[] = {
    {M_GET, "/v1/catalog/items", catalog_on_list, "public", ROUTE_PUBLIC},
    {M_GET, "/v1/catalog/items/{code}", catalog_on_get, "public", ROUTE_PUBLIC},
    {M_GET, "/v1/catalog/items/{code}/notice", catalog_on_notice, "public", ROUTE_PUBLIC},
    {M_PUT, "/v1/catalog/items/{code}", catalog_on_put, "catalog.admin", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
};

static const app_perm perms[] = {
    {"catalog.admin", KIND_OPERATOR, ROLE_ADMIN, 0,
     "create or change a service item (each change is a new version)"},
};

const app_module catalog_module = {
    .name = "catalog",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = catalog_migrations,
    .migrations_from = 300, .migrations_to = 399,
};
