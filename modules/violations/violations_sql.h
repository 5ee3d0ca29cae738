/* violations_sql.h - statements of the violations module (private to it).
 * One function per statement; each runs on the caller's connection (and
 * transaction) and returns 0, or -1 with the database error left in c.
 * Rows are structs; arrays belong to the caller (free()). A lookup of one
 * row reports a missing row through *found. */
#ifndef ONETRIP_VIOLATIONS_SQL_H
#define ONETRIP_VIOLATIONS_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "modules/violations/violations.h"

/* ---- violations -------------------------------------------------------- */

int violations_sql_get(db_conn *c, int64_t id, bool for_update, violations_row *out, bool *found);
/* locking: a shared-lock read of the latest committed row (after a
 * duplicate-key error the transaction's snapshot may predate it). */
int violations_sql_get_by_decision(db_conn *c, const char *decision_no, bool locking,
                                   violations_row *out, bool *found);

typedef struct violations_new {
    const char *decision_no, *plate, *vehicle_type, *place, *code, *description, *agency, *source;
    int64_t vehicle_id;          /* 0 = no registered vehicle with this plate */
    const char *occurred_at;     /* "YYYY-MM-DD HH:MM:SS" UTC */
    const char *served_date;     /* "YYYY-MM-DD" */
    int64_t fine_fen;
    int points;
    const char *recorded_by_kind; /* "partner" | "operator" */
    int64_t recorded_by_id;
} violations_new;

/* Fails with DB_ERR_DUP when decision_no exists. */
int violations_sql_insert(db_conn *c, const violations_new *n, int64_t *id);

/* A citizen's violation: the row, how it reaches them and, while a payment
 * for it awaits the channel's confirmation, the amount that order fixed. */
typedef struct violations_listed {
    violations_row v; /* first: the row's columns come first too */
    char relation[8]; /* owner | bound | licence */
    int64_t pending_fen;
    bool has_pending_fen;
} violations_listed;
/* A citizen's violations: of the vehicles they own, of the vehicles bound
 * to them, and those handled on their licence (licence_id 0 = none). */
int violations_sql_list_for_citizen(db_conn *c, int64_t citizen_id, int64_t licence_id,
                                    violations_listed **rows, int *n);
int violations_sql_search_plate(db_conn *c, const char *plate, violations_row **rows, int *n);
int violations_sql_search_decision(db_conn *c, const char *decision_no, violations_row **rows,
                                   int *n);
int violations_sql_search_licence(db_conn *c, int64_t licence_id, violations_row **rows, int *n);

/* Conditional recorded -> handled; *done false when the state had moved. */
int violations_sql_mark_handled(db_conn *c, int64_t id, int64_t licence_id, int64_t citizen_id,
                                const char *channel, bool *done);
int violations_sql_set_case(db_conn *c, int64_t id, int64_t case_id);
/* Conditional from -> cancelled. */
int violations_sql_cancel(db_conn *c, int64_t id, const char *from, const char *reason, bool *done);

/* ---- vehicles, classes ----------------------------------------------- */

typedef struct violations_vehicle {
    int64_t id;
    int64_t owner_citizen_id;
    char class_required[8];
    char vehicle_type[12];
} violations_vehicle;

int violations_sql_vehicle_by_plate(db_conn *c, const char *plate, violations_vehicle *out,
                                    bool *found);
int violations_sql_vehicle_by_id(db_conn *c, int64_t id, violations_vehicle *out, bool *found);
/* Class needed for a vehicle type (violation_vehicle_classes). */
int violations_sql_class_for_type(db_conn *c, const char *vehicle_type, char out[8], bool *found);
/* How citizen is tied to the vehicle registered with this plate, read
 * with shared locks (its owner and the binding cannot change until the
 * caller's transaction ends). All zero when no vehicle has the plate. */
typedef struct violations_tie {
    int64_t vehicle_id;
    int64_t owner_citizen_id;
    bool owner;          /* citizen owns it */
    int64_t binding_id;  /* citizen's active binding, consented by the current owner; 0 none */
} violations_tie;
int violations_sql_tie(db_conn *c, const char *plate, int64_t citizen_id, violations_tie *out);

/* One row of violation_handlings (append-only): who took a violation's
 * points, through which tie (violations_handling_tie). documents is JSON
 * text or NULL; ids 0 are stored as NULL. */
typedef struct violations_handling {
    int64_t violation_id, licence_id, citizen_id, vehicle_id, owner_citizen_id, binding_id;
    int64_t operator_id, outlet_id;
    const char *plate, *tie, *documents, *channel;
    int points;
} violations_handling;
int violations_sql_handling_insert(db_conn *c, const violations_handling *h);

/* ---- licences ----------------------------------------------------------- */

typedef struct violations_licence {
    int64_t id;
    int64_t citizen_id;
    char classes[40];
    int points;
    int32_t cycle_start;
    char status[16];
    int32_t valid_until;
    bool full_score_study;
} violations_licence;

int violations_sql_licence_of_citizen(db_conn *c, int64_t citizen_id, bool for_update,
                                      violations_licence *out, bool *found);
int violations_sql_licence_by_id(db_conn *c, int64_t id, bool for_update,
                                 violations_licence *out, bool *found);
/* Points are written through people.h (people owns licences). */

/* ---- bindings ------------------------------------------------------------ */

/* Serialises a holder's binding changes: locks the citizen row. */
int violations_sql_lock_citizen(db_conn *c, int64_t citizen_id, bool *found);
/* Active bindings of a holder, read with locks (latest committed state). */
int violations_sql_count_active(db_conn *c, int64_t holder_id, int *count);
/* DB_ERR_DUP when a live request for (holder, vehicle) exists. */
int violations_sql_binding_insert(db_conn *c, int64_t holder_id, int64_t vehicle_id,
                                  int64_t owner_id, int64_t *id);

typedef struct violations_binding {
    int64_t id, holder_citizen_id, vehicle_id, owner_citizen_id;
    char state[16];
} violations_binding;

int violations_sql_binding_get(db_conn *c, int64_t id, bool for_update, violations_binding *out,
                               bool *found);
/* Conditional from -> to; ended_by is set when to ends the binding. */
int violations_sql_binding_move(db_conn *c, int64_t id, const char *from, const char *to,
                                int64_t ended_by, bool *done);
/* A binding as its parties list it, with the other party's name (owner
 * for held, holder for owned); times "YYYY-MM-DDTHH:MM:SSZ". Free the
 * array with violations_binding_item_array_free. */
typedef struct violations_binding_item {
    int64_t id;
    char plate[VIOLATIONS_PLATE_MAX * 4 + 1];
    char vehicle_type[VIOLATIONS_VTYPE_MAX + 1];
    char state[16];
    char created_at[21], consented_at[21], ended_at[21];
    bool has_consented_at, has_ended_at;
    char *name;
} violations_binding_item;
void violations_binding_item_array_free(violations_binding_item *rows, int n);
int violations_sql_bindings_held(db_conn *c, int64_t holder_id, violations_binding_item **rows,
                                 int *n);
int violations_sql_bindings_owned(db_conn *c, int64_t owner_id, violations_binding_item **rows,
                                  int *n);

#endif
