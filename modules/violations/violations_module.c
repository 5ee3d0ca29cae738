/* violations_module.c - the violations module: traffic violations sent in by
 * the issuing agencies or recorded at a window, listed for citizens with the
 * amount due today, handled on a licence (points) online or at a window,
 * cancelled by operators, and vehicle bindings between citizens. */
#include "modules/violations/violations_internal.h"

extern const db_migration *const violations_migrations[];

static const app_route routes[] = {
    {M_POST, "/v1/violations", violations_on_intake, "violations.intake",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_POST, "/v1/violations/window", violations_on_record_window, "violations.record_window",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/violations", violations_on_search, "violations.search", 0},
    {M_POST, "/v1/violations/{id}/handle", violations_on_handle, "violations.handle",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_POST, "/v1/violations/{id}/handle-at-window", violations_on_handle_window,
     "violations.handle_window", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_POST, "/v1/violations/{id}/cancel", violations_on_cancel, "violations.cancel", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/me/violations", violations_on_list_mine, "violations.read_own", 0},
    {M_POST, "/v1/me/bindings", violations_on_binding_create, "violations.bindings",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_GET, "/v1/me/bindings", violations_on_bindings_list, "violations.bindings", 0},
    {M_DELETE, "/v1/me/bindings/{id}", violations_on_binding_delete, "violations.bindings",
     ROUTE_IDEMPOTENT},
    {M_GET, "/v1/me/binding-requests", violations_on_binding_requests, "violations.bindings", 0},
    {M_POST, "/v1/me/binding-requests/{id}/consent", violations_on_binding_consent,
     "violations.bindings", ROUTE_IDEMPOTENT},
};

static const app_perm perms[] = {
    {"violations.intake", KIND_PARTNER, 0, PARTNER_AGENCY,
     "issuing agencies send violations in"},
    {"violations.record_window", KIND_OPERATOR, ROLE_WINDOW, 0,
     "record a violation at a window"},
    {"violations.search", KIND_OPERATOR, ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_REVIEWER | ROLE_AUDITOR,
     0, "search violations by plate, decision number or licence (audited)"},
    {"violations.handle", KIND_CITIZEN, 0, 0, "handle a violation on one's own licence online"},
    {"violations.handle_window", KIND_OPERATOR, ROLE_WINDOW, 0,
     "handle a violation on a licence at a window (may reach 12 points)"},
    {"violations.cancel", KIND_OPERATOR, ROLE_WINDOW | ROLE_SUPERVISOR, 0,
     "cancel a recorded or handled violation with a reason"},
    {"violations.read_own", KIND_CITIZEN, 0, 0,
     "list the violations of one's vehicles, bound vehicles and licence"},
    {"violations.bindings", KIND_CITIZEN, 0, 0,
     "bind vehicles of others (with consent), answer and withdraw bindings"},
};

const app_module violations_module = {
    .name = "violations",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = violations_migrations,
    .migrations_from = 500, .migrations_to = 599,
};
