/* registration_module.c - vehicle registration pre-entry (issue 7): the
 * module's routes, permissions, jobs, command and configuration. */
#include <stdio.h>

#include "modules/registration/registration_internal.h"

extern const db_migration *const registration_migrations[];

#define OPS_READ (ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_REVIEWER | ROLE_AUDITOR | ROLE_ADMIN | ROLE_INSPECTOR)

static const app_perm perms[] = {
    {"registration.apply", KIND_CITIZEN | KIND_PARTNER, 0, PARTNER_DEALER,
     "create, edit, submit and cancel a registration application; choose a plate (owner or "
     "selling dealer)"},
    {"registration.read", KIND_CITIZEN | KIND_PARTNER | KIND_OPERATOR, OPS_READ, PARTNER_DEALER,
     "read registration applications (own, the dealer's sales, or any for staff)"},
    {"registration.book", KIND_CITIZEN | KIND_PARTNER | KIND_OPERATOR, ROLE_WINDOW, PARTNER_DEALER,
     "book or cancel an inspection appointment"},
    {"registration.inspect", KIND_OPERATOR | KIND_PARTNER, ROLE_INSPECTOR, PARTNER_STATION,
     "record the inspection result of an appointment at the caller's own station (station "
     "terminal, or an inspector operator of that station), once its slot has started"},
    {"registration.station_appointments", KIND_OPERATOR | KIND_PARTNER,
     ROLE_INSPECTOR | ROLE_ADMIN | ROLE_SUPERVISOR, PARTNER_STATION,
     "list the appointments of a station's day (own station; admins and supervisors any)"},
    {"registration.insurance_confirm", KIND_PARTNER, 0, PARTNER_INSURER,
     "push (or correct the validity of) a compulsory insurance policy the insurer issued"},
    {"registration.complete", KIND_OPERATOR, ROLE_WINDOW, 0,
     "complete a passed registration; hand over collected documents"},
    {"registration.plates_manage", KIND_OPERATOR, ROLE_ADMIN | ROLE_WINDOW, 0,
     "load, block and unblock plate numbers"},
    {"registration.plates_read", KIND_OPERATOR, ROLE_ADMIN | ROLE_WINDOW | ROLE_SUPERVISOR, 0,
     "see plate pool counts"},
    {"registration.slots_publish", KIND_OPERATOR, ROLE_INSPECTOR | ROLE_ADMIN, 0,
     "publish inspection slots (own station; admins any)"},
    {"registration.stations_read", KIND_CITIZEN | KIND_PARTNER | KIND_OPERATOR, ROLE_ALL,
     PARTNER_DEALER | PARTNER_STATION, "list inspection stations, their slots and free places"},
    {"registration.mailing", KIND_PARTNER | KIND_OPERATOR, ROLE_WINDOW, PARTNER_POST,
     "list and dispatch mailing orders of registered vehicles"},
};

/* The problems this module answers (app_fail). Codes kept from before the
 * table: tests and clients rely on them. "materials_missing" is the
 * one-time notice here (422); cases answers its own as a 409 (app_fail
 * reads the route's module first). */
