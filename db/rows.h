/* rows.h - typed rows: a SELECT's columns bound to a struct by a table.
 *
 * A row struct is described once by a table of columns, each naming the
 * struct field it fills; the SELECT names its columns (or aliases them) after
 * those fields, in the same order:
 *
 *     typedef struct item { int64_t id; char code[33]; char *name; } item;
 *     static const db_col ITEM_COLS[] = {
 *         DBR_I64(item, id), DBR_CHARS(item, code), DBR_STR(item, name),
 *     };
 *     static const db_row_spec ITEM_ROW = DB_ROW_SPEC(item, ITEM_COLS);
 *     static const char SQL_ITEM[] = "SELECT i.id, i.item_code AS code, i.name FROM ...";
 *     ... db_query_one(c, SQL_ITEM, DBP(DB_I64(id)), &ITEM_ROW, &row, &found) ...
 *
 * Every execution first compares the statement's result columns with the
 * table: their number, each name (the alias, exactly) and whether the SQL
 * type can fill the field's type. A SELECT that was reordered, renamed or
 * widened fails with -1 (DB_ERR_OTHER, the difference in db_errmsg and in an
 * error line on stderr) before any row is read, even when it has no rows.
 * Values are checked too: NULL in a column not declared nullable, text longer
 * than its char buffer, an integer outside its field's range are errors,
 * never silently truncated or zeroed.
 *
 * The macros check the field's C type at compile time (an int64_t column
 * cannot fill an int field, a char[] column cannot fill a char *).
 *
 * Same threading, blocking and error rules as db.h (worker threads only; on
 * -1 the error is in the connection; database errors keep their DB_ERR_*
 * kind, so db_tx still retries deadlocks).
 */
#ifndef ONETRIP_DB_ROWS_H
#define ONETRIP_DB_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "db/db.h"

typedef enum db_col_type {
    DB_COL_I64,   /* int64_t     <- an integer column (or DECIMAL without decimals) */
    DB_COL_I32,   /* int32_t/int <- an integer column; outside INT32 range is an error */
    DB_COL_BOOL,  /* bool        <- an integer column; non-zero is true */
    DB_COL_CHARS, /* char[N]     <- any column as text of at most N-1 bytes; longer is an error */
    DB_COL_STR,   /* char *      <- any column as text, malloc'd, owned by the row */
    DB_COL_BLOB,  /* unsigned char * + size_t length <- bytes, malloc'd, owned by the row */
    DB_COL_TIME,  /* time_t      <- DATETIME, TIMESTAMP or DATE, read as UTC */
    DB_COL_UTC    /* char[N>=21] <- DATETIME, TIMESTAMP or DATE as "YYYY-MM-DDTHH:MM:SSZ" */
} db_col_type;

/* One column. Build these with the DBR_* macros below. */
typedef struct db_col {
    const char *name;  /* the result column's name or alias, exactly */
    db_col_type type;
    size_t off;        /* offsetof the field */
    size_t size;       /* sizeof the field (the capacity of a char buffer) */
    size_t len_off;    /* DB_COL_BLOB: offsetof its size_t length */
    size_t has_off;    /* nullable scalars: offsetof a bool, true when not NULL */
    bool nullable;     /* false: a NULL value is an error */
} db_col;

/* A row struct and its columns, in SELECT order. */
typedef struct db_row_spec {
    const char *name;  /* the struct's name, for error messages */
    size_t size;       /* sizeof the struct */
    const db_col *cols;
    int ncols;
} db_row_spec;

#define DB_ROW_SPEC(S, cols) {#S, sizeof(S), (cols), (int)(sizeof(cols) / sizeof((cols)[0]))}

/* offsetof(S, f), and a compile error unless field f has exactly type T. */
#define DBR__OFF(S, f, T) (offsetof(S, f) + 0 * sizeof(_Generic(&((S *)0)->f, T *: 1)))
/* offsetof(S, f), and a compile error unless f is a char array. */
#define DBR__ARR(S, f) \
    (offsetof(S, f) + 0 * sizeof(_Generic(&((S *)0)->f, char(*)[sizeof((S *)0)->f]: 1)))
/* sizeof field f, and a compile error unless it has at least n bytes. */
#define DBR__MIN(S, f, n) (sizeof((S *)0)->f + 0 * sizeof(char[sizeof((S *)0)->f >= (n) ? 1 : -1]))

#define DBR__COL(name, t, off, size, len_off, has_off, nullable) \
    {(name), (t), (off), (size), (len_off), (has_off), (nullable)}

/* NOT NULL columns: the column is named like the field. */
#define DBR_I64(S, f) DBR__COL(#f, DB_COL_I64, DBR__OFF(S, f, int64_t), sizeof(int64_t), 0, 0, false)
#define DBR_I32(S, f) DBR__COL(#f, DB_COL_I32, DBR__OFF(S, f, int32_t), sizeof(int32_t), 0, 0, false)
#define DBR_BOOL(S, f) DBR__COL(#f, DB_COL_BOOL, DBR__OFF(S, f, bool), sizeof(bool), 0, 0, false)
#define DBR_CHARS(S, f) DBR__COL(#f, DB_COL_CHARS, DBR__ARR(S, f), sizeof((S *)0)->f, 0, 0, false)
#define DBR_STR(S, f) DBR__COL(#f, DB_COL_STR, DBR__OFF(S, f, char *), sizeof(char *), 0, 0, false)
#define DBR_BLOB(S, f, len)                                                                \
    DBR__COL(#f, DB_COL_BLOB, DBR__OFF(S, f, unsigned char *), sizeof(unsigned char *), \
             DBR__OFF(S, len, size_t), 0, false)
