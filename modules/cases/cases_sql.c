/* cases_sql.c - one function per statement on the cases tables. */
#include <stdio.h>
#include <string.h>

#include "modules/cases/cases_sql.h"
#include "db/rows.h"

/* One integer column named n (an id, a COUNT(*)). */
typedef struct n_row {
    int64_t n;
} n_row;
static const db_col N_COLS[] = {DBR_I64(n_row, n)};
static const db_row_spec N_ROW = DB_ROW_SPEC(n_row, N_COLS);

typedef struct state_row {
    char state[16];
} state_row;
static const db_col STATE_COLS[] = {DBR_CHARS(state_row, state)};
static const db_row_spec STATE_ROW = DB_ROW_SPEC(state_row, STATE_COLS);

static const char SQL_INSERT[] =
    "INSERT INTO cases (number, query_code, item_code, catalog_version_id, category, applicant_id, "
    "channel, outlet_id, assisted_kind, assisted_id, ref_type, ref_id, state, submitted_at, "
    "submitted_day, promised_days, deadline, updated_at) "
    "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', UTC_TIMESTAMP(3), ?, ?, ?, "
    "UTC_TIMESTAMP(3))";
static const char SQL_SET_NUMBER[] = "UPDATE cases SET number = ? WHERE id = ? AND number IS NULL";
static const char SQL_LOCK_STATE[] = "SELECT state FROM cases WHERE id = ? FOR UPDATE";
static const char SQL_LOCK_CASE[] =
    "SELECT state, trips, missing_materials, supply_state, outlet_id, query_code, "
    "catalog_version_id, commitment_materials FROM cases WHERE id = ? FOR UPDATE";
static const db_col LOCKED_COLS[] = {
    DBR_CHARS(cases_locked, state),
    DBR_I64(cases_locked, trips),
    DBR_STR_NULL(cases_locked, missing_materials),
    DBR_CHARS(cases_locked, supply_state),
    DBR_I64_NULL(cases_locked, outlet_id, has_outlet_id),
    DBR_CHARS(cases_locked, query_code),
    DBR_I64(cases_locked, catalog_version_id),
    DBR_STR_NULL(cases_locked, commitment_materials),
};
static const db_row_spec LOCKED_ROW = DB_ROW_SPEC(cases_locked, LOCKED_COLS);
/* accepted_at / completed_at keep their first value; completed_day is set
 * only on completion (the figures count completions by that day). */
static const char SQL_MOVE[] =
    "UPDATE cases SET state = ?, state_reason = ?, updated_at = UTC_TIMESTAMP(3), "
    "accepted_at = IF(? = 'accepted' AND accepted_at IS NULL, UTC_TIMESTAMP(3), accepted_at), "
    "completed_at = IF(? = 'completed', UTC_TIMESTAMP(3), completed_at), "
    "completed_day = IF(? = 'completed', ?, completed_day) "
    "WHERE id = ? AND state = ?";
static const char SQL_EVENT[] =
    "INSERT INTO case_events (case_id, at, kind, from_state, to_state, actor, note) "
    "VALUES (?, UTC_TIMESTAMP(3), ?, ?, ?, ?, ?)";
static const char SQL_FIND_REF[] =
    "SELECT id AS n FROM cases WHERE ref_type = ? AND ref_id = ? ORDER BY id DESC LIMIT 1";
static const char SQL_TRIP_COUNT[] =
    "UPDATE cases SET trips = trips + 1, updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
/* The figures count trips by completion day: a late trip (documents
 * collected after completion) makes that day's rollup stale. */
static const char SQL_TRIP_DIRTY[] =
    "INSERT IGNORE INTO case_rollup_dirty (day) "
    "SELECT completed_day FROM cases WHERE id = ? AND completed_day IS NOT NULL";
static const char SQL_TRIP_INSERT[] =
    "INSERT INTO case_trips (case_id, outlet_id, operator_id, partner_id, visit_day, visit_ref, at) "
    "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
/* A locking read: the transaction's snapshot may predate a check-in that
 * committed while this one waited for the case row. */
static const char SQL_TRIP_VISIT[] =
    "SELECT COUNT(*) AS n FROM case_trips WHERE case_id = ? AND outlet_id = ? AND visit_day = ? "
    "AND visit_ref = ? LOCK IN SHARE MODE";