static const app_error errors[] = {
    {"not_found", 404, "Not found", NULL},
    {"materials_missing", 422, "Application incomplete", "Everything still missing is listed at once."},
    {"invalid_state", 409, "Wrong application state", NULL},
    {"bad_query", 400, "Bad query", NULL},
    {"unknown_field", 400, "Unknown field", NULL},
    {"missing_field", 400, "Missing field", NULL},
    /* application fields (parse_fields lists every one at once) */
    {"vehicle_type_unknown", 422, "Invalid application", NULL},
    {"use_type_unknown", 422, "Invalid application", NULL},
    {"engine_no_format", 422, "Invalid application", NULL},
    {"invoice_amount_not_positive", 422, "Invalid application", NULL},
    {"delivery_unknown", 422, "Invalid application", NULL},
    {"materials_format", 422, "Invalid application", NULL},
    {"empty", 422, "Empty value", NULL},
    {"vin_length", 422, "Invalid VIN", NULL},
    {"vin_character", 422, "Invalid VIN", NULL},
    {"vin_forbidden_letter", 422, "Invalid VIN", NULL},
    {"vin_check_digit", 422, "Invalid VIN", NULL},
    {"citizen_unknown", 422, "Unknown owner", "No citizen is registered with this ID number."},
    /* submission and completion */
    {"vin_registered", 409, "VIN already in use", NULL},
    {"engine_no_registered", 409, "Engine number already in use", NULL},
    {"vin_in_open_application", 409, "VIN already in use", NULL},
    {"engine_no_in_open_application", 409, "Engine number already in use", NULL},
    {"case_refused", 409, "Case refused", NULL},
    {"insurance_not_confirmed", 409, "Insurance not confirmed",
     "The insurer has not confirmed a compulsory insurance policy for this vehicle under the "
     "policy number of the application."},
    {"insurance_not_valid", 409, "Insurance not in force",
     "The compulsory insurance policy is not valid today."},
    {"plate_not_reserved", 409, "No reserved plate", "The application holds no reserved plate number."},
    {"vehicle_exists", 409, "Vehicle already registered",
     "The plate, VIN or engine number is already registered."},
    {"delivery_by_mail", 409, "Documents go by mail", "The owner chose delivery by mail."},
    /* plates */
    {"plate_prefix", 422, "Invalid plate prefix", NULL},
    {"numbers_count", 422, "Invalid number list", "Send between 1 and 10000 numbers."},
    {"plate_length", 422, "Invalid plate number", NULL},
    {"plate_character", 422, "Invalid plate number", NULL},
    {"plate_forbidden_letter", 422, "Invalid plate number", NULL},
    {"plate_too_many_letters", 422, "Invalid plate number", NULL},
    {"plate_state", 409, "Wrong plate state", NULL},
    {"cooling_off", 409, "Cooling-off period",
     "Reservations lapsed or were given up too often; plate choice is paused until the time "
     "given."},
    {"selection_disabled", 409, "This way of choosing is switched off", NULL},
    {"plate_pool_empty", 409, "No free numbers", "The pool has no free number for this prefix."},
    {"not_offered", 422, "Number not offered", "Choose one of the numbers of the current offer."},
    {"plate_unavailable", 409, "Number not available",
     "This number is taken or not issued; choose another."},
    {"source_unknown", 422, "Unknown source", "source is offer or custom."},
    /* stations, slots, appointments, inspection */
    {"not_your_station", 403, "Not your station", NULL},
    {"slot_overlap", 409, "Slot overlaps another", "The station already has a slot in that time."},
    {"instant_format", 422, "Invalid time", "Use YYYY-MM-DDTHH:MM:SSZ or an offset such as +08:00."},
    {"slot_length", 422, "Invalid slot", "A slot ends after it starts and lasts at most 12 hours."},
    {"slot_in_past", 422, "Slot in the past", NULL},
    {"capacity_range", 422, "Invalid capacity", "Between 1 and 10000."},
    {"booking_barred", 409, "Online booking barred",
     "Too many missed appointments; book at a window or wait."},
    {"slot_unknown", 422, "No such slot", NULL},
    {"slot_started", 409, "Slot already started", "Choose a later slot."},
    {"slot_full", 409, "Slot full", "No place left; choose another slot."},
    {"reinspection_too_early", 409, "Choose a later slot",
     "A vehicle that failed is checked again only in a slot that starts after the failed one "
     "ended."},
    {"slot_not_started", 409, "Slot not started",
     "The result is recorded once the appointment's slot has started."},
    {"result_unknown", 422, "Unknown result", "result is pass or fail."},
    {"reasons_format", 422, "Invalid reasons", "Up to 20 reasons of 1 to 128 characters."},
    {"reasons_not_allowed", 422, "A pass has no failure reasons", NULL},
    {"reasons_required", 422, "A failure needs its reasons", "List every reason the vehicle failed."},
    /* insurance policies */
    {"policy_vin_conflict", 409, "Policy names another vehicle",
     "This insurer already pushed the policy number for another VIN."},
    {"policy_no_format", 422, "Invalid policy number", "1 to 64 letters, digits, '-' or '/'."},
    {"policy_kind_unknown", 422, "Unknown policy kind",
     "Only compulsory insurance policies are pushed here."},
    {"date_format", 422, "Invalid date", "Use YYYY-MM-DD."},
    {"validity_range", 422, "Invalid validity",
     "valid_until is on or after valid_from, at most a year later."},
};

/* Declared inputs, checked by the dispatcher before the handler runs. A
 * malformed id answers like an unknown one (404 not_found). */
