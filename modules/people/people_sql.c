/* people_sql.c - statements of the people module (see people_sql.h). */
#include "modules/people/people_sql.h"

#define LIC_SELECT                                                                                 \
    "SELECT id, file_no, classes, points, cycle_start, status, valid_from, valid_until, "         \
    "next_medical_date, full_score_study FROM licences "
#define VEH_SELECT                                                                                 \
    "SELECT id, plate, vin, engine_no, vehicle_type, class_required, use_type, brand, model, "    \
    "owner_citizen_id, status, next_inspection_date, "                                            \
    "DATE_FORMAT(registered_at, '%Y-%m-%dT%H:%i:%sZ') FROM vehicles "
#define CIT_SELECT                                                                                 \
    "SELECT id, name, id_number_enc, phone_enc, birth_date, disabled, address FROM citizens "

static const char SQL_LICENCE_OF[] = LIC_SELECT "WHERE citizen_id = ?";
static const char SQL_VEHICLES_OF[] = VEH_SELECT "WHERE owner_citizen_id = ? ORDER BY id LIMIT 500";
static const char SQL_VEHICLE[] = VEH_SELECT "WHERE id = ?";
static const char SQL_CITIZEN[] = CIT_SELECT "WHERE id = ?";
static const char SQL_CITIZEN_BY_HASH[] = CIT_SELECT "WHERE id_number_hash = ?";

int people_licence_of(db_conn *c, int64_t citizen_id, db_rows **out)
{
    return db_query(c, SQL_LICENCE_OF, DBP(DB_I64(citizen_id)), out);
}

int people_vehicles_of(db_conn *c, int64_t citizen_id, db_rows **out)
{
    return db_query(c, SQL_VEHICLES_OF, DBP(DB_I64(citizen_id)), out);
}

int people_vehicle(db_conn *c, int64_t vehicle_id, db_rows **out)
{
    return db_query(c, SQL_VEHICLE, DBP(DB_I64(vehicle_id)), out);
}

int people_citizen(db_conn *c, int64_t citizen_id, db_rows **out)
{
    return db_query(c, SQL_CITIZEN, DBP(DB_I64(citizen_id)), out);
}

int people_citizen_by_hash(db_conn *c, const unsigned char hash[32], db_rows **out)
{
    return db_query(c, SQL_CITIZEN_BY_HASH, DBP(DB_BLOB(hash, 32)), out);
}
