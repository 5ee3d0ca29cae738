/* people_module.c - citizens, their licences and vehicles; outlets. */
#include "modules/people/people_auth.h"
#include "modules/people/people_cli.h"
#include "modules/people/people_http.h"
#include "modules/people/people_seed.h"
#include "server/app.h"

extern const db_migration *const people_migrations[];

#define OPERATOR_READERS (ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_REVIEWER | ROLE_AUDITOR)

/* The problems this module answers (app_fail). */
#define ID_NUMBER_RULE "An ID number has 17 digits and a check character (GB 11643)."
static const app_error errors[] = {
    {"not_found", 404, "Not found", NULL},
    {"id_number_format", 400, "Invalid ID number", ID_NUMBER_RULE},
    {"id_number_birth_date", 400, "Invalid ID number", ID_NUMBER_RULE},
    {"id_number_check_digit", 400, "Invalid ID number", ID_NUMBER_RULE},
};

/* Declared inputs, checked by the dispatcher before the handler runs. An
 * id is written in its one canonical form: "01" names no vehicle. */
static const app_jfield ID[] = {{"id", JF_STRING, true, 19, .pattern = "^[1-9][0-9]*$"}};
static const app_input IN_ID = {.path_code = "not_found", APP_IN_PATH(ID)};

/* The shape here; the birth date and the check character in the handler. */
static const app_jfield LOOKUP_B[] = {
    {"id_number", JF_STRING, true, 32, .pattern = "^[0-9]{17}[0-9Xx]$", .code = "id_number_format"},
};
static const app_input IN_LOOKUP = {APP_IN_BODY(LOOKUP_B)};

static const app_input IN_NONE = {0}; /* no parameters, no body */

static const app_route routes[] = {
    {M_GET, "/v1/me/licence", people_on_my_licence, "people.read_own", 0, .in = &IN_NONE},
    {M_GET, "/v1/me/vehicles", people_on_my_vehicles, "people.read_own", 0, .in = &IN_NONE},
    {M_GET, "/v1/vehicles/{id:int}", people_on_vehicle, "people.vehicle_read", 0, .in = &IN_ID},
    {M_GET, "/v1/citizens/{id:int}", people_on_citizen, "people.citizen_read", 0, .in = &IN_ID},
    {M_POST, "/v1/citizens/lookup", people_on_citizen_lookup, "people.citizen_read", ROUTE_JSON,
     .in = &IN_LOOKUP},
};

static const app_perm perms[] = {
    {"people.read_own", KIND_CITIZEN, 0, 0, "a citizen reads their own licence and vehicles"},
    {"people.vehicle_read", KIND_CITIZEN | KIND_OPERATOR, OPERATOR_READERS | ROLE_INSPECTOR, 0,
     "read a vehicle (citizens: their own only; operators: any, audited)"},
    {"people.citizen_read", KIND_OPERATOR, OPERATOR_READERS, 0,
     "read or look up a citizen by ID number (masked, audited)"},
};

const app_module people_module = {
    .name = "people", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = people_migrations, .migrations_from = 200, .migrations_to = 299,
    .cmds = people_cmds, .ncmds = PEOPLE_NCMDS, .auth = &people_authenticator,
    .seed = &people_seeder, APP_LIST(errors, errors),
};