static const app_input IN_ID = {.path_code = "not_found"};
static const app_input IN_NONE = {0};

/* The draft's fields: types and lengths here; the format of each value is
 * checked by the handler, which lists every bad field in one 422. */
static const app_jfield APP_B[] = {
    {"vehicle_type", JF_STRING, false, 16},
    {"use_type", JF_STRING, false, 16},
    {"brand", JF_STRING, false, 64},
    {"model", JF_STRING, false, 64},
    {"vin", JF_STRING, false, 64},
    {"engine_no", JF_STRING, false, 64},
    {"invoice_no", JF_STRING, false, 32},
    {"invoice_amount_fen", JF_INT, false},
    {"insurance_policy_no", JF_STRING, false, 64},
    {"materials", JF_ARRAY, false, REG_MAX_MATERIALS, .code = "materials_format"},
    {"delivery", JF_STRING, false, 8},
    {"mail_address", JF_STRING, false, 255},
    {"submit", JF_BOOL, false},
    /* last: a draft's owner never changes, so PATCH leaves it out */
    {"id_number", JF_STRING, false, 32},
};
static const app_input IN_CREATE = {APP_IN_BODY(APP_B)};
static const app_input IN_UPDATE = {.path_code = "not_found", .body = APP_B,
                                    .nbody = APP_LEN(APP_B) - 1};

static const char *const APP_STATES[] = {"draft", "submitted", "plate_reserved",
    "appointment_booked", "inspected_passed", "inspected_failed", "registered",
    "documents_mailed", "collected", "cancelled", NULL};
static const app_jfield LIST_Q[] = {
    {"state", JF_ENUM, false, .choices = APP_STATES, .code = "bad_query",
     .detail = "Operators list by ?state= (an application state)."},
};
static const app_input IN_LIST = {APP_IN_QUERY(LIST_Q)};

static const char *const SOURCES[] = {"offer", "custom", NULL};
static const app_jfield RESERVE_B[] = {
    {"number", JF_STRING, true, 16},
    {"source", JF_ENUM, true, .choices = SOURCES, .code = "source_unknown"},
};
static const app_input IN_RESERVE = {.path_code = "not_found", APP_IN_BODY(RESERVE_B)};

static const app_jfield BOOK_B[] = {{"slot_id", JF_INT, true}};
static const app_input IN_BOOK = {.path_code = "not_found", APP_IN_BODY(BOOK_B)};

static const char *const RESULTS[] = {"pass", "fail", NULL};
static const app_jfield INSPECT_B[] = {
    {"result", JF_ENUM, true, .choices = RESULTS, .code = "result_unknown"},
    {"reasons", JF_ARRAY, false, REG_MAX_REASONS, .code = "reasons_format"},
};
static const app_input IN_INSPECT = {.path_code = "not_found", APP_IN_BODY(INSPECT_B)};

static const app_jfield POOL_B[] = {
    {"prefix", JF_STRING, true, 16},
    {"numbers", JF_ARRAY, true, REG_MAX_LOAD, .min_len = 1, .code = "numbers_count"},
};
static const app_input IN_POOL_LOAD = {APP_IN_BODY(POOL_B)};

static const app_jfield POOL_Q[] = {
    {"prefix", JF_STRING, true, 16, .code = "bad_query", .detail = "prefix must be a plate prefix."},
};
static const app_input IN_POOL_GET = {APP_IN_QUERY(POOL_Q)};

static const app_jfield PLATE_B[] = {{"prefix", JF_STRING, true, 16}, {"number", JF_STRING, true, 16}};
static const app_input IN_PLATE = {APP_IN_BODY(PLATE_B)};
static const int BLOCK = 1, UNBLOCK = 0;

static const app_jfield SLOT_B[] = {
    {"start", JF_STRING, true, 32},
    {"end", JF_STRING, true, 32},
    {"capacity", JF_INT, true, .min = 1, .max = 10000, .code = "capacity_range"},
};
static const app_input IN_SLOT = {.path_code = "not_found", APP_IN_BODY(SLOT_B)};

static const app_jfield DAY_Q[] = {
    {"date", JF_DATE, true, .code = "bad_query", .detail = "date=YYYY-MM-DD is required."},
};
static const app_input IN_DAY = {.path_code = "not_found", APP_IN_QUERY(DAY_Q)};

