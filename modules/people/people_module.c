/* people_module.c - citizens, their licences and vehicles; outlets. */
#include "modules/people/people_auth.h"
#include "modules/people/people_cli.h"
#include "modules/people/people_http.h"
#include "modules/people/people_seed.h"
#include "server/app.h"

extern const db_migration *const people_migrations[];

#define OPERATOR_READERS (ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_REVIEWER | ROLE_AUDITOR)

static const app_route routes[] = {
    {M_GET, "/v1/me/licence", people_on_my_licence, "people.read_own", 0},
    {M_GET, "/v1/me/vehicles", people_on_my_vehicles, "people.read_own", 0},
    {M_GET, "/v1/vehicles/{id}", people_on_vehicle, "people.vehicle_read", 0},
    {M_GET, "/v1/citizens/{id}", people_on_citizen, "people.citizen_read", 0},
    {M_POST, "/v1/citizens/lookup", people_on_citizen_lookup, "people.citizen_read", ROUTE_JSON},
};

static const app_perm perms[] = {
    {"people.read_own", KIND_CITIZEN, 0, 0, "a citizen reads their own licence and vehicles"},
    {"people.vehicle_read", KIND_CITIZEN | KIND_OPERATOR, OPERATOR_READERS | ROLE_INSPECTOR, 0,
     "read a vehicle (citizens: their own only; operators: any, audited)"},
    {"people.citizen_read", KIND_OPERATOR, OPERATOR_READERS, 0,
     "read or look up a citizen by ID number (masked, audited)"},
};

const app_module people_module = {
    .name = "people",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = people_migrations,
    .migrations_from = 200, .migrations_to = 299,
    .cmds = people_cmds, .ncmds = PEOPLE_NCMDS,
    .auth = &people_authenticator,
    .seed = &people_seeder,
};
