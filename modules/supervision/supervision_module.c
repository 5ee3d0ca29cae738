/* supervision_module.c - risk rules, their alerts and the alert workflow
 * (issue 14). Rules run near-real-time from the event outbox
 * (server/events.h) through the consumer declared here. */
#include "modules/supervision/supervision_internal.h"

extern const db_migration *const supervision_migrations[];

static const app_error errors[] = {
    {"rule_not_found", 404, "Rule not found", NULL},
    {"alert_not_found", 404, "Alert not found", NULL},
    {"bad_transition", 409, "Step not allowed", "open -> acknowledged -> investigating -> closed."},
    {"bad_outcome", 400, "Invalid outcome", "Closing names the outcome (confirmed or false_positive); other steps do not."},
    {"bad_severity", 400, "Invalid severity", "severity is low, medium or high."},
    {"bad_threshold", 400, "Invalid threshold", "threshold is a whole number, 1..100000."},
    {"bad_window", 400, "Invalid window", "window_s is a whole number of seconds, 0..31536000."},
    {"bad_state", 400, "Invalid state", NULL},
    {"bad_date", 400, "Invalid date", "A day is YYYY-MM-DD."},
    {"bad_subject_kind", 400, "Invalid subject kind", NULL},
    {"bad_id", 400, "Invalid id", "A whole number, at least 1."},
    {"bad_note", 400, "Invalid note", "note is 1..500 characters."},
};

static const char *const SEVERITIES[] = {"low", "medium", "high", NULL};
static const char *const STATES[] = {"open", "acknowledged", "investigating", "closed", NULL};
static const char *const STEP_TO[] = {"acknowledged", "investigating", "closed", NULL};
static const char *const OUTCOMES[] = {"confirmed", "false_positive", NULL};
static const char *const SUBJECTS[] = {"licence", "vehicle", "citizen", "outlet", "operator", "partner", NULL};

static const app_input IN_RULE_ID = {.path_code = "rule_not_found"};
static const app_jfield RULE_B[] = {
    {"description", JF_STRING, false, 255, .min_len = 1},
    {"severity", JF_ENUM, false, 8, .choices = SEVERITIES, .code = "bad_severity"},
    {"threshold", JF_INT, false, .min = 1, .max = 100000, .code = "bad_threshold"},
    {"window_s", JF_INT, false, .min = 0, .max = 31536000, .code = "bad_window"},
    {"enabled", JF_BOOL, false},
    {"params", JF_OBJECT, false},
    {"note", JF_STRING, true, 500, .min_len = 1, .code = "bad_note"},
};
static const app_input IN_RULE_UPDATE = {.path_code = "rule_not_found", APP_IN_BODY(RULE_B)};

#define ALERT_FILTERS                                                                        \
    {"rule_id", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "bad_id"},                \
    {"severity", JF_ENUM, false, 8, .choices = SEVERITIES, .code = "bad_severity"},          \
    {"outlet_id", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "bad_id"},              \
    {"subject_kind", JF_ENUM, false, 16, .choices = SUBJECTS, .code = "bad_subject_kind"},   \
    {"subject_id", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "bad_id"},             \
    {"state", JF_ENUM, false, 16, .choices = STATES, .code = "bad_state"},                   \
    {"from", JF_DATE, false, 10, .code = "bad_date"},                                        \
    {"to", JF_DATE, false, 10, .code = "bad_date"}
static const app_jfield ALERTS_Q[] = {ALERT_FILTERS, APP_IN_PAGE_KEYS(100)};
static const app_input IN_ALERTS = {APP_IN_QUERY(ALERTS_Q)};
static const app_jfield CSV_Q[] = {ALERT_FILTERS};
static const app_input IN_CSV = {APP_IN_QUERY(CSV_Q)};
static const app_input IN_ALERT = {.path_code = "alert_not_found"};
static const app_jfield STEP_B[] = {
    {"to", JF_ENUM, true, 16, .choices = STEP_TO, .code = "bad_state"},
    {"outcome", JF_ENUM, false, 16, .choices = OUTCOMES, .code = "bad_outcome"},
    {"assignee_id", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "bad_id"},
    {"note", JF_STRING, true, 500, .min_len = 1, .code = "bad_note"},
};
static const app_input IN_STEP = {.path_code = "alert_not_found", APP_IN_BODY(STEP_B)};

static const app_route routes[] = {
    {M_GET, "/v1/supervision/rules", sup_on_rules, "supervision.read", 0},
    {M_PATCH, "/v1/supervision/rules/{id:int}", sup_on_rule_update, "supervision.rules_manage",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_RULE_UPDATE},
    {M_GET, "/v1/supervision/rules/{id:int}/versions", sup_on_rule_versions, "supervision.read", 0,
     .in = &IN_RULE_ID},
    {M_GET, "/v1/supervision/alerts", sup_on_alerts, "supervision.read", 0, .in = &IN_ALERTS},
    {M_GET, "/v1/supervision/alerts.csv", sup_on_alerts_csv, "supervision.read", 0, .in = &IN_CSV},
    {M_GET, "/v1/supervision/alerts/{id:int}", sup_on_alert, "supervision.read", 0, .in = &IN_ALERT},
    {M_POST, "/v1/supervision/alerts/{id:int}/steps", sup_on_alert_step, "supervision.alerts_handle",
     ROUTE_JSON | ROUTE_IDEM_OPTIONAL, .in = &IN_STEP},
};

static const app_perm perms[] = {
    {"supervision.read", KIND_OPERATOR, ROLE_SUPERVISOR | ROLE_AUDITOR, 0,
     "read risk rules and their alerts (with evidence and steps), export alerts"},
    {"supervision.alerts_handle", KIND_OPERATOR, ROLE_SUPERVISOR, 0,
     "acknowledge, investigate, assign and close alerts"},
    {"supervision.rules_manage", KIND_OPERATOR, ROLE_SUPERVISOR, 0,
     "change a risk rule (severity, threshold, window, switch); audited and versioned"},
};

static const app_consumer consumers[] = {
    {"supervision.rules", sup_consume},
};

const app_module supervision_module = {
    .name = "supervision", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = supervision_migrations, .migrations_from = 800, .migrations_to = 899,
    APP_LIST(errors, errors), APP_LIST(consumers, consumers),
};
