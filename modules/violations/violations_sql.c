/* violations_sql.c - see violations_sql.h. */
#include <stdio.h>
#include <string.h>

#include "modules/violations/violations_sql.h"
#include "db/rows.h"

/* ---- violations -------------------------------------------------------- */

/* served_date as a date.h day number (days since 1970-01-01). */
#define VCOLS                                                                                   \
    "v.id, v.decision_no, v.plate, v.vehicle_type, v.vehicle_id, v.licence_id, v.citizen_id, " \
    "v.occurred_at, v.place, v.code, v.description, v.fine_fen, v.points, v.agency, v.source, " \
    "DATEDIFF(v.served_date, '1970-01-01') AS served_date, v.state, v.handled_at, v.paid_at, " \
    "v.case_id, v.version"
/* The columns of VCOLS, for violations_row and for a struct that starts
 * with one. */
#define VROW_COLS(S)                                                            \
    DBR_I64(S, id), DBR_CHARS(S, decision_no), DBR_CHARS(S, plate),             \
        DBR_CHARS(S, vehicle_type), DBR_I64_NULL(S, vehicle_id, has_vehicle_id), \
        DBR_I64_NULL(S, licence_id, has_licence_id),                            \
        DBR_I64_NULL(S, citizen_id, has_citizen_id), DBR_TIME(S, occurred_at),  \
        DBR_CHARS(S, place), DBR_CHARS(S, code), DBR_CHARS(S, description),     \
        DBR_I64(S, fine_fen), DBR_I32(S, points), DBR_CHARS(S, agency),         \
        DBR_CHARS(S, source), DBR_I32(S, served_date), DBR_CHARS(S, state),     \
        DBR_TIME_NULL(S, handled_at, has_handled_at),                           \
        DBR_TIME_NULL(S, paid_at, has_paid_at), DBR_I64_NULL(S, case_id, has_case_id), \
        DBR_I32(S, version)
static const db_col VIOLATION_COLS[] = {VROW_COLS(violations_row)};
static const db_row_spec VIOLATION_ROW = DB_ROW_SPEC(violations_row, VIOLATION_COLS);

static const char SQL_GET[] = "SELECT " VCOLS " FROM violations v WHERE v.id = ?";
static const char SQL_GET_LOCK[] = "SELECT " VCOLS " FROM violations v WHERE v.id = ? FOR UPDATE";
static const char SQL_GET_DECISION[] = "SELECT " VCOLS " FROM violations v WHERE v.decision_no = ?";
static const char SQL_GET_DECISION_LOCK[] =
    "SELECT " VCOLS " FROM violations v WHERE v.decision_no = ? LOCK IN SHARE MODE";

int violations_sql_get(db_conn *c, int64_t id, bool for_update, violations_row *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_GET_LOCK : SQL_GET, DBP(DB_I64(id)), &VIOLATION_ROW,
                        out, found);
}

int violations_sql_get_by_decision(db_conn *c, const char *decision_no, bool locking,
                                   violations_row *out, bool *found)
{
    return db_query_one(c, locking ? SQL_GET_DECISION_LOCK : SQL_GET_DECISION,
                        DBP(DB_STR(decision_no)), &VIOLATION_ROW, out, found);
}

static const char SQL_INSERT[] =
    "INSERT INTO violations (decision_no, plate, vehicle_type, vehicle_id, occurred_at, place, "
    "code, description, fine_fen, points, agency, source, served_date, state, recorded_by_kind, "
    "recorded_by_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recorded', ?, ?, "
    "UTC_TIMESTAMP(3))";

int violations_sql_insert(db_conn *c, const violations_new *n, int64_t *id)
{
    uint64_t new_id = 0;
    if (db_exec(c, SQL_INSERT,
                DBP(DB_STR(n->decision_no), DB_STR(n->plate), DB_STR(n->vehicle_type),
                    n->vehicle_id ? DB_I64(n->vehicle_id) : DB_NULL, DB_STR(n->occurred_at),
                    DB_STR(n->place), DB_STR(n->code), DB_STR(n->description),
                    DB_I64(n->fine_fen), DB_I64(n->points), DB_STR(n->agency), DB_STR(n->source),
                    DB_STR(n->served_date), DB_STR(n->recorded_by_kind),
                    DB_I64(n->recorded_by_id)),
                NULL, &new_id) != 0)
        return -1;
    *id = (int64_t)new_id;
    return 0;
}

