/* catalog_sql.c - one function per statement on the catalog tables. */
#include <stdlib.h>

#include "db/rows.h"
#include "modules/catalog/catalog.h"
#include "modules/catalog/catalog_sql.h"

/* Each SELECT names its columns after the fields of its row struct, in the
 * struct's column table's order (db/rows.h checks both on every run). */
#define REF_SELECT                                                                          \
    "v.id AS version_id, v.version, v.item_code AS code, v.name, v.category, v.channels, " \
    "v.trips, v.statutory_days, v.promised_days, v.allow_missing, v.allow_commitment, "    \
    "v.materials"
#define VERSION_SELECT \
    REF_SELECT ", v.fees, v.steps, v.legal_basis, v.sample_form, v.created_at AS updated_at"
#define CURRENT_JOIN \
    " FROM catalog_items i JOIN catalog_versions v ON v.item_code = i.code AND v.version = i.current_version"

static const char SQL_REF_CURRENT[] = "SELECT " REF_SELECT CURRENT_JOIN " WHERE i.code = ?";
static const char SQL_REF_VERSION[] = "SELECT " REF_SELECT " FROM catalog_versions v WHERE v.id = ?";
static const char SQL_CURRENT[] = "SELECT " VERSION_SELECT CURRENT_JOIN " WHERE i.code = ?";
static const char SQL_LIST[] =
    "SELECT " VERSION_SELECT CURRENT_JOIN
    " WHERE (? IS NULL OR i.category = ?) AND (? IS NULL OR FIND_IN_SET(?, v.channels) > 0) "
    "ORDER BY i.code";
static const char SQL_LOCK_ITEM[] =
    "SELECT current_version FROM catalog_items WHERE code = ? FOR UPDATE";
static const char SQL_INSERT_ITEM[] =
    "INSERT INTO catalog_items (code, category, current_version, created_at, updated_at) "
    "VALUES (?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
static const char SQL_BUMP_ITEM[] =
    "UPDATE catalog_items SET current_version = ?, category = ?, updated_at = UTC_TIMESTAMP(3) "
    "WHERE code = ? AND current_version = ?";
static const char SQL_INSERT_VERSION[] =
    "INSERT INTO catalog_versions (item_code, version, name, category, channels, trips, "
    "statutory_days, promised_days, fees, materials, legal_basis, steps, sample_form, "
    "allow_missing, allow_commitment, created_by, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";

/* The columns of REF_SELECT, filling the public catalog_ref. */
static const db_col REF_COLS[] = {
    DBR_I64(catalog_ref, version_id),     DBR_I32(catalog_ref, version),
    DBR_CHARS(catalog_ref, code),         DBR_CHARS(catalog_ref, name),
    DBR_CHARS(catalog_ref, category),     DBR_CHARS(catalog_ref, channels),
    DBR_I32(catalog_ref, trips),          DBR_I32(catalog_ref, statutory_days),
    DBR_I32(catalog_ref, promised_days),  DBR_BOOL(catalog_ref, allow_missing),
    DBR_BOOL(catalog_ref, allow_commitment), DBR_STR(catalog_ref, materials),
};
static const db_row_spec REF_ROW = DB_ROW_SPEC(catalog_ref, REF_COLS);

/* The columns of VERSION_SELECT. */
static const db_col VERSION_COLS[] = {
    DBR_I64(catalog_version_row, version_id),
    DBR_I32(catalog_version_row, version),
    DBR_CHARS(catalog_version_row, code),
    DBR_STR(catalog_version_row, name),
    DBR_CHARS(catalog_version_row, category),
    DBR_CHARS(catalog_version_row, channels),
    DBR_I32(catalog_version_row, trips),
    DBR_I32(catalog_version_row, statutory_days),
    DBR_I32(catalog_version_row, promised_days),
    DBR_BOOL(catalog_version_row, allow_missing),
    DBR_BOOL(catalog_version_row, allow_commitment),
    DBR_STR(catalog_version_row, materials),
    DBR_STR(catalog_version_row, fees),
    DBR_STR(catalog_version_row, steps),
    DBR_STR(catalog_version_row, legal_basis),
    DBR_STR(catalog_version_row, sample_form),
    DBR_UTC(catalog_version_row, updated_at),
};
static const db_row_spec VERSION_ROW = DB_ROW_SPEC(catalog_version_row, VERSION_COLS);

