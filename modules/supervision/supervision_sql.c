/* supervision_sql.c - one function per statement (see supervision_sql.h). */
#include "modules/supervision/supervision_sql.h"

#include <stdio.h>

#include "db/rows.h"

#define RULE_SELECT \
    "SELECT id, code, description, severity, mode, threshold, window_s, params, enabled, version, " \
    "updated_at FROM sup_rules "
static const db_col RULE_COLS[] = {
    DBR_I32(sup_rule, id),        DBR_CHARS(sup_rule, code),      DBR_CHARS(sup_rule, description),
    DBR_CHARS(sup_rule, severity), DBR_CHARS(sup_rule, mode),     DBR_I32(sup_rule, threshold),
    DBR_I32(sup_rule, window_s),  DBR_STR(sup_rule, params),      DBR_BOOL(sup_rule, enabled),
    DBR_I32(sup_rule, version),   DBR_UTC(sup_rule, updated_at),
};
static const db_row_spec RULE_ROW = DB_ROW_SPEC(sup_rule, RULE_COLS);
DB_ROW_CLEAR_FN(sup_rule_clear, sup_rule, &RULE_ROW)
DB_ROW_ARRAY_FREE_FN(sup_rule_array_free, sup_rule, &RULE_ROW)

static const char SQL_RULES[] = RULE_SELECT "WHERE (? = 0 OR enabled = 1) ORDER BY id";
static const char SQL_RULE[] = RULE_SELECT "WHERE id = ?";
static const char SQL_RULE_LOCK[] = RULE_SELECT "WHERE id = ? FOR UPDATE";

int sup_sql_rules(db_conn *c, bool enabled_only, sup_rule **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_RULES, DBP(DB_I64(enabled_only)), &RULE_ROW, rows, n);
}

int sup_sql_rule(db_conn *c, int64_t id, bool lock, sup_rule *out, bool *found)
{
    return db_query_one(c, lock ? SQL_RULE_LOCK : SQL_RULE, DBP(DB_I64(id)), &RULE_ROW, out, found);
}

static const char SQL_RULE_UPDATE[] =
    "UPDATE sup_rules SET description = ?, severity = ?, threshold = ?, window_s = ?, params = ?, "
    "enabled = ?, version = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
int sup_sql_rule_update(db_conn *c, const sup_rule *r)
{
    return db_exec(c, SQL_RULE_UPDATE,
                   DBP(DB_STR(r->description), DB_STR(r->severity), DB_I64(r->threshold),
                       DB_I64(r->window_s), DB_STR(r->params), DB_I64(r->enabled), DB_I64(r->version),
                       DB_I64(r->id)),
                   NULL, NULL);
}

static const char SQL_VERSION_ADD[] =
    "INSERT INTO sup_rule_versions (rule_id, version, description, severity, threshold, window_s, "
    "params, enabled, changed_by, note, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
int sup_sql_rule_version_add(db_conn *c, const sup_rule *r, int64_t by, const char *note)
{
    return db_exec(c, SQL_VERSION_ADD,
                   DBP(DB_I64(r->id), DB_I64(r->version), DB_STR(r->description), DB_STR(r->severity),
                       DB_I64(r->threshold), DB_I64(r->window_s), DB_STR(r->params), DB_I64(r->enabled),
                       DB_I64(by), DB_STR(note)),
                   NULL, NULL);
}

static const char SQL_VERSIONS[] =
    "SELECT version, description, severity, threshold, window_s, params, enabled, changed_by, note, "
    "changed_at FROM sup_rule_versions WHERE rule_id = ? ORDER BY version DESC LIMIT 200";