/* One indexed lookup per source, merged: an OR of the three sources cannot
 * use an index and scanned the whole table for every request. Each branch
 * names its relation by rank (1 owner, 2 bound, 3 licence); a violation
 * reached by several keeps the first, as the CASE of the old query did.
 * Plates rather than vehicle ids: a vehicle registered after the violation
 * came in still shows its violations to its owner (vehicles.owner ->
 * violations.plate). A binding lends the vehicle of the owner who consented:
 * once the vehicle has another owner (sold), it no longer reaches the new
 * owner's violations. */
static const char SQL_LIST_CITIZEN[] =
    "SELECT " VCOLS ", ELT(u.r, 'owner', 'bound', 'licence') AS relation, "
    /* A payment that came back from the channel but is not confirmed yet:
     * the amount stays what the order fixed, nothing more accrues. */
    "(SELECT poi.fine_fen + poi.late_fee_fen FROM payment_order_items poi "
    " JOIN payment_orders po ON po.id = poi.order_id "
    " WHERE poi.open_violation_id = v.id AND po.state = 'awaiting_confirmation') AS pending_fen "
    "FROM (SELECT s.id, MIN(s.r) AS r FROM ("
    "SELECT vo.id, 1 AS r FROM vehicles o JOIN violations vo ON vo.plate = o.plate "
    "WHERE o.owner_citizen_id = ? "
    "UNION ALL SELECT vb.id, 2 FROM violation_bindings b JOIN vehicles bv ON bv.id = b.vehicle_id "
    "JOIN violations vb ON vb.plate = bv.plate WHERE b.holder_citizen_id = ? "
    "AND b.state = 'active' AND bv.owner_citizen_id = b.owner_citizen_id "
    "UNION ALL SELECT vl.id, 3 FROM violations vl WHERE vl.licence_id = ?"
    ") s GROUP BY s.id) u JOIN violations v ON v.id = u.id "
    "ORDER BY v.occurred_at DESC, v.id DESC LIMIT 500";

_Static_assert(offsetof(violations_listed, v) == 0, "the row's columns bind at offset 0");
static const db_col LISTED_COLS[] = {
    VROW_COLS(violations_row),
    DBR_CHARS(violations_listed, relation),
    DBR_I64_NULL(violations_listed, pending_fen, has_pending_fen),
};
static const db_row_spec LISTED_ROW = DB_ROW_SPEC(violations_listed, LISTED_COLS);

int violations_sql_list_for_citizen(db_conn *c, int64_t citizen_id, int64_t licence_id,
                                    violations_listed **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_LIST_CITIZEN,
              DBP(DB_I64(citizen_id), DB_I64(citizen_id),
                  licence_id ? DB_I64(licence_id) : DB_NULL),
              &LISTED_ROW, rows, n);
}

static const char SQL_SEARCH_PLATE[] =
    "SELECT " VCOLS " FROM violations v WHERE v.plate = ? ORDER BY v.occurred_at DESC, v.id DESC "
    "LIMIT 500";
static const char SQL_SEARCH_DECISION[] =
    "SELECT " VCOLS " FROM violations v WHERE v.decision_no = ?";
static const char SQL_SEARCH_LICENCE[] =
    "SELECT " VCOLS " FROM violations v WHERE v.licence_id = ? ORDER BY v.occurred_at DESC, "
    "v.id DESC LIMIT 500";

int violations_sql_search_plate(db_conn *c, const char *plate, violations_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_SEARCH_PLATE, DBP(DB_STR(plate)), &VIOLATION_ROW, rows, n);
}