static const char SQL_SET_OUTLET[] =
    "UPDATE cases SET outlet_id = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND outlet_id IS NULL";

#define CASE_COLS                                                                               \
    "c.id, c.number, c.query_code, c.item_code, c.catalog_version_id, c.category, "           \
    "c.applicant_id, c.channel, c.outlet_id, c.assisted_kind, c.assisted_id, c.ref_type, "    \
    "c.ref_id, c.state, c.submitted_at, c.submitted_day, c.promised_days, c.deadline, "       \
    "c.accepted_at, c.completed_at, c.completed_day, c.trips, c.warned, c.overdue, "          \
    "c.missing_materials, c.supply_due, c.supply_state, c.commitment_materials, "             \
    "c.state_reason, v.name AS item_name, v.version AS item_version, v.trips AS item_trips, " \
    "EXISTS (SELECT 1 FROM case_ratings r WHERE r.case_id = c.id) AS rated"
static const db_col CASE_ROW_COLS[] = {
    DBR_I64(cases_case, id),
    DBR_STR_NULL(cases_case, number),
    DBR_CHARS(cases_case, query_code),
    DBR_STR(cases_case, item_code),
    DBR_I64(cases_case, catalog_version_id),
    DBR_STR(cases_case, category),
    DBR_I64(cases_case, applicant_id),
    DBR_STR(cases_case, channel),
    DBR_I64_NULL(cases_case, outlet_id, has_outlet_id),
    DBR_STR_NULL(cases_case, assisted_kind),
    DBR_I64_NULL(cases_case, assisted_id, has_assisted_id),
    DBR_STR_NULL(cases_case, ref_type),
    DBR_STR_NULL(cases_case, ref_id),
    DBR_CHARS(cases_case, state),
    DBR_UTC(cases_case, submitted_at),
    DBR_CHARS(cases_case, submitted_day),
    DBR_I64(cases_case, promised_days),
    DBR_CHARS(cases_case, deadline),
    DBR_UTC_NULL(cases_case, accepted_at, has_accepted_at),
    DBR_UTC_NULL(cases_case, completed_at, has_completed_at),
    DBR_CHARS_NULL(cases_case, completed_day, has_completed_day),
    DBR_I64(cases_case, trips),
    DBR_BOOL(cases_case, warned),
    DBR_BOOL(cases_case, overdue),
    DBR_STR_NULL(cases_case, missing_materials),
    DBR_CHARS_NULL(cases_case, supply_due, has_supply_due),
    DBR_CHARS(cases_case, supply_state),
    DBR_STR_NULL(cases_case, commitment_materials),
    DBR_STR_NULL(cases_case, state_reason),
    DBR_STR(cases_case, item_name),
    DBR_I64(cases_case, item_version),
    DBR_I64(cases_case, item_trips),
    DBR_BOOL(cases_case, rated),
};
static const db_row_spec CASE_ROW = DB_ROW_SPEC(cases_case, CASE_ROW_COLS);

static const char SQL_GET_NUMBER[] =
    "SELECT " CASE_COLS " FROM cases c JOIN catalog_versions v ON v.id = c.catalog_version_id "
    "WHERE c.number = ?";
static const char SQL_LIST_APPLICANT[] =
    "SELECT " CASE_COLS " FROM cases c JOIN catalog_versions v ON v.id = c.catalog_version_id "
    "WHERE c.applicant_id = ? AND (? = 0 OR c.id < ?) ORDER BY c.id DESC LIMIT ?";
static const char SQL_EVENTS[] =
    "SELECT at, kind, from_state, to_state, note FROM case_events WHERE case_id = ? ORDER BY id";
static const db_col EVENT_COLS[] = {
    DBR_UTC(cases_event_row, at),
    DBR_STR(cases_event_row, kind),
    DBR_STR_NULL(cases_event_row, from_state),
    DBR_STR_NULL(cases_event_row, to_state),
    DBR_STR_NULL(cases_event_row, note),
};
static const db_row_spec EVENT_ROW = DB_ROW_SPEC(cases_event_row, EVENT_COLS);
static const char SQL_TRIPS[] =
    "SELECT t.at, t.outlet_id, o.name AS outlet_name FROM case_trips t "
    "LEFT JOIN outlets o ON o.id = t.outlet_id WHERE t.case_id = ? ORDER BY t.id";
