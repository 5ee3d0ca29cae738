/* cases_module.c - the cases module: every application as a case with its
 * trips, time limits, alerts, ratings, rectifications and the reform's
 * figures. */
#include "modules/cases/cases_http.h"
#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_jobs.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_seed.h"
#include "server/app.h"

extern const db_migration *const cases_migrations[];

/* The problems this module answers (app_fail). */
static const app_error errors[] = {
    {"case_not_found", 404, "Case not found", NULL},
    {"rectification_not_found", 404, "Rectification not found", NULL},
    {"bad_state", 400, "Unknown state", NULL},
    {"bad_date", 400, "Invalid date", "Dates are YYYY-MM-DD."},
    {"bad_range", 400, "Invalid period", "from <= to, at most ten years."},
    {"bad_group", 400, "Invalid grouping", "group is category, channel or outlet."},
    {"bad_format", 400, "Invalid format", "format is json or csv."},
    {"bad_score", 400, "Score is 1 to 5", NULL},
    {"reason_required", 400, "Reason required", "A rejection states its reason."},
    {"answer_required", 400, "Answer required", NULL},
    {"materials_required", 400, "Materials required", NULL},
    {"materials_only_on_accept", 400, "Materials only on acceptance",
     "missing goes with to=accepted; commitment with to=accepted or to=completed."},
    {"duplicate_material", 400, "Duplicate material", NULL},
    /* refused check-ins (cases_trip_refusal) and other refusals */
    {"online_only", 409, "Online-only business",
     "This service is offered in the app only: it never takes a visit."},
    {"no_outlet", 403, "No outlet", "Only a window or partner outlet records visits."},
    {"other_outlet", 403, "Case of another outlet",
     "Only the outlet that serves the case (or supervision) may act on it."},
    {"channel_not_offered", 403, "Not offered at this outlet",
     "This service is not offered at this kind of outlet."},
    {"query_code_required", 403, "Applicant's query code required",
     "The first visit of a case filed online needs the query code the applicant shows."},
    {"query_code_mismatch", 403, "Wrong query code", "This is not the case's query code."},
    {"case_closed", 409, "Case closed", "Visits are recorded only while the case is open."},
    {"not_your_outlet", 403, "Forbidden",
     "A case is rated at the outlet that handled it, or in the app."},
    {"already_rated", 409, "Already rated", "Each case is rated once."},
    {"case_not_completed", 409, "Case not completed", "A case can be rated once it is completed."},
    {"already_answered", 409, "Already answered", NULL},
    {"bad_transition", 409, "Transition not allowed",
     "The case cannot move to that state from its current one."},
    {"materials_missing", 409, "Materials missing",
     "Materials are still missing: supply them, or record the applicant's signed commitment for "
     "those that allow one."},
    {"nothing_missing", 409, "Nothing missing", "This case has no materials outstanding."},
    {"not_missing", 422, "Material not outstanding",
     "Each entry must be one of the case's missing materials."},
    {"unknown_material", 422, "Unknown material",
     "Each entry must name a material of the service item."},
    {"commitment_not_allowed", 422, "Commitment not allowed", "This service item does not allow it."},
    {"missing_not_allowed", 422, "Missing materials not allowed",
     "This service item does not allow it."},
    {"key_material_missing", 422, "Key material missing",
     "Key materials must be present at acceptance."},
};

/* Declared inputs, checked by the dispatcher before the handler runs. */
static const app_jfield NUMBER[] = {{"number", JF_STRING, true, 16, .pattern = "^C[0-9]{15}$"}};
static const app_input IN_CASE = {.path_code = "case_not_found", APP_IN_PATH(NUMBER)};

static const app_jfield PAGE_Q[] = {
    APP_IN_PAGE_KEYS(CASES_LIST_LIMIT_MAX),
};
static const app_input IN_PAGE = {APP_IN_QUERY(PAGE_Q)};

static const app_jfield PROGRESS_Q[] = {{"code", JF_STRING, true, 16, .code = "case_not_found"}};
static const app_input IN_PROGRESS = {.path_code = "case_not_found", APP_IN_PATH(NUMBER),
                                      APP_IN_QUERY(PROGRESS_Q)};

static const app_jfield TRIP_B[] = {{"query_code", JF_STRING, false, 16}};
static const app_input IN_TRIP = {.path_code = "case_not_found", APP_IN_PATH(NUMBER),
                                  APP_IN_BODY(TRIP_B), .body_optional = true};

