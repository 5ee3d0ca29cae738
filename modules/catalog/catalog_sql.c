/* catalog_sql.c - one function per statement on the catalog tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/catalog/catalog.h"
#include "modules/catalog/catalog_sql.h"
#include "server/app.h"

#define VERSION_COLS                                                                       \
    "v.id, v.version, v.item_code, v.name, v.category, v.channels, v.trips, "              \
    "v.statutory_days, v.promised_days, v.allow_missing, v.allow_commitment, v.materials, " \
    "v.fees, v.legal_basis, v.steps, v.sample_form, DATE_FORMAT(v.created_at, '%Y-%m-%dT%H:%i:%sZ')"

static const char SQL_CURRENT[] =
    "SELECT " VERSION_COLS " FROM catalog_items i JOIN catalog_versions v "
    "ON v.item_code = i.code AND v.version = i.current_version WHERE i.code = ?";
static const char SQL_VERSION[] = "SELECT " VERSION_COLS " FROM catalog_versions v WHERE v.id = ?";
static const char SQL_LIST[] =
    "SELECT " VERSION_COLS " FROM catalog_items i JOIN catalog_versions v "
    "ON v.item_code = i.code AND v.version = i.current_version "
    "WHERE (? IS NULL OR i.category = ?) AND (? IS NULL OR FIND_IN_SET(?, v.channels) > 0) "
    "ORDER BY i.code";
static const char SQL_LOCK_ITEM[] =
    "SELECT current_version, category FROM catalog_items WHERE code = ? FOR UPDATE";
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

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void fill_ref(const db_rows *rows, int i, catalog_ref *out)
{
    memset(out, 0, sizeof *out);
    out->version_id = db_cell_i64(rows, i, 0);
    out->version = (int)db_cell_i64(rows, i, 1);
    copy(out->code, sizeof out->code, db_cell(rows, i, 2));
    copy(out->name, sizeof out->name, db_cell(rows, i, 3));
    copy(out->category, sizeof out->category, db_cell(rows, i, 4));
    copy(out->channels, sizeof out->channels, db_cell(rows, i, 5));
    out->trips = (int)db_cell_i64(rows, i, 6);
    out->statutory_days = (int)db_cell_i64(rows, i, 7);
    out->promised_days = (int)db_cell_i64(rows, i, 8);
    out->allow_missing = db_cell_i64(rows, i, 9) != 0;
    out->allow_commitment = db_cell_i64(rows, i, 10) != 0;
    out->materials = app_strdup(db_cell(rows, i, 11) ? db_cell(rows, i, 11) : "[]");
}

static int get_one(db_conn *c, const char *sql, const db_val *p, int np, catalog_ref *out, bool *found)
{
    db_rows *rows = NULL;
    *found = false;
    if (db_query(c, sql, p, np, &rows) != 0)
        return -1;
    if (rows->nrows > 0) {
        fill_ref(rows, 0, out);
        *found = true;
    }
    db_rows_free(rows);
    return 0;
}

int catalog_current(db_conn *c, const char *code, catalog_ref *out, bool *found)
{
    return get_one(c, SQL_CURRENT, DBP(DB_STR(code)), out, found);
}

int catalog_version_get(db_conn *c, int64_t version_id, catalog_ref *out, bool *found)
{
    return get_one(c, SQL_VERSION, DBP(DB_I64(version_id)), out, found);
}

void catalog_ref_clear(catalog_ref *r)
{
    if (r == NULL)
        return;
    free(r->materials);
    r->materials = NULL;
}

int catalog_sql_get_current(db_conn *c, const char *code, db_rows **out)
{
    return db_query(c, SQL_CURRENT, DBP(DB_STR(code)), out);
}

int catalog_sql_list(db_conn *c, const char *category, const char *channel, db_rows **out)
{
    return db_query(c, SQL_LIST,
                    DBP(DB_STR(category), DB_STR(category), DB_STR(channel), DB_STR(channel)), out);
}

int catalog_sql_lock_item(db_conn *c, const char *code, int *current_version, bool *found)
{
    db_rows *rows = NULL;
    *found = false;
    *current_version = 0;
    if (db_query(c, SQL_LOCK_ITEM, DBP(DB_STR(code)), &rows) != 0)
        return -1;
    if (rows->nrows > 0) {
        *found = true;
        *current_version = (int)db_cell_i64(rows, 0, 0);
    }
    db_rows_free(rows);
    return 0;
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