static const db_col TRIP_COLS[] = {
    DBR_UTC(cases_trip_row, at),
    DBR_I64_NULL(cases_trip_row, outlet_id, has_outlet_id),
    DBR_STR_NULL(cases_trip_row, outlet_name),
};
static const db_row_spec TRIP_ROW = DB_ROW_SPEC(cases_trip_row, TRIP_COLS);

static db_val opt_i64(int64_t v)
{
    return v ? DB_I64(v) : DB_NULL;
}

int cases_sql_insert(db_conn *c, const cases_row_in *in, int64_t *id)
{
    uint64_t iid = 0;
    if (db_exec(c, SQL_INSERT,
                DBP(DB_STR(in->query_code), DB_STR(in->item_code), DB_I64(in->version_id),
                    DB_STR(in->category), DB_I64(in->applicant_id), DB_STR(in->channel),
                    opt_i64(in->outlet_id), DB_STR(in->assisted_kind),
                    in->assisted_kind ? DB_I64(in->assisted_id) : DB_NULL, DB_STR(in->ref_type),
                    DB_STR(in->ref_id), DB_STR(in->submitted_day), DB_I64(in->promised_days),
                    DB_STR(in->deadline)),
                NULL, &iid) != 0)
        return -1;
    *id = (int64_t)iid;
    return 0;
}

int cases_sql_set_number(db_conn *c, int64_t id, const char *number)
{
    return db_exec(c, SQL_SET_NUMBER, DBP(DB_STR(number), DB_I64(id)), NULL, NULL);
}

int cases_sql_lock_state(db_conn *c, int64_t id, char state[16], bool *found)
{
    state_row row = {""};
    int rc = db_query_one(c, SQL_LOCK_STATE, DBP(DB_I64(id)), &STATE_ROW, &row, found);
    snprintf(state, 16, "%s", row.state);
    return rc;
}

int cases_sql_lock_case(db_conn *c, int64_t id, cases_locked *out, bool *found)
{
    return db_query_one(c, SQL_LOCK_CASE, DBP(DB_I64(id)), &LOCKED_ROW, out, found);
}

void cases_locked_clear(cases_locked *l)
{
    db_row_clear(&LOCKED_ROW, l);
}