#define DBR_TIME(S, f) DBR__COL(#f, DB_COL_TIME, DBR__OFF(S, f, time_t), sizeof(time_t), 0, 0, false)
#define DBR_UTC(S, f) DBR__COL(#f, DB_COL_UTC, DBR__ARR(S, f), DBR__MIN(S, f, 21), 0, 0, false)

/* Nullable columns. Scalars and char buffers get a bool `has` field (false
 * and a zero value for NULL); strings and blobs become NULL pointers (and
 * length 0). */
#define DBR_I64_NULL(S, f, has) \
    DBR__COL(#f, DB_COL_I64, DBR__OFF(S, f, int64_t), sizeof(int64_t), 0, DBR__OFF(S, has, bool), true)
#define DBR_I32_NULL(S, f, has) \
    DBR__COL(#f, DB_COL_I32, DBR__OFF(S, f, int32_t), sizeof(int32_t), 0, DBR__OFF(S, has, bool), true)
#define DBR_BOOL_NULL(S, f, has) \
    DBR__COL(#f, DB_COL_BOOL, DBR__OFF(S, f, bool), sizeof(bool), 0, DBR__OFF(S, has, bool), true)
#define DBR_CHARS_NULL(S, f, has) \
    DBR__COL(#f, DB_COL_CHARS, DBR__ARR(S, f), sizeof((S *)0)->f, 0, DBR__OFF(S, has, bool), true)
#define DBR_TIME_NULL(S, f, has) \
    DBR__COL(#f, DB_COL_TIME, DBR__OFF(S, f, time_t), sizeof(time_t), 0, DBR__OFF(S, has, bool), true)
#define DBR_UTC_NULL(S, f, has) \
    DBR__COL(#f, DB_COL_UTC, DBR__ARR(S, f), DBR__MIN(S, f, 21), 0, DBR__OFF(S, has, bool), true)
#define DBR_STR_NULL(S, f) DBR__COL(#f, DB_COL_STR, DBR__OFF(S, f, char *), sizeof(char *), 0, 0, true)
#define DBR_BLOB_NULL(S, f, len)                                                           \
    DBR__COL(#f, DB_COL_BLOB, DBR__OFF(S, f, unsigned char *), sizeof(unsigned char *), \
             DBR__OFF(S, len, size_t), 0, true)

/* Runs sql (a string with static storage duration, as for db_query) and
 * fills *row from its only row. *row is zeroed first (free what it owned
 * before). With found != NULL, no row gives 0 and *found = false; with
 * found == NULL, no row is an error. More than one row is an error.
 * On 0 the row owns its strings and blobs: db_row_clear frees them.
 * On -1 *row owns nothing. */
int db_query_one(db_conn *c, const char *sql, const db_val *params, int nparams,
                 const db_row_spec *spec, void *row, bool *found);

/* Runs sql and returns every row as an array of spec->size structs in
 * *rows (NULL when there are none) and their number in *nrows. The caller
 * frees with db_row_array_free. On -1 *rows is NULL and *nrows 0. */
int db_query_all(db_conn *c, const char *sql, const db_val *params, int nparams,
                 const db_row_spec *spec, void **rows, int *nrows);
/* Frees the strings and blobs one row owns and sets them to NULL (and blob
 * lengths to 0); leaves the other fields. Accepts NULL. */
void db_row_clear(const db_row_spec *spec, void *row);
/* db_row_clear on each of nrows rows, then frees the array. Accepts NULL. */
void db_row_array_free(const db_row_spec *spec, void *rows, int nrows);

/* For the typed wrappers of a *_sql.c:
 * DB_RETURN_ALL returns db_query_all's result from the enclosing function,
 * storing the array in *rows, a typed pointer (T **), without a cast at each
 * call (converted through void *, never aliased as void **); params is a
 * DBP(...) list. DB_ROW_CLEAR_FN / DB_ROW_ARRAY_FREE_FN define a row type's public
 * free functions over its spec: `void fn(T *row)` and `void fn(T *rows,
 * int n)` (both accept NULL). */
#define DB_RETURN_ALL(c, sql, params, spec, rows, n)                    \
    do {                                                                \
        void *all_ = NULL;                                              \
        int rc_ = db_query_all((c), (sql), params, (spec), &all_, (n)); \
        *(rows) = all_;                                                 \
        return rc_;                                                     \
    } while (0)
#define DB_ROW_CLEAR_FN(fn, T, spec) \
    void fn(T *row) { db_row_clear((spec), row); }
#define DB_ROW_ARRAY_FREE_FN(fn, T, spec) \
    void fn(T *rows, int n) { db_row_array_free((spec), rows, n); }

#endif