static const char *const TARGETS[] = {"accepted", "in_progress", "completed", "rejected", "cancelled", NULL};
static const app_jfield TRANSITION_B[] = {
    {"to", JF_ENUM, true, 16, .choices = TARGETS, .code = "bad_state",
     .detail = "to is accepted, in_progress, completed, rejected or cancelled."},
    {"reason", JF_STRING, false, 255},
    {"missing", JF_ARRAY, false},
    {"commitment", JF_ARRAY, false},
};
static const app_input IN_TRANSITION = {.path_code = "case_not_found", APP_IN_PATH(NUMBER),
                                        APP_IN_BODY(TRANSITION_B)};

static const app_jfield SUPPLEMENT_B[] = {{"materials", JF_ARRAY, true, .min_len = 1, .code = "materials_required"}};
static const app_input IN_SUPPLEMENT = {.path_code = "case_not_found", APP_IN_PATH(NUMBER),
                                        APP_IN_BODY(SUPPLEMENT_B)};

static const app_jfield RATING_B[] = {
    {"score", JF_INT, true, .min = 1, .max = 5, .code = "bad_score"},
    {"comment", JF_STRING, false, 500},
};
static const app_input IN_RATING = {.path_code = "case_not_found", APP_IN_PATH(NUMBER),
                                    APP_IN_BODY(RATING_B)};

static const char *const RECT_STATES[] = {"open", "answered", NULL};
static const app_jfield RECT_Q[] = {
    {"state", JF_ENUM, false, .choices = RECT_STATES, .code = "bad_state", .detail = "state is open or answered."},
};
static const app_input IN_RECT_LIST = {APP_IN_QUERY(RECT_Q)};

static const app_jfield ANSWER_B[] = {{"answer", JF_STRING, true, 1000, .min_len = 1, .code = "answer_required"}};
static const app_input IN_RECT_ANSWER = {.path_code = "rectification_not_found", APP_IN_BODY(ANSWER_B)};

static const char *const GROUPS[] = {"category", "channel", "outlet", NULL};
static const char *const FORMATS[] = {"json", "csv", NULL};
static const app_jfield FIGURES_Q[] = {
    {"from", JF_DATE, true, .code = "bad_date", .detail = "from is YYYY-MM-DD."},
    {"to", JF_DATE, true, .code = "bad_date", .detail = "to is YYYY-MM-DD."},
    {"group", JF_ENUM, false, .choices = GROUPS, .code = "bad_group"},
    {"format", JF_ENUM, false, .choices = FORMATS, .code = "bad_format"},
};
static const app_input IN_FIGURES = {APP_IN_QUERY(FIGURES_Q)};

/* Order matters: the router takes the first match, so the fixed segment
 * /v1/cases/alerts comes before /v1/cases/{number}. */
static const app_route routes[] = {
    {M_GET, "/v1/me/cases", cases_on_my_cases, "cases.read_own", 0, .in = &IN_PAGE},
    {M_GET, "/v1/cases/alerts", cases_on_alerts, "cases.alerts", 0, .in = &IN_PAGE},
    {M_GET, "/v1/cases/{number}", cases_on_get_case, "cases.read", 0, .in = &IN_CASE},
    {M_GET, "/v1/cases/{number}/progress", cases_on_progress, "public", ROUTE_PUBLIC, .in = &IN_PROGRESS},
    {M_POST, "/v1/cases/{number}/trips", cases_on_trip, "cases.checkin", ROUTE_JSON | ROUTE_IDEMPOTENT,
     .in = &IN_TRIP},
    {M_POST, "/v1/cases/{number}/transitions", cases_on_transition, "cases.handle",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_TRANSITION},
    {M_POST, "/v1/cases/{number}/supplements", cases_on_supplement, "cases.handle",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_SUPPLEMENT},
    {M_POST, "/v1/cases/{number}/rating", cases_on_rating, "cases.rate", ROUTE_JSON | ROUTE_IDEMPOTENT,
     .in = &IN_RATING},
    {M_GET, "/v1/rectifications", cases_on_rect_list, "cases.supervise", 0, .in = &IN_RECT_LIST},
    {M_POST, "/v1/rectifications/{id:int}/answer", cases_on_rect_answer, "cases.supervise",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_RECT_ANSWER},
    {M_GET, "/v1/figures", cases_on_figures, "cases.figures", 0, .in = &IN_FIGURES},
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
    .name = "cases", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = cases_migrations, .migrations_from = 400, .migrations_to = 499,
    APP_LIST(jobs, jobs), APP_LIST(cmds, cmds), APP_LIST(conf, conf), .init = cases_calendar_load,
    .seed = &cases_seeder, APP_LIST(errors, errors),
};
