/* cases_sql.h - statements on the cases tables (private to the module).
 * Every function runs on the caller's connection (and transaction) and
 * returns 0 or -1 with the error left in c. db_rows results belong to the
 * caller. */
#ifndef ONETRIP_CASES_SQL_H
#define ONETRIP_CASES_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

typedef struct cases_row_in {
    const char *query_code, *item_code, *category, *channel, *assisted_kind, *ref_type, *ref_id;
    int64_t version_id, applicant_id, outlet_id, assisted_id;
    const char *submitted_day, *deadline; /* YYYY-MM-DD */
    int promised_days;
} cases_row_in;

int cases_sql_insert(db_conn *c, const cases_row_in *in, int64_t *id);
int cases_sql_set_number(db_conn *c, int64_t id, const char *number);
/* State of a case, locked; *found false when absent. */
int cases_sql_lock_state(db_conn *c, int64_t id, char state[16], bool *found);
/* The case row, locked (latest committed values, whatever the
 * transaction's snapshot): the CL_ columns. No row when absent. */
enum {
    CL_STATE, CL_TRIPS, CL_MISSING, CL_SUPPLY_STATE, CL_OUTLET, CL_QUERY_CODE, CL_VERSION_ID,
    CL_COMMITMENT
};
int cases_sql_lock_case(db_conn *c, int64_t id, db_rows **out);
/* Conditional move from -> to (affected-rows decides); completed_day is the
 * Shanghai day used when to is "completed". */
int cases_sql_move(db_conn *c, int64_t id, const char *from, const char *to, const char *reason,
                   const char *completed_day, bool *done);
int cases_sql_event(db_conn *c, int64_t id, const char *kind, const char *from, const char *to,
                    const char *actor, const char *note);
int cases_sql_find_by_ref(db_conn *c, const char *ref_type, const char *ref_id, int64_t *id);
/* Records a visit of the applicant; call with the case row locked (every
 * trip of a case is then decided one at a time). One trip per (case,
 * outlet, visit_day, visit_ref): when that outlet already recorded this
 * visit (visit_ref "" for check-ins at the counter: one per outlet and day),
 * *counted is false and nothing changes. outlet_id 0 (none) is always
 * counted. A trip added to a case completed on an earlier day marks that
 * day's rollup dirty. */
int cases_sql_add_trip(db_conn *c, int64_t id, int64_t outlet_id, int64_t operator_id,
                       int64_t partner_id, const char *visit_day, const char *visit_ref,
                       bool *counted);
/* The first visit of a case filed online assigns its outlet (conditional on
 * it having none; *done tells). */
int cases_sql_set_outlet(db_conn *c, int64_t id, int64_t outlet_id, bool *done);

/* Columns of cases_sql_get* rows. */
enum cases_col {
    CC_ID, CC_NUMBER, CC_QUERY_CODE, CC_ITEM, CC_VERSION_ID, CC_CATEGORY, CC_APPLICANT,
    CC_CHANNEL, CC_OUTLET, CC_ASSISTED_KIND, CC_ASSISTED_ID, CC_REF_TYPE, CC_REF_ID, CC_STATE,
    CC_SUBMITTED_AT, CC_SUBMITTED_DAY, CC_PROMISED, CC_DEADLINE, CC_ACCEPTED_AT,
    CC_COMPLETED_AT, CC_COMPLETED_DAY, CC_TRIPS, CC_WARNED, CC_OVERDUE, CC_MISSING,
    CC_SUPPLY_DUE, CC_SUPPLY_STATE, CC_COMMITMENT, CC_REASON, CC_ITEM_NAME, CC_ITEM_VERSION,
    CC_ITEM_TRIPS, CC_RATED
};
/* Not locked: lock with cases_sql_lock_state before a change. */
int cases_sql_get_by_number(db_conn *c, const char *number, db_rows **out);
/* A citizen's cases, newest first, ids below before_id (0 = from the top). */
int cases_sql_list_by_applicant(db_conn *c, int64_t applicant_id, int64_t before_id, int limit,
                                db_rows **out);
int cases_sql_events(db_conn *c, int64_t id, db_rows **out);
int cases_sql_trips(db_conn *c, int64_t id, db_rows **out);

#endif

/* ---- acceptance details ---- */
int cases_sql_set_acceptance(db_conn *c, int64_t id, const char *missing_json, const char *supply_due,
                             const char *commitment_json);
/* Materials still missing are replaced by the applicant's signed commitment
 * (commitment_json: the whole new commitment list): none is missing any
 * more and supply_state becomes 'committed'. */