int violations_sql_search_decision(db_conn *c, const char *decision_no, violations_row **rows,
                                   int *n)
{
    DB_RETURN_ALL(c, SQL_SEARCH_DECISION, DBP(DB_STR(decision_no)), &VIOLATION_ROW, rows, n);
}

int violations_sql_search_licence(db_conn *c, int64_t licence_id, violations_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_SEARCH_LICENCE, DBP(DB_I64(licence_id)), &VIOLATION_ROW, rows, n);
}

static const char SQL_MARK_HANDLED[] =
    "UPDATE violations SET state = 'handled', handled_at = UTC_TIMESTAMP(3), licence_id = ?, "
    "citizen_id = ?, handled_channel = ?, version = version + 1 WHERE id = ? AND state = 'recorded'";

int violations_sql_mark_handled(db_conn *c, int64_t id, int64_t licence_id, int64_t citizen_id,
                                const char *channel, bool *done)
{
    uint64_t affected = 0;
    if (db_exec(c, SQL_MARK_HANDLED,
                DBP(DB_I64(licence_id), DB_I64(citizen_id), DB_STR(channel), DB_I64(id)), &affected,
                NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

static const char SQL_SET_CASE[] = "UPDATE violations SET case_id = ? WHERE id = ?";

int violations_sql_set_case(db_conn *c, int64_t id, int64_t case_id)
{
    return db_exec(c, SQL_SET_CASE, DBP(DB_I64(case_id), DB_I64(id)), NULL, NULL);
}

static const char SQL_CANCEL[] =
    "UPDATE violations SET state = 'cancelled', cancel_reason = ?, cancelled_at = UTC_TIMESTAMP(3), "
    "version = version + 1 WHERE id = ? AND state = ?";

int violations_sql_cancel(db_conn *c, int64_t id, const char *from, const char *reason, bool *done)
{
    uint64_t affected = 0;
    if (db_exec(c, SQL_CANCEL, DBP(DB_STR(reason), DB_I64(id), DB_STR(from)), &affected, NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

/* ---- vehicles, classes ----------------------------------------------- */

static const char SQL_VEHICLE_PLATE[] =
    "SELECT id, owner_citizen_id, class_required, vehicle_type FROM vehicles WHERE plate = ?";
static const char SQL_VEHICLE_ID[] =
    "SELECT id, owner_citizen_id, class_required, vehicle_type FROM vehicles WHERE id = ?";

static const db_col VEHICLE_COLS[] = {
    DBR_I64(violations_vehicle, id),
    DBR_I64(violations_vehicle, owner_citizen_id),
    DBR_CHARS(violations_vehicle, class_required),
    DBR_CHARS(violations_vehicle, vehicle_type),
};
static const db_row_spec VEHICLE_ROW = DB_ROW_SPEC(violations_vehicle, VEHICLE_COLS);

int violations_sql_vehicle_by_plate(db_conn *c, const char *plate, violations_vehicle *out,
                                    bool *found)
{
    return db_query_one(c, SQL_VEHICLE_PLATE, DBP(DB_STR(plate)), &VEHICLE_ROW, out, found);
}

int violations_sql_vehicle_by_id(db_conn *c, int64_t id, violations_vehicle *out, bool *found)
{
    return db_query_one(c, SQL_VEHICLE_ID, DBP(DB_I64(id)), &VEHICLE_ROW, out, found);
}

static const char SQL_CLASS_FOR_TYPE[] =
    "SELECT class_required FROM violation_vehicle_classes WHERE vehicle_type = ?";

typedef struct class_row {
    char class_required[8];
} class_row;
static const db_col CLASS_COLS[] = {DBR_CHARS(class_row, class_required)};
static const db_row_spec CLASS_ROW = DB_ROW_SPEC(class_row, CLASS_COLS);

int violations_sql_class_for_type(db_conn *c, const char *vehicle_type, char out[8], bool *found)
{
    class_row row;
    int rc = db_query_one(c, SQL_CLASS_FOR_TYPE, DBP(DB_STR(vehicle_type)), &CLASS_ROW, &row, found);

    memcpy(out, row.class_required, sizeof row.class_required); /* "" when absent */
    return rc;
}

/* Shared locks: an ownership change or the withdrawal of the binding waits
 * until the handling that relied on it commits, so the recorded tie held. */
static const char SQL_TIE[] =
    "SELECT ve.id AS vehicle_id, ve.owner_citizen_id, b.id AS binding_id FROM vehicles ve "
    "LEFT JOIN violation_bindings b ON b.vehicle_id = ve.id AND b.holder_citizen_id = ? "
    "AND b.state = 'active' AND b.owner_citizen_id = ve.owner_citizen_id "
    "WHERE ve.plate = ? LOCK IN SHARE MODE";

typedef struct tie_row {
    int64_t vehicle_id, owner_citizen_id, binding_id;
    bool has_binding_id;
} tie_row;
static const db_col TIE_COLS[] = {
    DBR_I64(tie_row, vehicle_id),
    DBR_I64(tie_row, owner_citizen_id),
    DBR_I64_NULL(tie_row, binding_id, has_binding_id),
};
static const db_row_spec TIE_ROW = DB_ROW_SPEC(tie_row, TIE_COLS);

int violations_sql_tie(db_conn *c, const char *plate, int64_t citizen_id, violations_tie *out)
{
    tie_row row;
    bool found = false;

    memset(out, 0, sizeof *out);
    if (db_query_one(c, SQL_TIE, DBP(DB_I64(citizen_id), DB_STR(plate)), &TIE_ROW, &row, &found) != 0)
        return -1;
    if (found) {
        out->vehicle_id = row.vehicle_id;
        out->owner_citizen_id = row.owner_citizen_id;
        out->owner = row.owner_citizen_id == citizen_id;
        out->binding_id = row.binding_id;
    }
    return 0;
}

static const char SQL_HANDLING_INSERT[] =
    "INSERT INTO violation_handlings (violation_id, licence_id, citizen_id, plate, vehicle_id, "
    "owner_citizen_id, tie, binding_id, documents, channel, operator_id, outlet_id, points, "
    "handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";

static db_val opt_id(int64_t v)
{
    return v ? DB_I64(v) : DB_NULL;
}

int violations_sql_handling_insert(db_conn *c, const violations_handling *h)
{
    return db_exec(c, SQL_HANDLING_INSERT,
                   DBP(DB_I64(h->violation_id), DB_I64(h->licence_id), DB_I64(h->citizen_id),
                       DB_STR(h->plate), opt_id(h->vehicle_id), opt_id(h->owner_citizen_id),
                       DB_STR(h->tie), opt_id(h->binding_id), DB_STR(h->documents),
                       DB_STR(h->channel), opt_id(h->operator_id), opt_id(h->outlet_id),
                       DB_I64(h->points)),
                   NULL, NULL);
}

/* ---- licences ----------------------------------------------------------- */

/* Dates as date.h day numbers (days since 1970-01-01). */
#define LCOLS                                                                       \
    "id, citizen_id, classes, points, DATEDIFF(cycle_start, '1970-01-01') AS cycle_start, " \
    "status, DATEDIFF(valid_until, '1970-01-01') AS valid_until, full_score_study"
static const db_col LICENCE_COLS[] = {
    DBR_I64(violations_licence, id),
    DBR_I64(violations_licence, citizen_id),
    DBR_CHARS(violations_licence, classes),
    DBR_I32(violations_licence, points),
    DBR_I32(violations_licence, cycle_start),
    DBR_CHARS(violations_licence, status),
    DBR_I32(violations_licence, valid_until),
    DBR_BOOL(violations_licence, full_score_study),
};
static const db_row_spec LICENCE_ROW = DB_ROW_SPEC(violations_licence, LICENCE_COLS);

static const char SQL_LIC_CITIZEN[] = "SELECT " LCOLS " FROM licences WHERE citizen_id = ?";
static const char SQL_LIC_CITIZEN_LOCK[] =
    "SELECT " LCOLS " FROM licences WHERE citizen_id = ? FOR UPDATE";
static const char SQL_LIC_ID[] = "SELECT " LCOLS " FROM licences WHERE id = ?";
static const char SQL_LIC_ID_LOCK[] = "SELECT " LCOLS " FROM licences WHERE id = ? FOR UPDATE";

int violations_sql_licence_of_citizen(db_conn *c, int64_t citizen_id, bool for_update,
                                      violations_licence *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_LIC_CITIZEN_LOCK : SQL_LIC_CITIZEN,
                        DBP(DB_I64(citizen_id)), &LICENCE_ROW, out, found);
}

int violations_sql_licence_by_id(db_conn *c, int64_t id, bool for_update,
                                 violations_licence *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_LIC_ID_LOCK : SQL_LIC_ID, DBP(DB_I64(id)), &LICENCE_ROW,
                        out, found);
}

/* ---- bindings ------------------------------------------------------------ */

/* One integer column named n (an id, a COUNT(*)). */
typedef struct n_row {
    int64_t n;
} n_row;
static const db_col N_COLS[] = {DBR_I64(n_row, n)};
static const db_row_spec N_ROW = DB_ROW_SPEC(n_row, N_COLS);

static const char SQL_LOCK_CITIZEN[] = "SELECT id AS n FROM citizens WHERE id = ? FOR UPDATE";

int violations_sql_lock_citizen(db_conn *c, int64_t citizen_id, bool *found)
{
    n_row row;

    return db_query_one(c, SQL_LOCK_CITIZEN, DBP(DB_I64(citizen_id)), &N_ROW, &row, found);
}

/* A locking read: it sees the latest committed bindings, not the snapshot
 * the transaction may have taken before it waited for the holder's lock. */
static const char SQL_COUNT_ACTIVE[] =
    "SELECT COUNT(*) AS n FROM violation_bindings WHERE holder_citizen_id = ? AND state = 'active' "
    "FOR UPDATE";

int violations_sql_count_active(db_conn *c, int64_t holder_id, int *count)
{
    n_row row;
    int rc = db_query_one(c, SQL_COUNT_ACTIVE, DBP(DB_I64(holder_id)), &N_ROW, &row, NULL);

    *count = (int)row.n;
    return rc;
}

static const char SQL_BINDING_INSERT[] =
    "INSERT INTO violation_bindings (holder_citizen_id, vehicle_id, owner_citizen_id, state, "
    "created_at) VALUES (?, ?, ?, 'pending', UTC_TIMESTAMP(3))";

int violations_sql_binding_insert(db_conn *c, int64_t holder_id, int64_t vehicle_id,
                                  int64_t owner_id, int64_t *id)
{
    uint64_t new_id = 0;
    if (db_exec(c, SQL_BINDING_INSERT, DBP(DB_I64(holder_id), DB_I64(vehicle_id), DB_I64(owner_id)),
                NULL, &new_id) != 0)
        return -1;
    *id = (int64_t)new_id;
    return 0;
}

static const char SQL_BINDING_GET[] =
    "SELECT id, holder_citizen_id, vehicle_id, owner_citizen_id, state FROM violation_bindings "
    "WHERE id = ?";
static const char SQL_BINDING_GET_LOCK[] =
    "SELECT id, holder_citizen_id, vehicle_id, owner_citizen_id, state FROM violation_bindings "
    "WHERE id = ? FOR UPDATE";

static const db_col BINDING_COLS[] = {
    DBR_I64(violations_binding, id),
    DBR_I64(violations_binding, holder_citizen_id),
    DBR_I64(violations_binding, vehicle_id),
    DBR_I64(violations_binding, owner_citizen_id),
    DBR_CHARS(violations_binding, state),
};
static const db_row_spec BINDING_ROW = DB_ROW_SPEC(violations_binding, BINDING_COLS);

int violations_sql_binding_get(db_conn *c, int64_t id, bool for_update, violations_binding *out,
                               bool *found)
{
    return db_query_one(c, for_update ? SQL_BINDING_GET_LOCK : SQL_BINDING_GET, DBP(DB_I64(id)),
                        &BINDING_ROW, out, found);
}

static const char SQL_BINDING_MOVE[] =
    "UPDATE violation_bindings SET state = ?, "
    "consented_at = IF(? = 'active', UTC_TIMESTAMP(3), consented_at), "
    "ended_at = IF(? IN ('refused', 'withdrawn'), UTC_TIMESTAMP(3), ended_at), "
    "ended_by = IF(? IN ('refused', 'withdrawn'), ?, ended_by) WHERE id = ? AND state = ?";

int violations_sql_binding_move(db_conn *c, int64_t id, const char *from, const char *to,
                                int64_t ended_by, bool *done)
{
    uint64_t affected = 0;
    if (db_exec(c, SQL_BINDING_MOVE,
                DBP(DB_STR(to), DB_STR(to), DB_STR(to), DB_STR(to),
                    ended_by ? DB_I64(ended_by) : DB_NULL, DB_I64(id), DB_STR(from)),
                &affected, NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

#define BINDING_ITEM_COLS \
    "SELECT b.id, v.plate, v.vehicle_type, b.state, b.created_at, b.consented_at, b.ended_at, "
static const char SQL_BINDINGS_HELD[] =
    BINDING_ITEM_COLS "o.name FROM violation_bindings b JOIN vehicles v ON v.id = b.vehicle_id "
    "JOIN citizens o ON o.id = b.owner_citizen_id WHERE b.holder_citizen_id = ? "
    "ORDER BY b.id DESC LIMIT 200";
static const char SQL_BINDINGS_OWNED[] =
    BINDING_ITEM_COLS "h.name FROM violation_bindings b JOIN vehicles v ON v.id = b.vehicle_id "
    "JOIN citizens h ON h.id = b.holder_citizen_id WHERE b.owner_citizen_id = ? "
    "ORDER BY b.id DESC LIMIT 200";
static const db_col BINDING_ITEM_ROW_COLS[] = {
    DBR_I64(violations_binding_item, id),
    DBR_CHARS(violations_binding_item, plate),
    DBR_CHARS(violations_binding_item, vehicle_type),
    DBR_CHARS(violations_binding_item, state),
    DBR_UTC(violations_binding_item, created_at),
    DBR_UTC_NULL(violations_binding_item, consented_at, has_consented_at),
    DBR_UTC_NULL(violations_binding_item, ended_at, has_ended_at),
    DBR_STR(violations_binding_item, name),
};
static const db_row_spec BINDING_ITEM_ROW = DB_ROW_SPEC(violations_binding_item, BINDING_ITEM_ROW_COLS);

void violations_binding_item_array_free(violations_binding_item *rows, int n)
{
    db_row_array_free(&BINDING_ITEM_ROW, rows, n);
}

int violations_sql_bindings_held(db_conn *c, int64_t holder_id, violations_binding_item **rows,
                                 int *n)
{
    DB_RETURN_ALL(c, SQL_BINDINGS_HELD, DBP(DB_I64(holder_id)), &BINDING_ITEM_ROW, rows, n);
}

int violations_sql_bindings_owned(db_conn *c, int64_t owner_id, violations_binding_item **rows,
                                  int *n)
{
    DB_RETURN_ALL(c, SQL_BINDINGS_OWNED, DBP(DB_I64(owner_id)), &BINDING_ITEM_ROW, rows, n);
}

static const char SQL_MARK_PAID[] =
    "UPDATE violations SET state = 'paid', paid_at = UTC_TIMESTAMP(3), version = version + 1 "
    "WHERE id = ? AND state = 'handled'";

int violations_mark_paid(db_conn *c, int64_t violation_id, uint64_t *affected)
{
    return db_exec(c, SQL_MARK_PAID, DBP(DB_I64(violation_id)), affected, NULL);
}