static const db_col VERSION_COLS[] = {
    DBR_I32(sup_rule_version, version),   DBR_CHARS(sup_rule_version, description),
    DBR_CHARS(sup_rule_version, severity), DBR_I32(sup_rule_version, threshold),
    DBR_I32(sup_rule_version, window_s),  DBR_STR(sup_rule_version, params),
    DBR_BOOL(sup_rule_version, enabled),  DBR_I64(sup_rule_version, changed_by),
    DBR_STR(sup_rule_version, note),      DBR_UTC(sup_rule_version, changed_at),
};
static const db_row_spec VERSION_ROW = DB_ROW_SPEC(sup_rule_version, VERSION_COLS);
DB_ROW_ARRAY_FREE_FN(sup_rule_version_array_free, sup_rule_version, &VERSION_ROW)
int sup_sql_rule_versions(db_conn *c, int64_t rule_id, sup_rule_version **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_VERSIONS, DBP(DB_I64(rule_id)), &VERSION_ROW, rows, n);
}

static const char SQL_OBSERVE[] =
    "INSERT INTO sup_observations (rule_id, subject_kind, subject_id, value, event_id, seen_at) "
    "VALUES (?, ?, ?, ?, ?, ?)";
int sup_sql_observe(db_conn *c, int32_t rule_id, const char *kind, int64_t subject, int64_t value,
                    int64_t event_id, const char *at)
{
    return db_exec(c, SQL_OBSERVE,
                   DBP(DB_I64(rule_id), DB_STR(kind), DB_I64(subject), DB_I64(value), DB_I64(event_id),
                       DB_STR(at)),
                   NULL, NULL);
}

typedef struct count_row {
    int64_t n;
} count_row;
static const db_col COUNT_COLS[] = {DBR_I64(count_row, n)};
static const db_row_spec COUNT_ROW = DB_ROW_SPEC(count_row, COUNT_COLS);
static const char SQL_DISTINCT[] =
    "SELECT COUNT(DISTINCT value) AS n FROM sup_observations WHERE rule_id = ? AND subject_kind = ? "
    "AND subject_id = ? AND seen_at > ? - INTERVAL ? SECOND AND seen_at <= ?";
int sup_sql_distinct(db_conn *c, int32_t rule_id, const char *kind, int64_t subject,
                     const char *at, int32_t window_s, int64_t *n)
{
    count_row r = {0};
    int rc = db_query_one(c, SQL_DISTINCT,
                          DBP(DB_I64(rule_id), DB_STR(kind), DB_I64(subject), DB_STR(at),
                              DB_I64(window_s), DB_STR(at)),
                          &COUNT_ROW, &r, NULL);
    *n = r.n;
    return rc;
}

/* LAST_INSERT_ID(id): the folded alert's id comes back as the insert id. */
static const char SQL_RAISE[] =
    "INSERT INTO sup_alerts (rule_id, rule_version, severity, subject_kind, subject_id, outlet_id, "
    "state, outcome, hits, assignee_id, open_key, first_at, last_at) "
    "VALUES (?, ?, ?, ?, ?, ?, 'open', NULL, 1, NULL, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), hits = hits + 1, last_at = VALUES(last_at)";
int sup_sql_alert_raise(db_conn *c, const sup_rule *r, const char *kind, int64_t subject,
                        int64_t outlet_id, const char *at, int64_t *id)
{
    char key[96];
    uint64_t ins = 0;
    int rc;
    snprintf(key, sizeof key, "%d:%s:%lld", (int)r->id, kind, (long long)subject);
    rc = db_exec(c, SQL_RAISE,
                 DBP(DB_I64(r->id), DB_I64(r->version), DB_STR(r->severity), DB_STR(kind),
                     DB_I64(subject), DB_I64(outlet_id), DB_STR(key), DB_STR(at), DB_STR(at)),
                 NULL, &ins);
    *id = (int64_t)ins;
    return rc;
}

static const char SQL_EVIDENCE_ADD[] =
    "INSERT IGNORE INTO sup_alert_evidence (alert_id, event_id, event_type, detail, at) "
    "VALUES (?, ?, ?, ?, ?)";
