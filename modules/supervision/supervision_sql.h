/* supervision_sql.h - the supervision module's statements (private). */
#ifndef ONETRIP_SUPERVISION_SQL_H
#define ONETRIP_SUPERVISION_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

typedef struct sup_rule {
    int32_t id;
    char code[193];
    char description[1021];
    char severity[33];
    char mode[65];
    int32_t threshold;
    int32_t window_s;
    char *params; /* JSON object text */
    bool enabled;
    int32_t version;
    char updated_at[21];
} sup_rule;

typedef struct sup_rule_version {
    int32_t version;
    char description[1021];
    char severity[33];
    int32_t threshold;
    int32_t window_s;
    char *params;
    bool enabled;
    int64_t changed_by;
    char *note;
    char changed_at[21];
} sup_rule_version;

typedef struct sup_alert {
    int64_t id;
    int32_t rule_id;
    char rule_code[193];
    int32_t rule_version;
    char severity[33];
    char subject_kind[129];
    int64_t subject_id;
    int64_t outlet_id;
    char state[65];
    char outcome[65];
    bool has_outcome;
    int32_t hits;
    int64_t assignee_id;
    bool has_assignee_id;
    char first_at[21];
    char last_at[21];
} sup_alert;

typedef struct sup_evidence {
    int64_t event_id;
    char event_type[257];
    char *detail;
    char at[21];
} sup_evidence;

typedef struct sup_step {
    int64_t id;
    char from_state[65];
    char to_state[65];
    char outcome[65];
    bool has_outcome;
    int64_t assignee_id;
    bool has_assignee_id;
    int64_t operator_id;
    char *note;
    char at[21];
} sup_step;

/* Filters of the alert list; NULL / 0 = any. Times "YYYY-MM-DD HH:MM:SS". */
typedef struct sup_filter {
    int64_t rule_id, outlet_id, subject_id;
    const char *severity, *subject_kind, *state, *from, *to;
    int64_t before; /* keyset: ids below; 0 = from the newest */
    int64_t limit;
} sup_filter;

int sup_sql_rules(db_conn *c, bool enabled_only, sup_rule **rows, int *n);
int sup_sql_rule(db_conn *c, int64_t id, bool lock, sup_rule *out, bool *found);
int sup_sql_rule_update(db_conn *c, const sup_rule *r);
int sup_sql_rule_version_add(db_conn *c, const sup_rule *r, int64_t by, const char *note);
int sup_sql_rule_versions(db_conn *c, int64_t rule_id, sup_rule_version **rows, int *n);
void sup_rule_clear(sup_rule *r);
void sup_rule_array_free(sup_rule *r, int n);
void sup_rule_version_array_free(sup_rule_version *r, int n);

int sup_sql_observe(db_conn *c, int32_t rule_id, const char *kind, int64_t subject, int64_t value,
                    int64_t event_id, const char *at);
int sup_sql_distinct(db_conn *c, int32_t rule_id, const char *kind, int64_t subject,
                     const char *at, int32_t window_s, int64_t *n);
/* Raises an alert or folds into the open one (hits + 1); *id either way. */
int sup_sql_alert_raise(db_conn *c, const sup_rule *r, const char *kind, int64_t subject,
                        int64_t outlet_id, const char *at, int64_t *id);
int sup_sql_evidence_add(db_conn *c, int64_t alert_id, int64_t event_id, const char *type,
                         const char *detail, const char *at);
int sup_sql_alert(db_conn *c, int64_t id, bool lock, sup_alert *out, bool *found);
int sup_sql_alerts(db_conn *c, const sup_filter *f, sup_alert **rows, int *n);
void sup_alert_array_free(sup_alert *a, int n);
int sup_sql_alert_move(db_conn *c, int64_t id, const char *from, const char *to,
                       const char *outcome, uint64_t *affected);
int sup_sql_alert_assign(db_conn *c, int64_t id, int64_t assignee);
int sup_sql_step_add(db_conn *c, int64_t alert_id, const char *from, const char *to,
                     const char *outcome, int64_t assignee, int64_t op, const char *note);
int sup_sql_evidence(db_conn *c, int64_t alert_id, sup_evidence **rows, int *n);
void sup_evidence_array_free(sup_evidence *e, int n);
int sup_sql_steps(db_conn *c, int64_t alert_id, sup_step **rows, int *n);
void sup_step_array_free(sup_step *s, int n);

#endif
