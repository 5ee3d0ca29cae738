/* cases_module.c - the cases module: every application as a case with its
 * trips, time limits, alerts, ratings, rectifications and the reform's
 * figures. */
#include "modules/cases/cases_http.h"
#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_jobs.h"
#include "server/app.h"

extern const db_migration *const cases_migrations[];

/* Order matters: the router takes the first match, so the fixed segment
 * /v1/cases/alerts comes before /v1/cases/{number}. */
static const app_route routes[] = {
    {M_GET, "/v1/me/cases", cases_on_my_cases, "cases.read_own", 0},
    {M_GET, "/v1/cases/alerts", cases_on_alerts, "cases.alerts", 0},
    {M_GET, "/v1/cases/{number}", cases_on_get_case, "cases.read", 0},
    {M_GET, "/v1/cases/{number}/progress", cases_on_progress, "public", ROUTE_PUBLIC},
    {M_POST, "/v1/cases/{number}/trips", cases_on_trip, "cases.checkin", ROUTE_IDEMPOTENT},
    {M_POST, "/v1/cases/{number}/transitions", cases_on_transition, "cases.handle", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_POST, "/v1/cases/{number}/supplements", cases_on_supplement, "cases.handle", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_POST, "/v1/cases/{number}/rating", cases_on_rating, "cases.rate", ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_GET, "/v1/rectifications", cases_on_rect_list, "cases.supervise", 0},
    {M_POST, "/v1/rectifications/{id}/answer", cases_on_rect_answer, "cases.supervise", ROUTE_JSON | ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/figures", cases_on_figures, "cases.figures", 0},
};

static const app_perm perms[] = {
    {"cases.read_own", KIND_CITIZEN, 0, 0, "a citizen lists their own cases"},
    {"cases.read", KIND_CITIZEN | KIND_OPERATOR, ROLE_ALL, 0,
     "read one case (citizens: their own only; operator reads are audited)"},
    {"cases.checkin", KIND_OPERATOR | KIND_PARTNER, ROLE_WINDOW | ROLE_INSPECTOR | ROLE_SUPERVISOR,
     PARTNER_POST | PARTNER_DEALER | PARTNER_INSURER | PARTNER_HOSPITAL | PARTNER_COURT | PARTNER_STATION,
     "record a physical visit (trip) of the applicant at the window or partner outlet serving the case"},
    {"cases.handle", KIND_OPERATOR, ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_REVIEWER, 0,
     "accept, complete or reject cases of the operator's outlet; record supplied materials"},
    {"cases.rate", KIND_CITIZEN | KIND_OPERATOR | KIND_PARTNER, ROLE_WINDOW | ROLE_INSPECTOR,
     PARTNER_POST | PARTNER_INSURER | PARTNER_HOSPITAL | PARTNER_COURT | PARTNER_DEALER | PARTNER_STATION,
     "the applicant rates a completed case once, in the app or at the outlet that handled it"},
    {"cases.alerts", KIND_OPERATOR,
     ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_AUDITOR | ROLE_REVIEWER | ROLE_INSPECTOR, 0,
     "time-limit and supply alerts (own outlet; supervision and auditors: all)"},
    {"cases.supervise", KIND_OPERATOR, ROLE_SUPERVISOR, 0, "answer rectification tickets"},
    {"cases.figures", KIND_OPERATOR, ROLE_SUPERVISOR | ROLE_AUDITOR | ROLE_ADMIN, 0,
     "the reform's figures (JSON, CSV)"},
};

static const app_job jobs[] = {
    {"cases_time_limits", 300, cases_job_time_limits},
    {"cases_supply", 3600, cases_job_supply},
    {"cases_rollup", 900, cases_job_rollup},
};

static const app_cmd cmds[] = {
    {"cases-rollup", "cases-rollup FROM TO         recompute the figures rollup of a range of days",
     cases_cmd_rollup},
    {"cases-file", "cases-file ITEM CITIZEN_ID CHANNEL [OUTLET_ID]  file a case (demo data, tests)",
     cases_cmd_file},
};

cases_settings cases_conf;

static const app_conf conf[] = {
    APP_CONF_STR("cases.holidays", cases_conf.holidays, "",
                 "public holidays (days off), comma-separated YYYY-MM-DD, from the State Council's notice"),
    APP_CONF_STR("cases.makeup_workdays", cases_conf.makeup_workdays, "",
                 "weekend days declared working days, comma-separated YYYY-MM-DD"),
    APP_CONF_INT("cases.supply_days", cases_conf.supply_days, "5", 1, 60,
                 "working days an applicant has to supply materials missing at acceptance"),
    APP_CONF_INT("cases.supply_grace_days", cases_conf.supply_grace_days, "2", 0, 30,
                 "working days after the supply deadline before the case is escalated"),
    APP_CONF_INT("cases.rectification_hours", cases_conf.rectification_hours, "72", 1, 720,
                 "hours a supervisor has to answer a rectification ticket (rating 1-2)"),
    APP_CONF_INT("cases.rollup_days", cases_conf.rollup_days, "3", 1, 366,
                 "days before today the rollup job recomputes on every run"),
};

const app_module cases_module = {
    .name = "cases",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = cases_migrations,
    .migrations_from = 400, .migrations_to = 499,
    .jobs = jobs, .njobs = APP_LEN(jobs),
    .cmds = cmds, .ncmds = APP_LEN(cmds),
    .conf = conf, .nconf = APP_LEN(conf),
    .init = cases_calendar_load,
};
