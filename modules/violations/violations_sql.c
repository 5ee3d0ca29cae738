/* violations_sql.c - see violations_sql.h. */
#include <stdio.h>
#include <string.h>

#include "modules/violations/violations_sql.h"
#include "server/date.h"

/* ---- violations -------------------------------------------------------- */

#define VCOLS \
    "v.id, v.decision_no, v.plate, v.vehicle_type, v.vehicle_id, v.licence_id, v.citizen_id, " \
    "v.occurred_at, v.place, v.code, v.description, v.fine_fen, v.points, v.agency, v.source, " \
    "v.served_date, v.state, v.handled_at, v.paid_at, v.case_id, v.version"

static const char SQL_GET[] = "SELECT " VCOLS " FROM violations v WHERE v.id = ?";
static const char SQL_GET_LOCK[] = "SELECT " VCOLS " FROM violations v WHERE v.id = ? FOR UPDATE";
static const char SQL_GET_DECISION[] = "SELECT " VCOLS " FROM violations v WHERE v.decision_no = ?";
static const char SQL_GET_DECISION_LOCK[] =
    "SELECT " VCOLS " FROM violations v WHERE v.decision_no = ? LOCK IN SHARE MODE";

static void copy_cell(char *dst, size_t cap, const db_rows *rows, int i, int col)
{
    const char *s = db_cell(rows, i, col);
    snprintf(dst, cap, "%s", s ? s : "");
}

static time_t cell_time(const db_rows *rows, int i, int col)
{
    time_t t = 0;
    const char *s = db_cell(rows, i, col);
    if (!s || date_parse_datetime_utc(s, &t) != 0)
        return 0;
    return t;
}

static int32_t cell_date(const db_rows *rows, int i, int col)
{
    int32_t d = 0;
    const char *s = db_cell(rows, i, col);
    if (!s || date_parse(s, &d) != 0)
        return 0;
    return d;
}

void violations_sql_row(const db_rows *rows, int i, violations_row *out)
{
    memset(out, 0, sizeof *out);
    out->id = db_cell_i64(rows, i, 0);
    copy_cell(out->decision_no, sizeof out->decision_no, rows, i, 1);
    copy_cell(out->plate, sizeof out->plate, rows, i, 2);
    copy_cell(out->vehicle_type, sizeof out->vehicle_type, rows, i, 3);
    out->vehicle_id = db_cell_i64(rows, i, 4);
    out->licence_id = db_cell_i64(rows, i, 5);
    out->citizen_id = db_cell_i64(rows, i, 6);
    out->occurred_at = cell_time(rows, i, 7);
    copy_cell(out->place, sizeof out->place, rows, i, 8);
    copy_cell(out->code, sizeof out->code, rows, i, 9);
    copy_cell(out->description, sizeof out->description, rows, i, 10);
    out->fine_fen = db_cell_i64(rows, i, 11);
    out->points = (int)db_cell_i64(rows, i, 12);
    copy_cell(out->agency, sizeof out->agency, rows, i, 13);
    copy_cell(out->source, sizeof out->source, rows, i, 14);
    out->served_date = cell_date(rows, i, 15);
    copy_cell(out->state, sizeof out->state, rows, i, 16);
    out->handled_at = cell_time(rows, i, 17);
    out->paid_at = cell_time(rows, i, 18);
    out->case_id = db_cell_i64(rows, i, 19);
    out->version = (int)db_cell_i64(rows, i, 20);
}

static int get_one(db_conn *c, const char *sql, db_val key, violations_row *out, bool *found)
{
    db_rows *rows = NULL;
    int rc = -1;

    *found = false;
    if (db_query(c, sql, &key, 1, &rows) != 0)
        goto fail;
    if (rows->nrows > 0) {
        violations_sql_row(rows, 0, out);
        *found = true;
    }
    rc = 0;
fail:
    db_rows_free(rows);
    return rc;
}

int violations_sql_get(db_conn *c, int64_t id, bool for_update, violations_row *out, bool *found)
{
    return get_one(c, for_update ? SQL_GET_LOCK : SQL_GET, DB_I64(id), out, found);
}

