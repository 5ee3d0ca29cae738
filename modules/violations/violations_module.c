/* violations_module.c - the violations module: traffic violations sent in by
 * the issuing agencies or recorded at a window, listed for citizens with the
 * amount due today, handled on a licence (points) online or at a window,
 * cancelled by operators, and vehicle bindings between citizens. */
#include "modules/violations/violations_internal.h"
#include "modules/violations/violations_rules.h"
#include "modules/violations/violations_seed.h"

extern const db_migration *const violations_migrations[];

/* The problems this module answers (app_fail). The 409 refusals also carry
 * their code as `reason` (violations_refuse). Plate codes are registration's
 * (violations_bad_plate answers them). */
static const app_error errors[] = {
    {"not_found", 404, "Not found", NULL},
    {"licence_not_found", 404, "Licence not found", NULL},
    {"vehicle_not_found", 404, "Vehicle not found",
     "No vehicle with this plate is registered here."},
    {"search_key_required", 400, "One search key required",
     "Give exactly one of plate, decision_no, licence_id."},
    {"decision_no_format", 400, "Invalid field", "6 to 32 characters of A-Z, 0-9 and '-'."},
    {"vehicle_type_format", 400, "Invalid field", "A vehicle type code such as K33."},
    {"vehicle_type_unknown", 400, "Invalid field", "Unknown vehicle type code."},
    {"occurred_at_format", 400, "Invalid field",
     "An RFC 3339 time with a zone, e.g. 2026-03-01T08:30:00+08:00."},
    {"occurred_at_future", 400, "Invalid field", "The violation cannot be in the future."},
    {"place_invalid", 400, "Invalid field", "1 to 255 printable characters."},
    {"code_format", 400, "Invalid field", "The violation code: 4 to 6 digits."},
    {"description_invalid", 400, "Invalid field", "1 to 255 printable characters."},
    {"fine_invalid", 400, "Invalid field", "The fine in fen, 0 or more."},
    {"points_invalid", 400, "Invalid field", "Points from 0 to 12."},
    {"agency_invalid", 400, "Invalid field", "One of traffic, highway, airport, railway, urban."},
    {"source_invalid", 400, "Invalid field", "camera or officer."},
    {"served_date_format", 400, "Invalid field", "A date YYYY-MM-DD."},
    {"served_date_future", 400, "Invalid field", "The decision cannot be served in the future."},
    {"served_before_violation", 400, "Invalid field",
     "The decision cannot be served before the violation happened."},
    {"licence_id_invalid", 400, "Invalid field", "A positive licence id."},
    {"documents_invalid", 400, "Invalid field",
     "Distinct names of vehicle_licence, owner_id, owner_authorization, decision."},
    {"reason_invalid", 400, "Invalid field", "1 to 255 printable characters."},
    {"decision_conflict", 409, "Refused",
     "This decision number was already recorded with different content."},
    {"already_handled", 409, "Refused", "The violation is no longer waiting to be handled."},
    {"violation_cancelled", 409, "Refused", "The violation is no longer waiting to be handled."},
    {"no_licence", 409, "Refused", "You hold no driving licence of this bureau."},
    {"licence_expired", 409, "Refused", "The licence cannot accept violations now."},
    {"licence_full_score", 409, "Refused", "The licence cannot accept violations now."},
    {"licence_not_valid", 409, "Refused", "The licence cannot accept violations now."},
    {"vehicle_class_unknown", 409, "Refused",
     "The licence class needed for this vehicle is unknown."},
    {"class_not_covered", 409, "Refused", "The licence does not cover this vehicle's class."},
    {"points_would_reach_12", 409, "Refused",
     "These points would reach 12: handle this violation at a window."},
    {"not_cancellable", 409, "Refused", "Only recorded or handled violations can be cancelled."},
    {"payment_pending", 409, "Refused",
     "A payment for this violation is awaiting the channel's confirmation; cancel it once the "
     "payment is settled."},
    {"own_vehicle", 409, "Refused", "You own this vehicle: no binding is needed."},
    {"binding_limit", 409, "Refused", "At most three vehicles of others can be bound to you."},
    {"binding_exists", 409, "Refused", "A request for this vehicle is already pending or active."},
    {"binding_not_pending", 409, "Refused", "This request is no longer waiting for consent."},
    {"owner_changed", 409, "Refused", "You no longer own this vehicle."},
    {"binding_ended", 409, "Refused", "This binding has already ended."},
    {"no_tie_to_vehicle", 403, "No tie to the vehicle",
     "Online, only the vehicle's owner or a driver the owner bound with consent takes its "
     "violations; otherwise handle it at a window with the owner's documents."},
    {"documents_required", 422, "Documents required",
     "The licence holder has no recorded tie to this vehicle: check the vehicle's licence and the "
     "owner's identity document or written authorisation, and list them in documents."},
    {"service_not_configured", 503, "Service unavailable",
     "Handling violations is not configured in the service catalog."},
};

/* Declared inputs, checked by the dispatcher before the handler runs. What
 * needs more than a field's syntax (plates, instants, text, dates against
 * each other and today) stays in violations_http.c. */