static const char *const APPT_STATES[] = {"booked", "attended", "cancelled", "no_show", NULL};
static const app_jfield STATION_DAY_Q[] = {
    {"date", JF_DATE, true, .code = "bad_query", .detail = "date=YYYY-MM-DD is required."},
    {"state", JF_ENUM, false, .choices = APPT_STATES, .code = "bad_query",
     .detail = "state is booked, attended, cancelled or no_show."},
};
static const app_input IN_STATION_DAY = {.path_code = "not_found", APP_IN_QUERY(STATION_DAY_Q)};

static const char *const KINDS[] = {"compulsory", NULL};
static const app_jfield POLICY_B[] = {
    {"vin", JF_STRING, true, 64},
    {"policy_no", JF_STRING, true, 64, .min_len = 1,
     .pattern = "^[0-9A-Za-z/-]{1,64}$", .code = "policy_no_format"},
    {"kind", JF_ENUM, false, .choices = KINDS, .code = "policy_kind_unknown"},
    {"valid_from", JF_DATE, true, .code = "date_format"},
    {"valid_until", JF_DATE, true, .code = "date_format"},
};
static const app_input IN_POLICY = {APP_IN_BODY(POLICY_B)};

static const char *const MAIL_STATES[] = {"pending", "dispatched", NULL};
static const app_jfield MAIL_Q[] = {
    {"state", JF_ENUM, false, .choices = MAIL_STATES, .code = "bad_query",
     .detail = "state is pending or dispatched."},
};
static const app_input IN_MAIL_LIST = {APP_IN_QUERY(MAIL_Q)};

static const app_jfield DISPATCH_B[] = {
    {"tracking_no", JF_STRING, true, 64, .min_len = 1, .code = "empty",
     .detail = "tracking_no must not be empty."},
};
static const app_input IN_DISPATCH = {.path_code = "not_found", APP_IN_BODY(DISPATCH_B)};

#define IDEM (ROUTE_JSON | ROUTE_IDEMPOTENT)
#define OPT (ROUTE_JSON | ROUTE_IDEM_OPTIONAL)
#define APP_ID "/v1/registrations/{id:int}"

static const app_route routes[] = {
    {M_POST, "/v1/registrations", reg_on_create, "registration.apply", IDEM, .in = &IN_CREATE},
    {M_GET, "/v1/registrations", reg_on_list, "registration.read", 0, .in = &IN_LIST},
    {M_GET, APP_ID, reg_on_get, "registration.read", 0, .in = &IN_ID},
    {M_PATCH, APP_ID, reg_on_update, "registration.apply", IDEM, .in = &IN_UPDATE},
    {M_POST, APP_ID "/submit", reg_on_step, "registration.apply", ROUTE_IDEMPOTENT, .in = &IN_ID,
     .data = &reg_step_submit},
    {M_POST, APP_ID "/cancel", reg_on_step, "registration.apply", ROUTE_IDEMPOTENT, .in = &IN_ID,
     .data = &reg_step_cancel},
    {M_GET, APP_ID "/plate-offer", reg_on_offer_get, "registration.apply", 0, .in = &IN_ID},
    {M_POST, APP_ID "/plate-offer", reg_on_offer_draw, "registration.apply", ROUTE_IDEMPOTENT,
     .in = &IN_ID},
    {M_POST, APP_ID "/plate", reg_on_reserve, "registration.apply", IDEM, .in = &IN_RESERVE},
    {M_DELETE, APP_ID "/plate", reg_on_step, "registration.apply", ROUTE_IDEMPOTENT, .in = &IN_ID,
     .data = &reg_step_release},
    {M_POST, APP_ID "/appointment", reg_on_book, "registration.book", IDEM, .in = &IN_BOOK},
    {M_DELETE, APP_ID "/appointment", reg_on_step, "registration.book", ROUTE_IDEMPOTENT, .in = &IN_ID,
     .data = &reg_step_unbook},
    {M_POST, APP_ID "/inspection", reg_on_inspection, "registration.inspect", IDEM, .in = &IN_INSPECT},
    {M_POST, APP_ID "/complete", reg_on_complete, "registration.complete", ROUTE_IDEM_OPTIONAL, .in = &IN_ID},
    {M_POST, APP_ID "/collected", reg_on_step, "registration.complete", ROUTE_IDEM_OPTIONAL,
     .in = &IN_ID, .data = &reg_step_collected},
    {M_POST, "/v1/plates/pool", reg_on_pool_load, "registration.plates_manage", OPT, .in = &IN_POOL_LOAD},
    {M_GET, "/v1/plates/pool", reg_on_pool_get, "registration.plates_read", 0, .in = &IN_POOL_GET},
    {M_POST, "/v1/plates/block", reg_on_plate_block, "registration.plates_manage", OPT, .in = &IN_PLATE,
     .data = &BLOCK},
    {M_POST, "/v1/plates/unblock", reg_on_plate_block, "registration.plates_manage", OPT, .in = &IN_PLATE,
     .data = &UNBLOCK},
    {M_GET, "/v1/stations", reg_on_stations, "registration.stations_read", 0, .in = &IN_NONE},
    {M_POST, "/v1/stations/{id:int}/slots", reg_on_slots_publish, "registration.slots_publish", OPT,
     .in = &IN_SLOT},
    {M_GET, "/v1/stations/{id:int}/slots", reg_on_slots_list, "registration.stations_read", 0, .in = &IN_DAY},
    {M_GET, "/v1/stations/{id:int}/appointments", reg_on_station_appointments,
     "registration.station_appointments", 0, .in = &IN_STATION_DAY},
    {M_POST, "/v1/insurance-policies", reg_on_policy_push, "registration.insurance_confirm", IDEM,
     .in = &IN_POLICY},
    {M_GET, "/v1/mailing-orders", reg_on_mail_list, "registration.mailing", 0, .in = &IN_MAIL_LIST},
    {M_POST, "/v1/mailing-orders/{id:int}/dispatch", reg_on_mail_dispatch, "registration.mailing", IDEM,
     .in = &IN_DISPATCH},
};