typedef struct lock_row {
    int current_version;
} lock_row;
static const db_col LOCK_COLS[] = {DBR_I32(lock_row, current_version)};
static const db_row_spec LOCK_ROW = DB_ROW_SPEC(lock_row, LOCK_COLS);

int catalog_current(db_conn *c, const char *code, catalog_ref *out, bool *found)
{
    return db_query_one(c, SQL_REF_CURRENT, DBP(DB_STR(code)), &REF_ROW, out, found);
}

int catalog_version_get(db_conn *c, int64_t version_id, catalog_ref *out, bool *found)
{
    return db_query_one(c, SQL_REF_VERSION, DBP(DB_I64(version_id)), &REF_ROW, out, found);
}

void catalog_ref_clear(catalog_ref *r)
{
    db_row_clear(&REF_ROW, r);
}

int catalog_sql_get_current(db_conn *c, const char *code, catalog_version_row *out, bool *found)
{
    return db_query_one(c, SQL_CURRENT, DBP(DB_STR(code)), &VERSION_ROW, out, found);
}

int catalog_sql_list(db_conn *c, const char *category, const char *channel,
                     catalog_version_row **out, int *n)
{
    void *rows = NULL;
    int rc = db_query_all(c, SQL_LIST,
                          DBP(DB_STR(category), DB_STR(category), DB_STR(channel), DB_STR(channel)),
                          &VERSION_ROW, &rows, n);

    *out = rows;
    return rc;
}

void catalog_version_row_clear(catalog_version_row *v)
{
    db_row_clear(&VERSION_ROW, v);
}

void catalog_version_rows_free(catalog_version_row *rows, int n)
{
    db_row_array_free(&VERSION_ROW, rows, n);
}

int catalog_sql_lock_item(db_conn *c, const char *code, int *current_version, bool *found)
{
    lock_row row;
    int rc = db_query_one(c, SQL_LOCK_ITEM, DBP(DB_STR(code)), &LOCK_ROW, &row, found);

    *current_version = row.current_version;  /* 0 when absent or on error */
    return rc;
}

int catalog_sql_insert_item(db_conn *c, const char *code, const char *category, int version)
{
    return db_exec(c, SQL_INSERT_ITEM, DBP(DB_STR(code), DB_STR(category), DB_I64(version)), NULL,
                   NULL);
}

int catalog_sql_bump_item(db_conn *c, const char *code, const char *category, int from, int to,
                          bool *done)
{
    uint64_t affected = 0;
    *done = false;
    if (db_exec(c, SQL_BUMP_ITEM, DBP(DB_I64(to), DB_STR(category), DB_STR(code), DB_I64(from)),
                &affected, NULL) != 0)
        return -1;
    *done = affected == 1;
    return 0;
}

int catalog_sql_insert_version(db_conn *c, const catalog_version_in *v, int64_t *id)
{
    uint64_t iid = 0;
    if (db_exec(c, SQL_INSERT_VERSION,
                DBP(DB_STR(v->code), DB_I64(v->version), DB_STR(v->name), DB_STR(v->category),
                    DB_STR(v->channels), DB_I64(v->trips), DB_I64(v->statutory_days),
                    DB_I64(v->promised_days), DB_STR(v->fees), DB_STR(v->materials),
                    DB_STR(v->legal_basis), DB_STR(v->steps), DB_STR(v->sample_form),
                    DB_I64(v->allow_missing), DB_I64(v->allow_commitment),
                    v->created_by ? DB_I64(v->created_by) : DB_NULL),
                NULL, &iid) != 0)
        return -1;
    *id = (int64_t)iid;
    return 0;
}
