/* catalog_sql.h - statements on the catalog tables (private to the module).
 * Block on the database (worker threads); return 0 or -1 with the error in c.
 * Rows come back as structs (db/rows.h) that the caller frees with the
 * matching _clear/_free function. */
#ifndef ONETRIP_CATALOG_SQL_H
#define ONETRIP_CATALOG_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* One version of an item, everything the HTTP handlers show. */
typedef struct catalog_version_row {
    int64_t version_id;
    int version;
    char code[129];          /* VARCHAR(32), utf8mb4: up to 128 bytes */
    char *name;
    char category[16];       /* ENUM */
    char channels[96];       /* SET: "app,window,dealer" */
    int trips;
    int statutory_days;
    int promised_days;
    bool allow_missing;
    bool allow_commitment;
    char *materials, *fees, *steps; /* JSON text */
    char *legal_basis, *sample_form;
    char updated_at[21];     /* when this version was made, "YYYY-MM-DDTHH:MM:SSZ" */
} catalog_version_row;

typedef struct catalog_version_in {
    const char *code, *name, *category, *channels;
    int version, trips, statutory_days, promised_days;
    const char *fees, *materials, *legal_basis, *steps, *sample_form; /* JSON / text */
    bool allow_missing, allow_commitment;
    int64_t created_by; /* operator id, 0 = none */
} catalog_version_in;

/* The current version of item code; *found false if there is none. */
int catalog_sql_get_current(db_conn *c, const char *code, catalog_version_row *out, bool *found);
/* Current versions by code; category / channel NULL = any. *out (NULL when
 * *n is 0) is freed with catalog_version_rows_free. */
int catalog_sql_list(db_conn *c, const char *category, const char *channel,
                     catalog_version_row **out, int *n);
void catalog_version_row_clear(catalog_version_row *v);
void catalog_version_rows_free(catalog_version_row *rows, int n);

int catalog_sql_lock_item(db_conn *c, const char *code, int *current_version, bool *found);
int catalog_sql_insert_item(db_conn *c, const char *code, const char *category, int version);
/* Conditional: only from the version the caller locked and read. */
int catalog_sql_bump_item(db_conn *c, const char *code, const char *category, int from, int to,
                          bool *done);
int catalog_sql_insert_version(db_conn *c, const catalog_version_in *v, int64_t *id);

#endif