int sup_sql_evidence_add(db_conn *c, int64_t alert_id, int64_t event_id, const char *type,
                         const char *detail, const char *at)
{
    return db_exec(c, SQL_EVIDENCE_ADD,
                   DBP(DB_I64(alert_id), DB_I64(event_id), DB_STR(type), DB_STR(detail), DB_STR(at)),
                   NULL, NULL);
}

#define ALERT_SELECT \
    "SELECT a.id, a.rule_id, r.code AS rule_code, a.rule_version, a.severity, a.subject_kind, " \
    "a.subject_id, a.outlet_id, a.state, a.outcome, a.hits, a.assignee_id, a.first_at, a.last_at " \
    "FROM sup_alerts a JOIN sup_rules r ON r.id = a.rule_id "
static const db_col ALERT_COLS[] = {
    DBR_I64(sup_alert, id),           DBR_I32(sup_alert, rule_id),
    DBR_CHARS(sup_alert, rule_code),  DBR_I32(sup_alert, rule_version),
    DBR_CHARS(sup_alert, severity),   DBR_CHARS(sup_alert, subject_kind),
    DBR_I64(sup_alert, subject_id),   DBR_I64(sup_alert, outlet_id),
    DBR_CHARS(sup_alert, state),      DBR_CHARS_NULL(sup_alert, outcome, has_outcome),
    DBR_I32(sup_alert, hits),         DBR_I64_NULL(sup_alert, assignee_id, has_assignee_id),
    DBR_UTC(sup_alert, first_at),     DBR_UTC(sup_alert, last_at),
};
static const db_row_spec ALERT_ROW = DB_ROW_SPEC(sup_alert, ALERT_COLS);
DB_ROW_ARRAY_FREE_FN(sup_alert_array_free, sup_alert, &ALERT_ROW)

static const char SQL_ALERT[] = ALERT_SELECT "WHERE a.id = ?";
static const char SQL_ALERT_LOCK[] = ALERT_SELECT "WHERE a.id = ? FOR UPDATE";
int sup_sql_alert(db_conn *c, int64_t id, bool lock, sup_alert *out, bool *found)
{
    return db_query_one(c, lock ? SQL_ALERT_LOCK : SQL_ALERT, DBP(DB_I64(id)), &ALERT_ROW, out, found);
}

/* Newest first along the primary key (keyset on id); each filter is
 * optional. The table is small next to the business tables (folded alerts);
 * a filter on a rare value walks the key until the page fills. */
static const char SQL_ALERTS[] = ALERT_SELECT
    "WHERE a.id < ? AND (? = 0 OR a.rule_id = ?) AND (? IS NULL OR a.severity = ?) "
    "AND (? = 0 OR a.outlet_id = ?) AND (? IS NULL OR a.subject_kind = ?) "
    "AND (? = 0 OR a.subject_id = ?) AND (? IS NULL OR a.state = ?) "
    "AND (? IS NULL OR a.first_at >= ?) AND (? IS NULL OR a.first_at < ?) "
    "ORDER BY a.id DESC LIMIT ?";
int sup_sql_alerts(db_conn *c, const sup_filter *f, sup_alert **rows, int *n)
{
#define OPT_S(s) ((s) ? DB_STR(s) : DB_NULL)
    DB_RETURN_ALL(c, SQL_ALERTS,
                  DBP(DB_I64(f->before > 0 ? f->before : INT64_MAX), DB_I64(f->rule_id), DB_I64(f->rule_id),
                      OPT_S(f->severity), OPT_S(f->severity), DB_I64(f->outlet_id), DB_I64(f->outlet_id),
                      OPT_S(f->subject_kind), OPT_S(f->subject_kind), DB_I64(f->subject_id),
                      DB_I64(f->subject_id), OPT_S(f->state), OPT_S(f->state), OPT_S(f->from),
                      OPT_S(f->from), OPT_S(f->to), OPT_S(f->to), DB_I64(f->limit)),
                  &ALERT_ROW, rows, n);
#undef OPT_S
}