int cases_sql_move(db_conn *c, int64_t id, const char *from, const char *to, const char *reason,
                   const char *completed_day, bool *done)
{
    uint64_t affected = 0;
    *done = false;
    if (db_exec(c, SQL_MOVE,
                DBP(DB_STR(to), DB_STR(reason), DB_STR(to), DB_STR(to), DB_STR(to),
                    DB_STR(completed_day), DB_I64(id), DB_STR(from)),
                &affected, NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

int cases_sql_event(db_conn *c, int64_t id, const char *kind, const char *from, const char *to,
                    const char *actor, const char *note)
{
    return db_exec(c, SQL_EVENT,
                   DBP(DB_I64(id), DB_STR(kind), DB_STR(from), DB_STR(to), DB_STR(actor ? actor : "system"),
                       DB_STR(note)),
                   NULL, NULL);
}

int cases_sql_find_by_ref(db_conn *c, const char *ref_type, const char *ref_id, int64_t *id)
{
    n_row row = {0};
    bool found = false;
    int rc = db_query_one(c, SQL_FIND_REF, DBP(DB_STR(ref_type), DB_STR(ref_id)), &N_ROW, &row,
                          &found);
    *id = row.n;
    return rc;
}

int cases_sql_add_trip(db_conn *c, int64_t id, int64_t outlet_id, int64_t operator_id,
                       int64_t partner_id, const char *visit_day, const char *visit_ref,
                       bool *counted)
{
    n_row seen = {0};

    *counted = false;
    if (outlet_id > 0) {
        if (db_query_one(c, SQL_TRIP_VISIT,
                         DBP(DB_I64(id), DB_I64(outlet_id), DB_STR(visit_day), DB_STR(visit_ref)),
                         &N_ROW, &seen, NULL) != 0)
            return -1;
        if (seen.n > 0)
            return 0;
    }
    if (db_exec(c, SQL_TRIP_INSERT,
                DBP(DB_I64(id), opt_i64(outlet_id), opt_i64(operator_id), opt_i64(partner_id),
                    outlet_id > 0 ? DB_STR(visit_day) : DB_NULL, DB_STR(visit_ref)),
                NULL, NULL) != 0) {
        /* The unique visit key: the same visit, recorded meanwhile. */
        if (db_error(c) != DB_ERR_DUP)
            return -1;
        db_error_clear(c);
        return 0;
    }
    if (db_exec(c, SQL_TRIP_COUNT, DBP(DB_I64(id)), NULL, NULL) != 0 ||
        db_exec(c, SQL_TRIP_DIRTY, DBP(DB_I64(id)), NULL, NULL) != 0)
        return -1;
    *counted = true;
    return 0;
}

int cases_sql_set_outlet(db_conn *c, int64_t id, int64_t outlet_id, bool *done)
{
    uint64_t affected = 0;
    *done = false;
    if (db_exec(c, SQL_SET_OUTLET, DBP(DB_I64(outlet_id), DB_I64(id)), &affected, NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

void cases_case_clear(cases_case *k)
{
    db_row_clear(&CASE_ROW, k);
}

void cases_case_array_free(cases_case *rows, int n)
{
    db_row_array_free(&CASE_ROW, rows, n);
}

int cases_sql_get_by_number(db_conn *c, const char *number, cases_case *out, bool *found)
{
    return db_query_one(c, SQL_GET_NUMBER, DBP(DB_STR(number)), &CASE_ROW, out, found);
}

int cases_sql_list_by_applicant(db_conn *c, int64_t applicant_id, int64_t before_id, int limit,
                                cases_case **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_LIST_APPLICANT,
                        DBP(DB_I64(applicant_id), DB_I64(before_id), DB_I64(before_id), DB_I64(limit)),
                        &CASE_ROW, rows, n);
}

int cases_sql_events(db_conn *c, int64_t id, cases_event_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_EVENTS, DBP(DB_I64(id)), &EVENT_ROW, rows, n);
}

void cases_event_row_array_free(cases_event_row *rows, int n)
{
    db_row_array_free(&EVENT_ROW, rows, n);
}

int cases_sql_trips(db_conn *c, int64_t id, cases_trip_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_TRIPS, DBP(DB_I64(id)), &TRIP_ROW, rows, n);
}

void cases_trip_row_array_free(cases_trip_row *rows, int n)
{
    db_row_array_free(&TRIP_ROW, rows, n);
}

/* ---- acceptance details ---- */

static const char SQL_SET_ACCEPTANCE[] =
    "UPDATE cases SET missing_materials = ?, supply_due = ?, "
    "supply_state = IF(? IS NULL, supply_state, 'pending'), commitment_materials = ?, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_SET_MISSING[] =
    "UPDATE cases SET missing_materials = ?, supply_state = IF(?, 'supplied', supply_state), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_SET_COMMITTED[] =
    "UPDATE cases SET missing_materials = '[]', commitment_materials = ?, supply_state = 'committed', "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";

int cases_sql_set_acceptance(db_conn *c, int64_t id, const char *missing_json, const char *supply_due,
                             const char *commitment_json)
{
    return db_exec(c, SQL_SET_ACCEPTANCE,
                   DBP(DB_STR(missing_json), DB_STR(supply_due), DB_STR(missing_json),
                       DB_STR(commitment_json), DB_I64(id)),
                   NULL, NULL);
}

int cases_sql_set_committed(db_conn *c, int64_t id, const char *commitment_json)
{
    return db_exec(c, SQL_SET_COMMITTED, DBP(DB_STR(commitment_json), DB_I64(id)), NULL, NULL);
}

int cases_sql_set_missing(db_conn *c, int64_t id, const char *missing_json, bool all_supplied)
{
    return db_exec(c, SQL_SET_MISSING, DBP(DB_STR(missing_json), DB_I64(all_supplied), DB_I64(id)),
                   NULL, NULL);
}

/* ---- ratings and rectifications ---- */

static const char SQL_RATING_GET[] =
    "SELECT score, comment, created_at FROM case_ratings WHERE case_id = ?";
static const db_col RATING_COLS[] = {
    DBR_I64(cases_rating_row, score),
    DBR_STR(cases_rating_row, comment),
    DBR_UTC(cases_rating_row, created_at),
};
static const db_row_spec RATING_ROW = DB_ROW_SPEC(cases_rating_row, RATING_COLS);
static const char SQL_RATING_INSERT[] =
    "INSERT INTO case_ratings (case_id, applicant_id, channel, assisted_kind, assisted_id, score, "
    "comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_RECT_INSERT[] =
    "INSERT INTO rectifications (case_id, outlet_id, score, state, due_at, created_at) "
    "VALUES (?, ?, ?, 'open', UTC_TIMESTAMP(3) + INTERVAL ? HOUR, UTC_TIMESTAMP(3))";
#define RECT_COLS                                                                            \
    "r.id, r.state, r.due_at, r.answer, r.answered_at, r.score, r.case_id, c.number, r.outlet_id"
static const db_col RECT_COLS_TABLE[] = {
    DBR_I64(cases_rect_row, id),
    DBR_CHARS(cases_rect_row, state),
    DBR_UTC(cases_rect_row, due_at),
    DBR_STR_NULL(cases_rect_row, answer),
    DBR_UTC_NULL(cases_rect_row, answered_at, has_answered_at),
    DBR_I64(cases_rect_row, score),
    DBR_I64(cases_rect_row, case_id),
    DBR_STR_NULL(cases_rect_row, number),
    DBR_I64_NULL(cases_rect_row, outlet_id, has_outlet_id),
};
static const db_row_spec RECT_ROW = DB_ROW_SPEC(cases_rect_row, RECT_COLS_TABLE);
static const char SQL_RECT_BY_CASE[] =
    "SELECT " RECT_COLS " FROM rectifications r JOIN cases c ON c.id = r.case_id WHERE r.case_id = ?";
static const char SQL_RECT_LOCK[] =
    "SELECT " RECT_COLS " FROM rectifications r JOIN cases c ON c.id = r.case_id WHERE r.id = ? "
    "FOR UPDATE";
static const char SQL_RECT_ANSWER[] =
    "UPDATE rectifications SET state = 'answered', answer = ?, answered_by = ?, "
    "answered_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'open'";
static const char SQL_RECT_LIST[] =
    "SELECT " RECT_COLS " FROM rectifications r JOIN cases c ON c.id = r.case_id "
    "WHERE (? IS NULL OR r.state = ?) ORDER BY r.due_at, r.id LIMIT ?";
static const char SQL_MARK_DIRTY[] = "INSERT IGNORE INTO case_rollup_dirty (day) VALUES (?)";

int cases_sql_rating_get(db_conn *c, int64_t case_id, cases_rating_row *out, bool *found)
{
    return db_query_one(c, SQL_RATING_GET, DBP(DB_I64(case_id)), &RATING_ROW, out, found);
}

void cases_rating_row_clear(cases_rating_row *r)
{
    db_row_clear(&RATING_ROW, r);
}

int cases_sql_rating_insert(db_conn *c, int64_t case_id, int64_t applicant_id, const char *channel,
                            const char *assisted_kind, int64_t assisted_id, int score,
                            const char *comment)
{
    return db_exec(c, SQL_RATING_INSERT,
                   DBP(DB_I64(case_id), DB_I64(applicant_id), DB_STR(channel), DB_STR(assisted_kind),
                       assisted_kind ? DB_I64(assisted_id) : DB_NULL, DB_I64(score), DB_STR(comment)),
                   NULL, NULL);
}

int cases_sql_rect_insert(db_conn *c, int64_t case_id, int64_t outlet_id, int score, int hours,
                          int64_t *id)
{
    uint64_t iid = 0;
    if (db_exec(c, SQL_RECT_INSERT,
                DBP(DB_I64(case_id), opt_i64(outlet_id), DB_I64(score), DB_I64(hours)), NULL,
                &iid) != 0)
        return -1;
    *id = (int64_t)iid;
    return 0;
}

void cases_rect_row_clear(cases_rect_row *r)
{
    db_row_clear(&RECT_ROW, r);
}

void cases_rect_row_array_free(cases_rect_row *rows, int n)
{
    db_row_array_free(&RECT_ROW, rows, n);
}

int cases_sql_rect_by_case(db_conn *c, int64_t case_id, cases_rect_row *out, bool *found)
{
    return db_query_one(c, SQL_RECT_BY_CASE, DBP(DB_I64(case_id)), &RECT_ROW, out, found);
}

int cases_sql_rect_lock(db_conn *c, int64_t id, cases_rect_row *out, bool *found)
{
    return db_query_one(c, SQL_RECT_LOCK, DBP(DB_I64(id)), &RECT_ROW, out, found);
}

int cases_sql_rect_answer(db_conn *c, int64_t id, const char *answer, int64_t operator_id, bool *done)
{
    uint64_t affected = 0;
    *done = false;
    if (db_exec(c, SQL_RECT_ANSWER, DBP(DB_STR(answer), DB_I64(operator_id), DB_I64(id)), &affected,
                NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

int cases_sql_rect_list(db_conn *c, const char *state, int limit, cases_rect_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_RECT_LIST, DBP(DB_STR(state), DB_STR(state), DB_I64(limit)), &RECT_ROW, rows,
                        n);
}

int cases_sql_mark_dirty(db_conn *c, const char *day)
{
    return db_exec(c, SQL_MARK_DIRTY, DBP(DB_STR(day)), NULL, NULL);
}

/* ---- alerts ---- */

static const char SQL_ALERTS[] =
    "SELECT a.id, a.kind, a.created_at, c.number, c.item_code, a.outlet_id, c.state, c.deadline "
    "FROM case_alerts a JOIN cases c ON c.id = a.case_id "
    "WHERE (? = 0 OR a.outlet_id = ?) AND (? = 0 OR a.id < ?) ORDER BY a.id DESC LIMIT ?";

static const db_col ALERT_COLS[] = {
    DBR_I64(cases_alert_row, id),
    DBR_CHARS(cases_alert_row, kind),
    DBR_UTC(cases_alert_row, created_at),
    DBR_STR_NULL(cases_alert_row, number),
    DBR_STR(cases_alert_row, item_code),
    DBR_I64_NULL(cases_alert_row, outlet_id, has_outlet_id),
    DBR_CHARS(cases_alert_row, state),
    DBR_CHARS(cases_alert_row, deadline),
};
static const db_row_spec ALERT_ROW = DB_ROW_SPEC(cases_alert_row, ALERT_COLS);

int cases_sql_alerts(db_conn *c, int64_t outlet_id, int64_t before_id, int limit,
                     cases_alert_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_ALERTS,
                        DBP(DB_I64(outlet_id), DB_I64(outlet_id), DB_I64(before_id), DB_I64(before_id),
                            DB_I64(limit)),
                        &ALERT_ROW, rows, n);
}

void cases_alert_row_array_free(cases_alert_row *rows, int n)
{
    db_row_array_free(&ALERT_ROW, rows, n);
}

/* ---- figures and rollup ---- */

/* Partner outlets: every channel that is neither the app nor a window. */
#define PARTNER_CHANNELS "('post','dealer','insurer','hospital','court','station')"
#define FIG_SUMS                                                                            \
    "COUNT(*) AS completed, COALESCE(SUM(c.trips <= 1), 0) AS one_trip, "                   \
    "COALESCE(SUM(c.trips = 0), 0) AS zero_trip, COALESCE(SUM(c.channel = 'app'), 0) AS online, " \
    "COALESCE(SUM(c.completed_day <= c.deadline), 0) AS on_time, "                          \
    "COALESCE(SUM(c.channel <> 'app'), 0) AS offline, "                                     \
    "COALESCE(SUM(c.channel IN " PARTNER_CHANNELS "), 0) AS at_partner, "                   \
    "COUNT(r.case_id) AS rated, COALESCE(SUM(r.score >= 4), 0) AS satisfied"

static const char SQL_ROLLUP_DELETE[] = "DELETE FROM case_rollup_daily WHERE day = ?";
static const char SQL_ROLLUP_INSERT[] =
    "INSERT INTO case_rollup_daily (day, category, channel, outlet_id, completed, one_trip, "
    "zero_trip, online, on_time, offline, at_partner, rated, satisfied) "
    "SELECT c.completed_day, c.category, c.channel, COALESCE(c.outlet_id, 0), " FIG_SUMS
    " FROM cases c LEFT JOIN case_ratings r ON r.case_id = c.id "
    "WHERE c.completed_day = ? AND c.state = 'completed' "
    "GROUP BY c.completed_day, c.category, c.channel, COALESCE(c.outlet_id, 0)";
static const char SQL_DIRTY[] = "SELECT day FROM case_rollup_dirty ORDER BY day LIMIT 100";
static const char SQL_DIRTY_CLEAR[] = "DELETE FROM case_rollup_dirty WHERE day = ?";
/* The grouping column is chosen by a bound value, so one prepared
 * statement serves the three groupings. */
static const char SQL_FIG_ROLLUP[] =
    "SELECT CASE ? WHEN 'category' THEN d.category WHEN 'channel' THEN d.channel "
    "ELSE CAST(d.outlet_id AS CHAR) END AS k, SUM(d.completed) AS completed, "
    "SUM(d.one_trip) AS one_trip, SUM(d.zero_trip) AS zero_trip, SUM(d.online) AS online, "
    "SUM(d.on_time) AS on_time, SUM(d.offline) AS offline, SUM(d.at_partner) AS at_partner, "
    "SUM(d.rated) AS rated, SUM(d.satisfied) AS satisfied FROM case_rollup_daily d WHERE d.day BETWEEN ? AND ? GROUP BY k ORDER BY k";
static const char SQL_FIG_LIVE[] =
    "SELECT CASE ? WHEN 'category' THEN CAST(c.category AS CHAR) WHEN 'channel' THEN "
    "CAST(c.channel AS CHAR) ELSE CAST(COALESCE(c.outlet_id, 0) AS CHAR) END AS k, " FIG_SUMS
    " FROM cases c LEFT JOIN case_ratings r ON r.case_id = c.id "
    "WHERE c.completed_day = ? AND c.state = 'completed' GROUP BY k ORDER BY k";
static const char SQL_OUTLET_NAMES[] = "SELECT id, name FROM outlets";

int cases_sql_rollup_day(db_conn *c, const char *day)
{
    if (db_exec(c, SQL_ROLLUP_DELETE, DBP(DB_STR(day)), NULL, NULL) != 0)
        return -1;
    return db_exec(c, SQL_ROLLUP_INSERT, DBP(DB_STR(day)), NULL, NULL);
}

static const db_col DAY_COLS[] = {DBR_CHARS(cases_day_row, day)};
static const db_row_spec DAY_ROW = DB_ROW_SPEC(cases_day_row, DAY_COLS);

int cases_sql_dirty_days(db_conn *c, cases_day_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_DIRTY, DBP0, &DAY_ROW, rows, n);
}

int cases_sql_dirty_clear(db_conn *c, const char *day)
{
    return db_exec(c, SQL_DIRTY_CLEAR, DBP(DB_STR(day)), NULL, NULL);
}

static const db_col FIG_COLS[] = {
    DBR_STR_NULL(cases_fig_row, k),       DBR_I64(cases_fig_row, completed),
    DBR_I64(cases_fig_row, one_trip),     DBR_I64(cases_fig_row, zero_trip),
    DBR_I64(cases_fig_row, online),       DBR_I64(cases_fig_row, on_time),
    DBR_I64(cases_fig_row, offline),      DBR_I64(cases_fig_row, at_partner),
    DBR_I64(cases_fig_row, rated),        DBR_I64(cases_fig_row, satisfied),
};
static const db_row_spec FIG_ROW = DB_ROW_SPEC(cases_fig_row, FIG_COLS);

int cases_sql_figures_rollup(db_conn *c, const char *from, const char *to, const char *group,
                             cases_fig_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_FIG_ROLLUP, DBP(DB_STR(group), DB_STR(from), DB_STR(to)), &FIG_ROW, rows, n);
}

int cases_sql_figures_live(db_conn *c, const char *day, const char *group, cases_fig_row **rows,
                           int *n)
{
    DB_RETURN_ALL(c, SQL_FIG_LIVE, DBP(DB_STR(group), DB_STR(day)), &FIG_ROW, rows, n);
}

void cases_fig_row_array_free(cases_fig_row *rows, int n)
{
    db_row_array_free(&FIG_ROW, rows, n);
}

static const db_col OUTLET_COLS[] = {
    DBR_CHARS(cases_outlet_row, id),
    DBR_STR(cases_outlet_row, name),
};
static const db_row_spec OUTLET_ROW = DB_ROW_SPEC(cases_outlet_row, OUTLET_COLS);

int cases_sql_outlet_names(db_conn *c, cases_outlet_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_OUTLET_NAMES, DBP0, &OUTLET_ROW, rows, n);
}

void cases_outlet_row_array_free(cases_outlet_row *rows, int n)
{
    db_row_array_free(&OUTLET_ROW, rows, n);
}

/* ---- jobs ---- */

static const char SQL_OPEN_BATCH[] =
    "SELECT id, submitted_day, promised_days, deadline, COALESCE(outlet_id, 0) AS outlet_id, "
    "warned FROM cases "
    "WHERE state IN ('submitted','accepted','in_progress') AND overdue = 0 AND id > ? "
    "ORDER BY id LIMIT ?";
static const char SQL_ALERT[] =
    "INSERT IGNORE INTO case_alerts (case_id, outlet_id, kind, created_at) "
    "VALUES (?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_FLAG_WARNED[] = "UPDATE cases SET warned = 1 WHERE id = ? AND warned = 0";
static const char SQL_FLAG_OVERDUE[] =
    "UPDATE cases SET overdue = 1, warned = 1 WHERE id = ? AND overdue = 0";
static const char SQL_SUPPLY_BATCH[] =
    "SELECT id, supply_due, supply_state, COALESCE(outlet_id, 0) AS outlet_id FROM cases "
    "WHERE supply_state IN ('pending','reminded') AND supply_due <= ? AND id > ? "
    "AND state IN ('submitted','accepted','in_progress') ORDER BY id LIMIT ?";
static const char SQL_SUPPLY_MOVE[] =
    "UPDATE cases SET supply_state = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND supply_state = ?";
static const char SQL_RECT_OVERDUE[] =
    "SELECT id, case_id, COALESCE(outlet_id, 0) AS outlet_id FROM rectifications "
    "WHERE state = 'open' AND due_at < FROM_UNIXTIME(?) LIMIT 1000";

static const db_col OPEN_COLS[] = {
    DBR_I64(cases_open_row, id),         DBR_CHARS(cases_open_row, submitted_day),
    DBR_I64(cases_open_row, promised_days), DBR_CHARS(cases_open_row, deadline),
    DBR_I64(cases_open_row, outlet_id),  DBR_BOOL(cases_open_row, warned),
};
static const db_row_spec OPEN_ROW = DB_ROW_SPEC(cases_open_row, OPEN_COLS);

int cases_sql_open_batch(db_conn *c, int64_t after_id, int limit, cases_open_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_OPEN_BATCH, DBP(DB_I64(after_id), DB_I64(limit)), &OPEN_ROW, rows, n);
}