static const app_job jobs[] = {
    {"registration_plate_expiry", 600, reg_job_plate_expiry},
    {"registration_no_shows", 600, reg_job_no_shows},
};

static const app_cmd cmds[] = {
    {"plates", "plates load --prefix 浙A --count N   load a demo plate pool", reg_cmd_plates},
};

registration_settings registration_conf;

static int check_selection(const char *v, char *why, size_t whylen)
{
    unsigned mask = 0;
    if (registration_selection_parse(v, &mask) == 0)
        return 0;
    snprintf(why, whylen, "must be offer, custom or offer,custom");
    return -1;
}

#define I(k, d, lo, hi, h) APP_CONF_INT("registration." #k, registration_conf.k, d, lo, hi, h)
#define S(k, d, h) APP_CONF_STR("registration." #k, registration_conf.k, d, h)
static const app_conf conf[] = {
    S(plate_prefix, "浙A", "issuing prefix of new applications' plates"),
    APP_CONF_STR_CHECK("registration.selection", registration_conf.selection, "offer,custom", check_selection,
                       "plate choice modes offered: offer (random), custom (self-composed), "
                       "comma-separated; at least one"),
    I(offer_size, "50", 1, 500, "numbers in a random offer"),
    I(offer_ttl_s, "1800", 60, 86400, "seconds an offer stays valid for reserving"),
    I(max_letters, "2", 0, 5, "most letters in a self-composed plate number"),
    I(reservation_days, "15", 1, 365, "days a reserved number is held for the registration"),
    I(hoarding_limit, "3", 1, 100,
      "lapsed or given-up reservations in the window that start a cooling-off period"),
    I(hoarding_window_days, "90", 1, 3650, "window for counting lapsed or given-up reservations"),
    I(cooling_off_days, "30", 1, 365, "days an applicant who hoarded waits before choosing again"),
    I(no_show_limit, "3", 1, 100, "missed appointments that bar online booking"),
    I(no_show_window_days, "365", 1, 3650, "window for counting missed appointments"),
    I(no_show_bar_days, "30", 1, 365, "days online booking is barred"),
    S(required_materials, "conformity_certificate,purchase_invoice,insurance_policy,purchase_tax",
      "material codes an application must list before it is submitted"),
};
#undef I
#undef S

const app_module registration_module = {
    .name = "registration", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = registration_migrations, .migrations_from = 700, .migrations_to = 799,
    APP_LIST(jobs, jobs), APP_LIST(cmds, cmds), APP_LIST(conf, conf), .init = reg_init,
    APP_LIST(errors, errors),
};