/* Closing frees the fold key: a later trigger opens a new alert. */
static const char SQL_ALERT_MOVE[] =
    "UPDATE sup_alerts SET state = ?, outcome = ?, open_key = IF(? = 'closed', NULL, open_key) "
    "WHERE id = ? AND state = ?";
int sup_sql_alert_move(db_conn *c, int64_t id, const char *from, const char *to,
                       const char *outcome, uint64_t *affected)
{
    return db_exec(c, SQL_ALERT_MOVE,
                   DBP(DB_STR(to), outcome ? DB_STR(outcome) : DB_NULL, DB_STR(to), DB_I64(id),
                       DB_STR(from)),
                   affected, NULL);
}

static const char SQL_ALERT_ASSIGN[] = "UPDATE sup_alerts SET assignee_id = ? WHERE id = ?";
int sup_sql_alert_assign(db_conn *c, int64_t id, int64_t assignee)
{
    return db_exec(c, SQL_ALERT_ASSIGN, DBP(DB_I64(assignee), DB_I64(id)), NULL, NULL);
}

static const char SQL_STEP_ADD[] =
    "INSERT INTO sup_alert_steps (alert_id, from_state, to_state, outcome, assignee_id, operator_id, "
    "note, at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
int sup_sql_step_add(db_conn *c, int64_t alert_id, const char *from, const char *to,
                     const char *outcome, int64_t assignee, int64_t op, const char *note)
{
    return db_exec(c, SQL_STEP_ADD,
                   DBP(DB_I64(alert_id), DB_STR(from), DB_STR(to), outcome ? DB_STR(outcome) : DB_NULL,
                       assignee ? DB_I64(assignee) : DB_NULL, DB_I64(op), DB_STR(note)),
                   NULL, NULL);
}

static const char SQL_EVIDENCE[] =
    "SELECT event_id, event_type, detail, at FROM sup_alert_evidence WHERE alert_id = ? "
    "ORDER BY event_id LIMIT 500";
static const db_col EVIDENCE_COLS[] = {
    DBR_I64(sup_evidence, event_id), DBR_CHARS(sup_evidence, event_type),
    DBR_STR(sup_evidence, detail),   DBR_UTC(sup_evidence, at),
};
static const db_row_spec EVIDENCE_ROW = DB_ROW_SPEC(sup_evidence, EVIDENCE_COLS);
DB_ROW_ARRAY_FREE_FN(sup_evidence_array_free, sup_evidence, &EVIDENCE_ROW)
int sup_sql_evidence(db_conn *c, int64_t alert_id, sup_evidence **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_EVIDENCE, DBP(DB_I64(alert_id)), &EVIDENCE_ROW, rows, n);
}

static const char SQL_STEPS[] =
    "SELECT id, from_state, to_state, outcome, assignee_id, operator_id, note, at FROM sup_alert_steps "
    "WHERE alert_id = ? ORDER BY id LIMIT 500";
static const db_col STEP_COLS[] = {
    DBR_I64(sup_step, id),          DBR_CHARS(sup_step, from_state),
    DBR_CHARS(sup_step, to_state),  DBR_CHARS_NULL(sup_step, outcome, has_outcome),
    DBR_I64_NULL(sup_step, assignee_id, has_assignee_id), DBR_I64(sup_step, operator_id),
    DBR_STR(sup_step, note),        DBR_UTC(sup_step, at),
};
static const db_row_spec STEP_ROW = DB_ROW_SPEC(sup_step, STEP_COLS);
DB_ROW_ARRAY_FREE_FN(sup_step_array_free, sup_step, &STEP_ROW)
int sup_sql_steps(db_conn *c, int64_t alert_id, sup_step **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_STEPS, DBP(DB_I64(alert_id)), &STEP_ROW, rows, n);
}
