/* people_auth.c - people's side of authentication: an app token's subject
 * is a citizen, found by the hash of their ID number (server/app.h,
 * app_authenticator). */
#include "db/rows.h"
#include "modules/people/people_auth.h"

static const char SQL_CITIZEN_BY_HASH[] = "SELECT id FROM citizens WHERE id_number_hash = ?";
typedef struct citizen_id_row {
    int64_t id;
} citizen_id_row;
static const db_col CITIZEN_ID_COLS[] = {DBR_I64(citizen_id_row, id)};
static const db_row_spec CITIZEN_ID_ROW = DB_ROW_SPEC(citizen_id_row, CITIZEN_ID_COLS);

static int citizen_by_id_hash(db_conn *c, const unsigned char hash[32], int64_t *id, bool *found)
{
    citizen_id_row row;
    if (db_query_one(c, SQL_CITIZEN_BY_HASH, DBP(DB_BLOB(hash, 32)), &CITIZEN_ID_ROW, &row, found) != 0)
        return -1;
    *id = *found ? row.id : 0;
    return 0;
}

const app_authenticator people_authenticator = {
    .citizen_by_id_hash = citizen_by_id_hash,
};