int cases_sql_alert(db_conn *c, int64_t case_id, int64_t outlet_id, const char *kind)
{
    return db_exec(c, SQL_ALERT, DBP(DB_I64(case_id), opt_i64(outlet_id), DB_STR(kind)), NULL, NULL);
}

int cases_sql_flag_warned(db_conn *c, int64_t case_id)
{
    return db_exec(c, SQL_FLAG_WARNED, DBP(DB_I64(case_id)), NULL, NULL);
}

int cases_sql_flag_overdue(db_conn *c, int64_t case_id)
{
    return db_exec(c, SQL_FLAG_OVERDUE, DBP(DB_I64(case_id)), NULL, NULL);
}

static const db_col SUPPLY_COLS[] = {
    DBR_I64(cases_supply_row, id),
    DBR_CHARS(cases_supply_row, supply_due),
    DBR_CHARS(cases_supply_row, supply_state),
    DBR_I64(cases_supply_row, outlet_id),
};
static const db_row_spec SUPPLY_ROW = DB_ROW_SPEC(cases_supply_row, SUPPLY_COLS);

int cases_sql_supply_batch(db_conn *c, const char *due_by, int64_t after_id, int limit,
                           cases_supply_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_SUPPLY_BATCH, DBP(DB_STR(due_by), DB_I64(after_id), DB_I64(limit)),
                        &SUPPLY_ROW, rows, n);
}

int cases_sql_supply_move(db_conn *c, int64_t case_id, const char *from, const char *to, bool *done)
{
    uint64_t affected = 0;
    *done = false;
    if (db_exec(c, SQL_SUPPLY_MOVE, DBP(DB_STR(to), DB_I64(case_id), DB_STR(from)), &affected, NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

static const db_col RECT_DUE_COLS[] = {
    DBR_I64(cases_rect_due_row, id),
    DBR_I64(cases_rect_due_row, case_id),
    DBR_I64(cases_rect_due_row, outlet_id),
};
static const db_row_spec RECT_DUE_ROW = DB_ROW_SPEC(cases_rect_due_row, RECT_DUE_COLS);

int cases_sql_rect_overdue(db_conn *c, int64_t now_unix, cases_rect_due_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_RECT_OVERDUE, DBP(DB_I64(now_unix)), &RECT_DUE_ROW, rows, n);
}