static const char *const AGENCIES[] = {"traffic", "highway", "airport", "railway", "urban", NULL};
static const char *const SOURCES[] = {"camera", "officer", NULL};
#define DECISION_NO_PATTERN "^[A-Z0-9][A-Z0-9-]{5,31}$"
static const app_jfield RECORD_B[] = {
    {"decision_no", JF_STRING, true, VIOLATIONS_DECISION_MAX, .pattern = DECISION_NO_PATTERN,
     .code = "decision_no_format"},
    {"plate", JF_STRING, true, 32},
    {"vehicle_type", JF_STRING, true, VIOLATIONS_VTYPE_MAX, .pattern = "^[A-Z][0-9]{2}$",
     .code = "vehicle_type_format"},
    {"occurred_at", JF_STRING, true, 32},
    {"place", JF_STRING, true, VIOLATIONS_TEXT_MAX * 4},
    {"code", JF_STRING, true, VIOLATIONS_CODE_MAX, .pattern = "^[0-9]{4,6}$", .code = "code_format"},
    {"description", JF_STRING, true, VIOLATIONS_TEXT_MAX * 4},
    {"fine_fen", JF_INT, true, .min = 0, .max = VIOLATIONS_FINE_MAX_FEN, .code = "fine_invalid"},
    {"points", JF_INT, true, .min = 0, .max = VIOLATIONS_POINTS_MAX_PER_VIOLATION,
     .code = "points_invalid"},
    {"agency", JF_ENUM, true, .choices = AGENCIES, .code = "agency_invalid"},
    {"source", JF_ENUM, true, .choices = SOURCES, .code = "source_invalid"},
    {"served_date", JF_DATE, true, .code = "served_date_format"},
};
static const app_input IN_RECORD = {APP_IN_BODY(RECORD_B)};

static const app_jfield SEARCH_Q[] = {
    {"plate", JF_STRING, false, 32},
    {"decision_no", JF_STRING, false, VIOLATIONS_DECISION_MAX, .pattern = DECISION_NO_PATTERN,
     .code = "decision_no_format"},
    {"licence_id", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "licence_id_invalid"},
};
static const app_input IN_SEARCH = {APP_IN_QUERY(SEARCH_Q)};

static const app_jfield HANDLE_B[] = {{"decision_no", JF_STRING, false, VIOLATIONS_DECISION_MAX}};
static const app_input IN_HANDLE = {.path_code = "not_found", APP_IN_BODY(HANDLE_B)};

static const app_jfield WINDOW_HANDLE_B[] = {
    {"licence_id", JF_INT, true, .min = 1, .max = INT64_MAX, .code = "licence_id_invalid"},
    {"documents", JF_ARRAY, false},
};
static const app_input IN_WINDOW_HANDLE = {.path_code = "not_found", APP_IN_BODY(WINDOW_HANDLE_B)};

static const app_jfield CANCEL_B[] = {{"reason", JF_STRING, true, VIOLATIONS_TEXT_MAX * 4}};
static const app_input IN_CANCEL = {.path_code = "not_found", APP_IN_BODY(CANCEL_B)};

static const app_jfield BINDING_B[] = {{"plate", JF_STRING, true, 32}};
static const app_input IN_BINDING = {APP_IN_BODY(BINDING_B)};

static const app_input IN_BINDING_ID = {.path_code = "not_found"};

/* Who records (route data): the agency intake and the window share one
 * handler. The two handling routes share one too (window or app). */
static const char BY_PARTNER[] = "partner", BY_OPERATOR[] = "operator";
static const bool AT_WINDOW = true, ONLINE = false;
static const bool HELD = true, OWNED = false;

static const app_route routes[] = {
    {M_POST, "/v1/violations", violations_on_record, "violations.intake",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_RECORD, .data = BY_PARTNER},
    {M_POST, "/v1/violations/window", violations_on_record, "violations.record_window",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_RECORD, .data = BY_OPERATOR},
    {M_GET, "/v1/violations", violations_on_search, "violations.search", 0, .in = &IN_SEARCH},
    {M_POST, "/v1/violations/{id:int}/handle", violations_on_handle, "violations.handle",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_HANDLE, .data = &ONLINE},
    {M_POST, "/v1/violations/{id:int}/handle-at-window", violations_on_handle,
     "violations.handle_window", ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_WINDOW_HANDLE,
     .data = &AT_WINDOW},
    {M_POST, "/v1/violations/{id:int}/cancel", violations_on_cancel, "violations.cancel",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_CANCEL},
    {M_GET, "/v1/me/violations", violations_on_list_mine, "violations.read_own", 0},
    {M_POST, "/v1/me/bindings", violations_on_binding_create, "violations.bindings",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_BINDING},
    {M_GET, "/v1/me/bindings", violations_on_bindings_list, "violations.bindings", 0, .data = &HELD},
    {M_DELETE, "/v1/me/bindings/{id:int}", violations_on_binding_delete, "violations.bindings",
     ROUTE_IDEMPOTENT, .in = &IN_BINDING_ID},
    {M_GET, "/v1/me/binding-requests", violations_on_bindings_list, "violations.bindings", 0,
     .data = &OWNED},
    {M_POST, "/v1/me/binding-requests/{id:int}/consent", violations_on_binding_consent,
     "violations.bindings", ROUTE_IDEMPOTENT, .in = &IN_BINDING_ID},
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
    .name = "violations", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = violations_migrations, .migrations_from = 500, .migrations_to = 599,
    .seed = &violations_seeder, APP_LIST(errors, errors),
};
