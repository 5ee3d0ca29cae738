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

#define IDEM (ROUTE_JSON | ROUTE_IDEMPOTENT)

static const app_route routes[] = {
    {M_POST, "/v1/registrations", reg_on_create, "registration.apply", IDEM},
    {M_GET, "/v1/registrations", reg_on_list, "registration.read", 0},
    {M_GET, "/v1/registrations/{id}", reg_on_get, "registration.read", 0},
    {M_PATCH, "/v1/registrations/{id}", reg_on_update, "registration.apply", IDEM},
    {M_POST, "/v1/registrations/{id}/submit", reg_on_submit, "registration.apply", ROUTE_IDEMPOTENT},
    {M_POST, "/v1/registrations/{id}/cancel", reg_on_cancel, "registration.apply", ROUTE_IDEMPOTENT},
    {M_GET, "/v1/registrations/{id}/plate-offer", reg_on_offer, "registration.apply", 0},
    {M_POST, "/v1/registrations/{id}/plate", reg_on_reserve, "registration.apply", IDEM},
    {M_DELETE, "/v1/registrations/{id}/plate", reg_on_release, "registration.apply", ROUTE_IDEMPOTENT},
    {M_POST, "/v1/registrations/{id}/appointment", reg_on_book, "registration.book", IDEM},
    {M_DELETE, "/v1/registrations/{id}/appointment", reg_on_unbook, "registration.book", ROUTE_IDEMPOTENT},
    {M_POST, "/v1/registrations/{id}/inspection", reg_on_inspection, "registration.inspect", IDEM},
    {M_POST, "/v1/registrations/{id}/complete", reg_on_complete, "registration.complete", ROUTE_IDEM_OPTIONAL},
    {M_POST, "/v1/registrations/{id}/collected", reg_on_collected, "registration.complete", ROUTE_IDEM_OPTIONAL},
    {M_POST, "/v1/plates/pool", reg_on_pool_load, "registration.plates_manage", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/plates/pool", reg_on_pool_get, "registration.plates_read", 0},
    {M_POST, "/v1/plates/block", reg_on_plate_block, "registration.plates_manage", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_POST, "/v1/plates/unblock", reg_on_plate_unblock, "registration.plates_manage", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/stations", reg_on_stations, "registration.stations_read", 0},
    {M_POST, "/v1/stations/{id}/slots", reg_on_slots_publish, "registration.slots_publish", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/stations/{id}/slots", reg_on_slots_list, "registration.stations_read", 0},
    {M_GET, "/v1/stations/{id}/appointments", reg_on_station_appointments,
     "registration.station_appointments", 0},
    {M_POST, "/v1/insurance-policies", reg_on_policy_push, "registration.insurance_confirm", IDEM},
    {M_GET, "/v1/mailing-orders", reg_on_mail_list, "registration.mailing", 0},
    {M_POST, "/v1/mailing-orders/{id}/dispatch", reg_on_mail_dispatch, "registration.mailing", IDEM},
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
    .name = "registration",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = registration_migrations,
    .migrations_from = 700, .migrations_to = 799,
    .jobs = jobs, .njobs = APP_LEN(jobs),
    .cmds = cmds, .ncmds = APP_LEN(cmds),
    .conf = conf, .nconf = APP_LEN(conf),
    .init = reg_init,
};
