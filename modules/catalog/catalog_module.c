/* catalog_module.c - the service catalog: items with their guides, read by
 * anyone; versioned changes by administrators. */
#include "modules/catalog/catalog_http.h"
#include "server/app.h"

extern const db_migration *const catalog_migrations[];

/* The problems this module answers (app_fail); the bad_* of a changed
 * item are catalog_item_validate's reasons. */
static const app_error errors[] = {
    {"item_not_found", 404, "Service item not found", NULL},
    {"bad_code", 400, "Invalid item code", "2-32 of A-Z, 0-9 and '-'."},
    {"bad_category", 400, "Unknown category", "category is vehicle, driver, violation or permit."},
    {"bad_channel", 400, "Unknown channel", NULL},
    {"bad_name", 400, "Name required", NULL},
    {"bad_channels", 400, "Invalid service item", NULL},
    {"bad_trips", 400, "Invalid service item", NULL},
    {"bad_time_limit", 400, "Invalid service item", NULL},
    {"bad_materials", 400, "Invalid service item", NULL},
    {"bad_fees", 400, "Invalid service item", NULL},
    {"bad_steps", 400, "Invalid service item", NULL},
    {"concurrent_change", 409, "Changed concurrently", "Retry the change."},
};

static const char *const CATEGORIES[] = {"vehicle", "driver", "violation", "permit", NULL};
static const char *const CHANNELS[] = {"app",      "window", "post",  "dealer",
                                       "insurer",  "hospital", "court", "station", NULL};
static const app_jfield LIST_Q[] = {
    {"category", JF_ENUM, false, .choices = CATEGORIES, .code = "bad_category"},
    {"channel", JF_ENUM, false, .choices = CHANNELS, .code = "bad_channel"},
};
static const app_input IN_LIST = {APP_IN_QUERY(LIST_Q)};

/* Item codes: 2..32 of A-Z, 0-9 and '-' (not first), as catalog_code_ok. */
#define CODE_PATTERN "^[A-Z0-9][A-Z0-9-]{1,31}$"
static const app_jfield CODE[] = {{"code", JF_STRING, true, 32, .pattern = CODE_PATTERN}};
static const app_input IN_ITEM = {.path_code = "item_not_found", APP_IN_PATH(CODE)};

static const app_jfield PUT_B[] = {
    {"name", JF_STRING, true, 128, .min_len = 1, .code = "bad_name"},
    {"category", JF_ENUM, true, 16, .choices = CATEGORIES, .code = "bad_category"},
    {"channels", JF_ARRAY, true},
    {"trips", JF_INT, true, .min = 0, .max = 1, .code = "bad_trips"},
    {"statutory_days", JF_INT, true, .min = 0, .max = 365, .code = "bad_time_limit"},
    {"promised_days", JF_INT, true, .min = 0, .max = 365, .code = "bad_time_limit"},
    {"materials", JF_ARRAY, true},
    {"fees", JF_ARRAY, true},
    {"steps", JF_ARRAY, true},
    {"legal_basis", JF_STRING, true, 2000},
    {"sample_form", JF_STRING, false, 2000},
    {"allow_missing", JF_BOOL, false},
    {"allow_commitment", JF_BOOL, false},
};
static const app_input IN_PUT = {.path_code = "bad_code", APP_IN_PATH(CODE), APP_IN_BODY(PUT_B)};

/* One handler answers an item as JSON or as the printable notice: the
 * route's data says which. */
static const catalog_view AS_JSON = CATALOG_VIEW_JSON, AS_NOTICE = CATALOG_VIEW_NOTICE;

static const app_route routes[] = {
    {M_GET, "/v1/catalog/items", catalog_on_list, "public", ROUTE_PUBLIC, .in = &IN_LIST},
    {M_GET, "/v1/catalog/items/{code}", catalog_on_item, "public", ROUTE_PUBLIC, .in = &IN_ITEM,
     .data = &AS_JSON},
    {M_GET, "/v1/catalog/items/{code}/notice", catalog_on_item, "public", ROUTE_PUBLIC,
     .in = &IN_ITEM, .data = &AS_NOTICE},
    {M_PUT, "/v1/catalog/items/{code}", catalog_on_put, "catalog.admin", ROUTE_JSON | ROUTE_IDEM_OPTIONAL,
     .in = &IN_PUT},
};

static const app_perm perms[] = {
    {"catalog.admin", KIND_OPERATOR, ROLE_ADMIN, 0,
     "create or change a service item (each change is a new version)"},
};

const app_module catalog_module = {
    .name = "catalog", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = catalog_migrations, .migrations_from = 300, .migrations_to = 399,
    APP_LIST(errors, errors),
};
