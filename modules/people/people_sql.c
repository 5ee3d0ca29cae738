/* people_sql.c - statements of the people module (see people_sql.h, and
 * people.h for the writes other modules call). Each SELECT names its
 * columns after its row struct's fields, in the order of the struct's
 * column table (db/rows.h checks both on every run). */
#include "modules/people/people_sql.h"
#include "modules/people/people.h"

#include "db/rows.h"

#define LIC_SELECT                                                                         \
    "SELECT id, file_no, classes, points, cycle_start, status, valid_from, valid_until, " \
    "next_medical_date, full_score_study FROM licences "
#define VEH_SELECT                                                                             \
    "SELECT id, plate, vin, engine_no, vehicle_type, class_required, use_type, brand, model, " \
    "owner_citizen_id, status, next_inspection_date, registered_at FROM vehicles "
#define CIT_SELECT                                                                               \
    "SELECT id, name, id_number_enc, phone_enc, birth_date, disabled, address FROM citizens "

static const char SQL_LICENCE_OF[] = LIC_SELECT "WHERE citizen_id = ?";
static const char SQL_VEHICLES_OF[] = VEH_SELECT "WHERE owner_citizen_id = ? ORDER BY id LIMIT 500";
static const char SQL_VEHICLE[] = VEH_SELECT "WHERE id = ?";
static const char SQL_CITIZEN[] = CIT_SELECT "WHERE id = ?";
static const char SQL_CITIZEN_BY_HASH[] = CIT_SELECT "WHERE id_number_hash = ?";

static const db_col LIC_COLS[] = {
    DBR_I64(people_licence_row, id),
    DBR_CHARS(people_licence_row, file_no),
    DBR_CHARS(people_licence_row, classes),
    DBR_I32(people_licence_row, points),
    DBR_CHARS(people_licence_row, cycle_start),
    DBR_CHARS(people_licence_row, status),
    DBR_CHARS(people_licence_row, valid_from),
    DBR_CHARS(people_licence_row, valid_until),
    DBR_CHARS_NULL(people_licence_row, next_medical_date, has_next_medical_date),
    DBR_BOOL(people_licence_row, full_score_study),
};
static const db_row_spec LIC_ROW = DB_ROW_SPEC(people_licence_row, LIC_COLS);

static const db_col VEH_COLS[] = {
    DBR_I64(people_vehicle_row, id),
    DBR_CHARS(people_vehicle_row, plate),
    DBR_CHARS(people_vehicle_row, vin),
    DBR_CHARS(people_vehicle_row, engine_no),
    DBR_CHARS(people_vehicle_row, vehicle_type),
    DBR_CHARS(people_vehicle_row, class_required),
    DBR_CHARS(people_vehicle_row, use_type),
    DBR_STR(people_vehicle_row, brand),
    DBR_STR(people_vehicle_row, model),
    DBR_I64(people_vehicle_row, owner_citizen_id),
    DBR_CHARS(people_vehicle_row, status),
    DBR_CHARS_NULL(people_vehicle_row, next_inspection_date, has_next_inspection_date),
    DBR_UTC(people_vehicle_row, registered_at),
};
static const db_row_spec VEH_ROW = DB_ROW_SPEC(people_vehicle_row, VEH_COLS);

static const db_col CIT_COLS[] = {
    DBR_I64(people_citizen_row, id),
    DBR_STR(people_citizen_row, name),
    DBR_BLOB(people_citizen_row, id_number_enc, id_number_enc_len),
    DBR_BLOB_NULL(people_citizen_row, phone_enc, phone_enc_len),
    DBR_CHARS(people_citizen_row, birth_date),
    DBR_BOOL(people_citizen_row, disabled),
    DBR_STR(people_citizen_row, address),
};
static const db_row_spec CIT_ROW = DB_ROW_SPEC(people_citizen_row, CIT_COLS);

int people_licence_of(db_conn *c, int64_t citizen_id, people_licence_row *out, bool *found)
{
    return db_query_one(c, SQL_LICENCE_OF, DBP(DB_I64(citizen_id)), &LIC_ROW, out, found);
}

