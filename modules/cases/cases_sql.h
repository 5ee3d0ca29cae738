/* cases_sql.h - statements on the cases tables (private to the module).
 * Every function runs on the caller's connection (and transaction) and
 * returns 0 or -1 with the error left in c. Rows are structs the caller
 * owns (free each kind with its _clear / _free function); a lookup of one
 * row reports a missing row through *found. */
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
 * transaction's snapshot); *found false when absent. Free with
 * cases_locked_clear. */
typedef struct cases_locked {
    char state[16];
    int64_t trips;
    char *missing_materials; /* JSON array text, or NULL */
    char supply_state[16];
    int64_t outlet_id; /* 0 when none */
    bool has_outlet_id;
    char query_code[33];
    int64_t catalog_version_id;
    char *commitment_materials; /* JSON array text, or NULL */
} cases_locked;
int cases_sql_lock_case(db_conn *c, int64_t id, cases_locked *out, bool *found);
void cases_locked_clear(cases_locked *l);
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

/* A case with its catalog item, as cases_sql_get_by_number and
 * cases_sql_list_by_applicant read it. Strings are owned by the row (NULL
 * for SQL NULL); times are "YYYY-MM-DDTHH:MM:SSZ", days "YYYY-MM-DD". */
typedef struct cases_case {
    int64_t id;
    char *number;
    char query_code[33];
    char *item_code;
    int64_t catalog_version_id;
    char *category;
    int64_t applicant_id;
    char *channel;
    int64_t outlet_id; /* 0 when none */
    bool has_outlet_id;
    char *assisted_kind;
    int64_t assisted_id;
    bool has_assisted_id;
    char *ref_type, *ref_id;
    char state[16];
    char submitted_at[21];
    char submitted_day[11];
    int64_t promised_days;
    char deadline[11];
    char accepted_at[21], completed_at[21];
    bool has_accepted_at, has_completed_at;
    char completed_day[11];
    bool has_completed_day;
    int64_t trips;
    bool warned, overdue;
    char *missing_materials; /* JSON array text, or NULL */
    char supply_due[11];
    bool has_supply_due;
    char supply_state[16];
    char *commitment_materials; /* JSON array text, or NULL */
    char *state_reason;
    char *item_name;
    int64_t item_version, item_trips;
    bool rated;
} cases_case;
void cases_case_clear(cases_case *k);
void cases_case_array_free(cases_case *rows, int n);
/* Not locked: lock with cases_sql_lock_state before a change. */
int cases_sql_get_by_number(db_conn *c, const char *number, cases_case *out, bool *found);
/* A citizen's cases, newest first, ids below before_id (0 = from the top). */
int cases_sql_list_by_applicant(db_conn *c, int64_t applicant_id, int64_t before_id, int limit,
                                cases_case **rows, int *n);
/* A case's history, oldest first; free with cases_event_row_array_free. */
typedef struct cases_event_row {
    char at[21];
    char *kind, *from_state, *to_state, *note; /* all but kind may be NULL */
} cases_event_row;
int cases_sql_events(db_conn *c, int64_t id, cases_event_row **rows, int *n);
void cases_event_row_array_free(cases_event_row *rows, int n);
/* A case's visits, oldest first; free with cases_trip_row_array_free. */
typedef struct cases_trip_row {
    char at[21];
    int64_t outlet_id;
    bool has_outlet_id;
    char *outlet_name; /* NULL without an outlet */
} cases_trip_row;
int cases_sql_trips(db_conn *c, int64_t id, cases_trip_row **rows, int *n);
void cases_trip_row_array_free(cases_trip_row *rows, int n);

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
typedef struct cases_rating_row {
    int64_t score;
    char *comment;
    char created_at[21];
} cases_rating_row;
/* The case's rating, if any; free with cases_rating_row_clear. */
int cases_sql_rating_get(db_conn *c, int64_t case_id, cases_rating_row *out, bool *found);
void cases_rating_row_clear(cases_rating_row *r);
int cases_sql_rating_insert(db_conn *c, int64_t case_id, int64_t applicant_id, const char *channel,
                            const char *assisted_kind, int64_t assisted_id, int score,
                            const char *comment);
int cases_sql_rect_insert(db_conn *c, int64_t case_id, int64_t outlet_id, int score, int hours,
                          int64_t *id);
/* A rectification with its case's number. Free with cases_rect_row_clear
 * (or cases_rect_row_array_free for a list). */
typedef struct cases_rect_row {
    int64_t id;
    char state[16];
    char due_at[21];
    char *answer;
    char answered_at[21];
    bool has_answered_at;
    int64_t score, case_id;
    char *number;
    int64_t outlet_id;
    bool has_outlet_id;
} cases_rect_row;
void cases_rect_row_clear(cases_rect_row *r);
void cases_rect_row_array_free(cases_rect_row *rows, int n);
/* The case's rectification (at most one), if any. */
int cases_sql_rect_by_case(db_conn *c, int64_t case_id, cases_rect_row *out, bool *found);
int cases_sql_rect_lock(db_conn *c, int64_t id, cases_rect_row *out, bool *found);
int cases_sql_rect_answer(db_conn *c, int64_t id, const char *answer, int64_t operator_id, bool *done);
int cases_sql_rect_list(db_conn *c, const char *state, int limit, cases_rect_row **rows, int *n);
int cases_sql_mark_dirty(db_conn *c, const char *day);

/* ---- alerts ---- */
/* outlet_id 0 = every outlet (supervision center), newest first; free with
 * cases_alert_row_array_free. */
typedef struct cases_alert_row {
    int64_t id;
    char kind[32];
    char created_at[21];
    char *number, *item_code;
    int64_t outlet_id;
    bool has_outlet_id;
    char state[16];
    char deadline[11];
} cases_alert_row;
int cases_sql_alerts(db_conn *c, int64_t outlet_id, int64_t before_id, int limit,
                     cases_alert_row **rows, int *n);
void cases_alert_row_array_free(cases_alert_row *rows, int n);

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

#endif
