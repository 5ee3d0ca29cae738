/* catalog_sql.h - statements on the catalog tables (private to the module).
 * Row-returning functions give the caller a db_rows to free; version rows
 * have the columns of catalog_sql_col below. */
#ifndef ONETRIP_CATALOG_SQL_H
#define ONETRIP_CATALOG_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

enum catalog_sql_col {
    CV_ID, CV_VERSION, CV_CODE, CV_NAME, CV_CATEGORY, CV_CHANNELS, CV_TRIPS, CV_STATUTORY,
    CV_PROMISED, CV_ALLOW_MISSING, CV_ALLOW_COMMITMENT, CV_MATERIALS, CV_FEES, CV_LEGAL,
    CV_STEPS, CV_SAMPLE, CV_CREATED
};

typedef struct catalog_version_in {
    const char *code, *name, *category, *channels;
    int version, trips, statutory_days, promised_days;
    const char *fees, *materials, *legal_basis, *steps, *sample_form; /* JSON / text */
    bool allow_missing, allow_commitment;
    int64_t created_by; /* operator id, 0 = none */
} catalog_version_in;

int catalog_sql_get_current(db_conn *c, const char *code, db_rows **out);
/* category / channel NULL = any. */
int catalog_sql_list(db_conn *c, const char *category, const char *channel, db_rows **out);
int catalog_sql_lock_item(db_conn *c, const char *code, int *current_version, bool *found);
int catalog_sql_insert_item(db_conn *c, const char *code, const char *category, int version);
/* Conditional: only from the version the caller locked and read. */
int catalog_sql_bump_item(db_conn *c, const char *code, const char *category, int from, int to,
                          bool *done);
int catalog_sql_insert_version(db_conn *c, const catalog_version_in *v, int64_t *id);

#endif
