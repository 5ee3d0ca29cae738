/* people_sql.h - reads of citizens, licences and vehicles (block on the
 * database: worker threads). Rows are returned as db_rows the caller frees;
 * column order is given by the *_COLS enums. Return 0 or -1 (error in c). */
#ifndef ONETRIP_PEOPLE_SQL_H
#define ONETRIP_PEOPLE_SQL_H

#include <stdint.h>
#include "db/db.h"

enum { LIC_ID, LIC_FILE_NO, LIC_CLASSES, LIC_POINTS, LIC_CYCLE_START, LIC_STATUS, LIC_VALID_FROM,
       LIC_VALID_UNTIL, LIC_NEXT_MEDICAL, LIC_FULL_SCORE_STUDY };
enum { VEH_ID, VEH_PLATE, VEH_VIN, VEH_ENGINE_NO, VEH_TYPE, VEH_CLASS, VEH_USE, VEH_BRAND, VEH_MODEL,
       VEH_OWNER, VEH_STATUS, VEH_NEXT_INSPECTION, VEH_REGISTERED_AT };
enum { CIT_ID, CIT_NAME, CIT_ID_ENC, CIT_PHONE_ENC, CIT_BIRTH, CIT_DISABLED, CIT_ADDRESS };

int people_licence_of(db_conn *c, int64_t citizen_id, db_rows **out);
int people_vehicles_of(db_conn *c, int64_t citizen_id, db_rows **out);
int people_vehicle(db_conn *c, int64_t vehicle_id, db_rows **out);
int people_citizen(db_conn *c, int64_t citizen_id, db_rows **out);
int people_citizen_by_hash(db_conn *c, const unsigned char hash[32], db_rows **out);

#endif