int cases_sql_set_committed(db_conn *c, int64_t id, const char *commitment_json);
/* Replaces the list of materials still missing; empty list = all supplied. */
int cases_sql_set_missing(db_conn *c, int64_t id, const char *missing_json, bool all_supplied);

/* ---- ratings and rectifications ---- */
int cases_sql_rating_get(db_conn *c, int64_t case_id, db_rows **out); /* score, comment, created_at */
int cases_sql_rating_insert(db_conn *c, int64_t case_id, int64_t applicant_id, const char *channel,
                            const char *assisted_kind, int64_t assisted_id, int score,
                            const char *comment);
int cases_sql_rect_insert(db_conn *c, int64_t case_id, int64_t outlet_id, int score, int hours,
                          int64_t *id);
/* id, state, due_at, answer, answered_at, score, case_id, number, outlet_id */
int cases_sql_rect_by_case(db_conn *c, int64_t case_id, db_rows **out);
int cases_sql_rect_lock(db_conn *c, int64_t id, db_rows **out);
int cases_sql_rect_answer(db_conn *c, int64_t id, const char *answer, int64_t operator_id, bool *done);
int cases_sql_rect_list(db_conn *c, const char *state, int limit, db_rows **out);
int cases_sql_mark_dirty(db_conn *c, const char *day);

/* ---- alerts ---- */
/* outlet_id 0 = every outlet (supervision center). Columns: id, kind,
 * created_at, number, item_code, outlet_id, state, deadline. */
int cases_sql_alerts(db_conn *c, int64_t outlet_id, int64_t before_id, int limit, db_rows **out);

/* ---- figures and rollup ---- */
/* Recomputes the rollup rows of one completion day (delete + insert from
 * cases; run inside one transaction). */
int cases_sql_rollup_day(db_conn *c, const char *day);
/* Up to 100 dirty days ("YYYY-MM-DD"); free with free(). */
typedef struct cases_day_row {
    char day[11];
} cases_day_row;
int cases_sql_dirty_days(db_conn *c, cases_day_row **rows, int *n);
int cases_sql_dirty_clear(db_conn *c, const char *day);
/* Sums over [from, to] grouped by group ("category" | "channel" | "outlet",
 * the key: NULL for none). _rollup reads case_rollup_daily, _live reads
 * cases. Free with cases_fig_row_array_free. */
typedef struct cases_fig_row {
    char *k;
    int64_t completed, one_trip, zero_trip, online, on_time, offline, at_partner, rated, satisfied;
} cases_fig_row;
int cases_sql_figures_rollup(db_conn *c, const char *from, const char *to, const char *group,
                             cases_fig_row **rows, int *n);
int cases_sql_figures_live(db_conn *c, const char *day, const char *group, cases_fig_row **rows,
                           int *n);
void cases_fig_row_array_free(cases_fig_row *rows, int n);
/* Every outlet's id (as text) and name; free with cases_outlet_row_array_free. */
typedef struct cases_outlet_row {
    char id[24];
    char *name;
} cases_outlet_row;
int cases_sql_outlet_names(db_conn *c, cases_outlet_row **rows, int *n);
void cases_outlet_row_array_free(cases_outlet_row *rows, int n);

/* ---- jobs ---- */
/* Open, not yet overdue cases after id (outlet_id 0: none); free with free(). */
typedef struct cases_open_row {
    int64_t id;
    char submitted_day[11]; /* "YYYY-MM-DD" */
    int64_t promised_days;
    char deadline[11];
    int64_t outlet_id;
    bool warned;
} cases_open_row;
int cases_sql_open_batch(db_conn *c, int64_t after_id, int limit, cases_open_row **rows, int *n);
int cases_sql_alert(db_conn *c, int64_t case_id, int64_t outlet_id, const char *kind);
int cases_sql_flag_warned(db_conn *c, int64_t case_id);
int cases_sql_flag_overdue(db_conn *c, int64_t case_id);
/* Cases with materials outstanding due by day (outlet_id 0: none); free
 * with free(). */
typedef struct cases_supply_row {
    int64_t id;
    char supply_due[11];
    char supply_state[16];
    int64_t outlet_id;
} cases_supply_row;
int cases_sql_supply_batch(db_conn *c, const char *due_by, int64_t after_id, int limit,
                           cases_supply_row **rows, int *n);
int cases_sql_supply_move(db_conn *c, int64_t case_id, const char *from, const char *to, bool *done);
/* Open rectifications past due at unix time now (outlet_id 0: none); free
 * with free(). */
typedef struct cases_rect_due_row {
    int64_t id, case_id, outlet_id;
} cases_rect_due_row;
int cases_sql_rect_overdue(db_conn *c, int64_t now_unix, cases_rect_due_row **rows, int *n);