int people_vehicles_of(db_conn *c, int64_t citizen_id, people_vehicle_row **out, int *n)
{
    DB_RETURN_ALL(c, SQL_VEHICLES_OF, DBP(DB_I64(citizen_id)), &VEH_ROW, out, n);
}

int people_vehicle(db_conn *c, int64_t vehicle_id, people_vehicle_row *out, bool *found)
{
    return db_query_one(c, SQL_VEHICLE, DBP(DB_I64(vehicle_id)), &VEH_ROW, out, found);
}

int people_citizen(db_conn *c, int64_t citizen_id, people_citizen_row *out, bool *found)
{
    return db_query_one(c, SQL_CITIZEN, DBP(DB_I64(citizen_id)), &CIT_ROW, out, found);
}

int people_citizen_by_hash(db_conn *c, const unsigned char hash[32], people_citizen_row *out,
                           bool *found)
{
    return db_query_one(c, SQL_CITIZEN_BY_HASH, DBP(DB_BLOB(hash, 32)), &CIT_ROW, out, found);
}

void people_vehicle_row_clear(people_vehicle_row *v)
{
    db_row_clear(&VEH_ROW, v);
}

void people_vehicle_rows_free(people_vehicle_row *rows, int n)
{
    db_row_array_free(&VEH_ROW, rows, n);
}

void people_citizen_row_clear(people_citizen_row *c)
{
    db_row_clear(&CIT_ROW, c);
}

/* ---- writes other modules make inside their transactions (people.h) ---- */

static const char SQL_LIC_POINTS[] =
    "UPDATE licences SET points = ?, cycle_start = ?, "
    "status = IF(? = 1, 'full_score', status), "
    "full_score_study = IF(? = 1, 1, full_score_study), version = version + 1 WHERE id = ?";

int people_licence_set_points(db_conn *c, int64_t licence_id, int points, const char *cycle_start,
                              bool full_score)
{
    return db_exec(c, SQL_LIC_POINTS,
                   DBP(DB_I64(points), DB_STR(cycle_start), DB_I64(full_score ? 1 : 0),
                       DB_I64(full_score ? 1 : 0), DB_I64(licence_id)),
                   NULL, NULL);
}

/* The licence row is locked by the caller (cancel): a plain write is safe.
 * Lifting touches only a licence that is still 'full_score'. */
static const char SQL_LIC_RETURN[] =
    "UPDATE licences SET points = ?, "
    /* study before status: both read the old status, whatever the
     * assignment order (SIMULTANEOUS_ASSIGNMENT or not) */
    "full_score_study = IF(? = 1 AND status = 'full_score', 0, full_score_study), "
    "status = IF(? = 1 AND status = 'full_score', 'valid', status), "
    "version = version + 1 WHERE id = ?";

int people_licence_return_points(db_conn *c, int64_t licence_id, int points, bool lift_full_score)
{
    return db_exec(c, SQL_LIC_RETURN,
                   DBP(DB_I64(points), DB_I64(lift_full_score ? 1 : 0),
                       DB_I64(lift_full_score ? 1 : 0), DB_I64(licence_id)),
                   NULL, NULL);
}

static const char SQL_VEHICLE_INSERT[] =
    "INSERT INTO vehicles (plate, vin, engine_no, vehicle_type, class_required, use_type, brand, "
    "model, owner_citizen_id, status, next_inspection_date, registered_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'normal', ?, UTC_TIMESTAMP(3))";

int people_vehicle_create(db_conn *c, const people_new_vehicle *v, int64_t *id)
{
    uint64_t iid = 0;
    int rc = db_exec(c, SQL_VEHICLE_INSERT,
                     DBP(DB_STR(v->plate), DB_STR(v->vin), DB_STR(v->engine_no), DB_STR(v->vehicle_type),
                         DB_STR(v->class_required), DB_STR(v->use_type), DB_STR(v->brand),
                         DB_STR(v->model), DB_I64(v->owner_citizen_id),
                         DB_STR(v->next_inspection_date)),
                     NULL, &iid);
    *id = (int64_t)iid;
    return rc;
}