int violations_sql_get_by_decision(db_conn *c, const char *decision_no, bool locking,
                                   violations_row *out, bool *found)
{
    return get_one(c, locking ? SQL_GET_DECISION_LOCK : SQL_GET_DECISION, DB_STR(decision_no), out,
                   found);
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

/* Plates rather than vehicle ids: a vehicle registered after the violation
 * came in still shows its violations to its owner. */
#define OWNED_PLATES "SELECT o.plate FROM vehicles o WHERE o.owner_citizen_id = ?"
/* A binding lends the vehicle of the owner who consented: once the vehicle
 * has another owner (sold), it no longer reaches the new owner's violations. */
#define BOUND_PLATES \
    "SELECT bv.plate FROM violation_bindings b JOIN vehicles bv ON bv.id = b.vehicle_id " \
    "WHERE b.holder_citizen_id = ? AND b.state = 'active' " \
    "AND bv.owner_citizen_id = b.owner_citizen_id"

static const char SQL_LIST_CITIZEN[] =
    "SELECT " VCOLS ", CASE WHEN v.plate IN (" OWNED_PLATES ") THEN 'owner' "
    "WHEN v.plate IN (" BOUND_PLATES ") THEN 'bound' ELSE 'licence' END, "
    /* A payment that came back from the channel but is not confirmed yet:
     * the amount stays what the order fixed, nothing more accrues. */
    "(SELECT poi.fine_fen + poi.late_fee_fen FROM payment_order_items poi "
    " JOIN payment_orders po ON po.id = poi.order_id "
    " WHERE poi.open_violation_id = v.id AND po.state = 'awaiting_confirmation') "
    "FROM violations v WHERE v.plate IN (" OWNED_PLATES ") OR v.plate IN (" BOUND_PLATES ") "
    "OR v.licence_id = ? ORDER BY v.occurred_at DESC, v.id DESC LIMIT 500";

int violations_sql_list_for_citizen(db_conn *c, int64_t citizen_id, int64_t licence_id,
                                    db_rows **out)
{
    return db_query(c, SQL_LIST_CITIZEN,
                    DBP(DB_I64(citizen_id), DB_I64(citizen_id), DB_I64(citizen_id),
                        DB_I64(citizen_id), licence_id ? DB_I64(licence_id) : DB_NULL),
                    out);
}

static const char SQL_SEARCH_PLATE[] =
    "SELECT " VCOLS " FROM violations v WHERE v.plate = ? ORDER BY v.occurred_at DESC, v.id DESC "
    "LIMIT 500";
static const char SQL_SEARCH_DECISION[] =
    "SELECT " VCOLS " FROM violations v WHERE v.decision_no = ?";
static const char SQL_SEARCH_LICENCE[] =
    "SELECT " VCOLS " FROM violations v WHERE v.licence_id = ? ORDER BY v.occurred_at DESC, "
    "v.id DESC LIMIT 500";

int violations_sql_search_plate(db_conn *c, const char *plate, db_rows **out)
{
    return db_query(c, SQL_SEARCH_PLATE, DBP(DB_STR(plate)), out);
}

int violations_sql_search_decision(db_conn *c, const char *decision_no, db_rows **out)
{
    return db_query(c, SQL_SEARCH_DECISION, DBP(DB_STR(decision_no)), out);
}

int violations_sql_search_licence(db_conn *c, int64_t licence_id, db_rows **out)
{
    return db_query(c, SQL_SEARCH_LICENCE, DBP(DB_I64(licence_id)), out);
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

static int vehicle_one(db_conn *c, const char *sql, db_val key, violations_vehicle *out,
                       bool *found)
{
    db_rows *rows = NULL;
    int rc = -1;

    *found = false;
    memset(out, 0, sizeof *out);
    if (db_query(c, sql, &key, 1, &rows) != 0)
        goto fail;
    if (rows->nrows > 0) {
        out->id = db_cell_i64(rows, 0, 0);
        out->owner_citizen_id = db_cell_i64(rows, 0, 1);
        copy_cell(out->class_required, sizeof out->class_required, rows, 0, 2);
        copy_cell(out->vehicle_type, sizeof out->vehicle_type, rows, 0, 3);
        *found = true;
    }
    rc = 0;
fail:
    db_rows_free(rows);
    return rc;
}

int violations_sql_vehicle_by_plate(db_conn *c, const char *plate, violations_vehicle *out,
                                    bool *found)
{
    return vehicle_one(c, SQL_VEHICLE_PLATE, DB_STR(plate), out, found);
}

int violations_sql_vehicle_by_id(db_conn *c, int64_t id, violations_vehicle *out, bool *found)
{
    return vehicle_one(c, SQL_VEHICLE_ID, DB_I64(id), out, found);
}

static const char SQL_CLASS_FOR_TYPE[] =
    "SELECT class_required FROM violation_vehicle_classes WHERE vehicle_type = ?";

int violations_sql_class_for_type(db_conn *c, const char *vehicle_type, char out[8], bool *found)
{
    db_rows *rows = NULL;
    int rc = -1;

    *found = false;
    out[0] = '\0';
    if (db_query(c, SQL_CLASS_FOR_TYPE, DBP(DB_STR(vehicle_type)), &rows) != 0)
        goto fail;
    if (rows->nrows > 0) {
        copy_cell(out, 8, rows, 0, 0);
        *found = true;
    }
    rc = 0;
fail:
    db_rows_free(rows);
    return rc;
}

/* Shared locks: an ownership change or the withdrawal of the binding waits
 * until the handling that relied on it commits, so the recorded tie held. */
static const char SQL_TIE[] =
    "SELECT ve.id, ve.owner_citizen_id, b.id FROM vehicles ve "
    "LEFT JOIN violation_bindings b ON b.vehicle_id = ve.id AND b.holder_citizen_id = ? "
    "AND b.state = 'active' AND b.owner_citizen_id = ve.owner_citizen_id "
    "WHERE ve.plate = ? LOCK IN SHARE MODE";

int violations_sql_tie(db_conn *c, const char *plate, int64_t citizen_id, violations_tie *out)
{
    db_rows *rows = NULL;

    memset(out, 0, sizeof *out);
    if (db_query(c, SQL_TIE, DBP(DB_I64(citizen_id), DB_STR(plate)), &rows) != 0)
        return -1;
    if (rows->nrows > 0) {
        out->vehicle_id = db_cell_i64(rows, 0, 0);
        out->owner_citizen_id = db_cell_i64(rows, 0, 1);
        out->owner = out->owner_citizen_id == citizen_id;
        out->binding_id = db_cell_i64(rows, 0, 2);
    }
    db_rows_free(rows);
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

#define LCOLS "id, citizen_id, classes, points, cycle_start, status, valid_until, full_score_study"

static const char SQL_LIC_CITIZEN[] = "SELECT " LCOLS " FROM licences WHERE citizen_id = ?";
static const char SQL_LIC_CITIZEN_LOCK[] =
    "SELECT " LCOLS " FROM licences WHERE citizen_id = ? FOR UPDATE";
static const char SQL_LIC_ID[] = "SELECT " LCOLS " FROM licences WHERE id = ?";
static const char SQL_LIC_ID_LOCK[] = "SELECT " LCOLS " FROM licences WHERE id = ? FOR UPDATE";

static int licence_one(db_conn *c, const char *sql, int64_t key, violations_licence *out,
                       bool *found)
{
    db_rows *rows = NULL;
    int rc = -1;

    *found = false;
    memset(out, 0, sizeof *out);
    if (db_query(c, sql, DBP(DB_I64(key)), &rows) != 0)
        goto fail;
    if (rows->nrows > 0) {
        out->id = db_cell_i64(rows, 0, 0);
        out->citizen_id = db_cell_i64(rows, 0, 1);
        copy_cell(out->classes, sizeof out->classes, rows, 0, 2);
        out->points = (int)db_cell_i64(rows, 0, 3);
        out->cycle_start = cell_date(rows, 0, 4);
        copy_cell(out->status, sizeof out->status, rows, 0, 5);
        out->valid_until = cell_date(rows, 0, 6);
        out->full_score_study = db_cell_i64(rows, 0, 7) != 0;
        *found = true;
    }
    rc = 0;
fail:
    db_rows_free(rows);
    return rc;
}

int violations_sql_licence_of_citizen(db_conn *c, int64_t citizen_id, bool for_update,
                                      violations_licence *out, bool *found)
{
    return licence_one(c, for_update ? SQL_LIC_CITIZEN_LOCK : SQL_LIC_CITIZEN, citizen_id, out,
                       found);
}

int violations_sql_licence_by_id(db_conn *c, int64_t id, bool for_update,
                                 violations_licence *out, bool *found)
{
    return licence_one(c, for_update ? SQL_LIC_ID_LOCK : SQL_LIC_ID, id, out, found);
}

/* ---- bindings ------------------------------------------------------------ */

static const char SQL_LOCK_CITIZEN[] = "SELECT id FROM citizens WHERE id = ? FOR UPDATE";

int violations_sql_lock_citizen(db_conn *c, int64_t citizen_id, bool *found)
{
    db_rows *rows = NULL;
    if (db_query(c, SQL_LOCK_CITIZEN, DBP(DB_I64(citizen_id)), &rows) != 0)
        return -1;
    *found = rows->nrows > 0;
    db_rows_free(rows);
    return 0;
}

/* A locking read: it sees the latest committed bindings, not the snapshot
 * the transaction may have taken before it waited for the holder's lock. */
static const char SQL_COUNT_ACTIVE[] =
    "SELECT COUNT(*) FROM violation_bindings WHERE holder_citizen_id = ? AND state = 'active' "
    "FOR UPDATE";

int violations_sql_count_active(db_conn *c, int64_t holder_id, int *count)
{
    db_rows *rows = NULL;
    if (db_query(c, SQL_COUNT_ACTIVE, DBP(DB_I64(holder_id)), &rows) != 0)
        return -1;
    *count = (int)db_cell_i64(rows, 0, 0);
    db_rows_free(rows);
    return 0;
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

int violations_sql_binding_get(db_conn *c, int64_t id, bool for_update, violations_binding *out,
                               bool *found)
{
    db_rows *rows = NULL;
    int rc = -1;

    *found = false;
    memset(out, 0, sizeof *out);
    if (db_query(c, for_update ? SQL_BINDING_GET_LOCK : SQL_BINDING_GET, DBP(DB_I64(id)), &rows) != 0)
        goto fail;
    if (rows->nrows > 0) {
        out->id = db_cell_i64(rows, 0, 0);
        out->holder_citizen_id = db_cell_i64(rows, 0, 1);
        out->vehicle_id = db_cell_i64(rows, 0, 2);
        out->owner_citizen_id = db_cell_i64(rows, 0, 3);
        copy_cell(out->state, sizeof out->state, rows, 0, 4);
        *found = true;
    }
    rc = 0;
fail:
    db_rows_free(rows);
    return rc;
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

static const char SQL_BINDINGS_HELD[] =
    "SELECT b.id, v.plate, v.vehicle_type, b.state, b.created_at, b.consented_at, b.ended_at, "
    "o.name FROM violation_bindings b JOIN vehicles v ON v.id = b.vehicle_id "
    "JOIN citizens o ON o.id = b.owner_citizen_id WHERE b.holder_citizen_id = ? "
    "ORDER BY b.id DESC LIMIT 200";
static const char SQL_BINDINGS_OWNED[] =
    "SELECT b.id, v.plate, v.vehicle_type, b.state, b.created_at, b.consented_at, b.ended_at, "
    "h.name FROM violation_bindings b JOIN vehicles v ON v.id = b.vehicle_id "
    "JOIN citizens h ON h.id = b.holder_citizen_id WHERE b.owner_citizen_id = ? "
    "ORDER BY b.id DESC LIMIT 200";

int violations_sql_bindings_held(db_conn *c, int64_t holder_id, db_rows **out)
{
    return db_query(c, SQL_BINDINGS_HELD, DBP(DB_I64(holder_id)), out);
}

int violations_sql_bindings_owned(db_conn *c, int64_t owner_id, db_rows **out)
{
    return db_query(c, SQL_BINDINGS_OWNED, DBP(DB_I64(owner_id)), out);
}

static const char SQL_MARK_PAID[] =
    "UPDATE violations SET state = 'paid', paid_at = UTC_TIMESTAMP(3), version = version + 1 "
    "WHERE id = ? AND state = 'handled'";

int violations_mark_paid(db_conn *c, int64_t violation_id, uint64_t *affected)
{
    return db_exec(c, SQL_MARK_PAID, DBP(DB_I64(violation_id)), affected, NULL);
}
