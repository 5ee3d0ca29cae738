/* rows.c - typed rows (see rows.h): fetches a prepared statement's result
 * straight into caller structs described by a column table.
 *
 * Each column is bound in its own C type (integers as LONGLONG, dates as
 * MYSQL_TIME, text and bytes into a scratch buffer sized from the stored
 * result's max_length), so no value goes through a decimal string and back.
 *
 * The shape of the result (count, names, types) is compared with the table
 * on every execution, before any row is read. It costs a few string
 * comparisons next to the result metadata that sizing the buffers reads
 * anyway, and it stays right when the server re-prepares a statement after
 * an ALTER TABLE changed what it returns.
 *
 * db/ sits below server/ and has no logger of its own: a mismatch is written
 * to stderr as one line shaped like app_log's, and kept in the connection's
 * error for the caller (who answers 500 through app_problem_db).
 */
#include "db/rows.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

/* Fetch state of one column. */
typedef struct col_state {
    union {
        int64_t i;
        uint64_t u;
    } num;
    MYSQL_TIME tm;
    char *buf;           /* text and bytes */
    unsigned long cap;   /* bytes of buf */
    unsigned long len;   /* full length of the value */
    my_bool is_null, error;
} col_state;

/* ---- errors --------------------------------------------------------------- */

static void log_line(const char *msg)
{
    char ts[32];
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "ts=%s.%03ldZ level=error module=db event=row_mismatch %s\n", ts,
            now.tv_nsec / 1000000L, msg);
}

/* A result that does not fit the row: recorded in c, logged. Returns -1. */
static int shape_error(db_conn *c, const db_row_spec *spec, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int shape_error(db_conn *c, const db_row_spec *spec, int col, const char *fmt, ...)
{
    char what[256], msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (col >= 0)
        snprintf(msg, sizeof msg, "row=%s column=%d name=%s: %s", spec->name, col + 1,
                 spec->cols[col].name, what);
    else
        snprintf(msg, sizeof msg, "row=%s: %s", spec->name, what);
    db_set_error(c, DB_ERR_OTHER, msg);
    log_line(msg);
    return -1;
}

/* ---- shape ---------------------------------------------------------------- */

static bool is_int_type(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return true;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        return f->decimals == 0;  /* SUM() of integers */
    default:
        return false;
    }
}

static bool is_time_type(const MYSQL_FIELD *f)
{
    return f->type == MYSQL_TYPE_DATETIME || f->type == MYSQL_TYPE_TIMESTAMP ||
           f->type == MYSQL_TYPE_DATE || f->type == MYSQL_TYPE_NEWDATE;
}

static bool is_string_type(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
        return true;
    default:
        return false;
    }
}

/* Binary strings (VARBINARY, BLOB, sealed personal data) are bytes: reading
 * them as text would hand NULs and invalid UTF-8 to JSON. */
static bool is_binary_string(const MYSQL_FIELD *f)
{
    return is_string_type(f) && f->charsetnr == 63;
}

static const char *sql_type_name(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY: return "TINYINT";
    case MYSQL_TYPE_SHORT: return "SMALLINT";
    case MYSQL_TYPE_INT24: return "MEDIUMINT";
    case MYSQL_TYPE_LONG: return "INT";
    case MYSQL_TYPE_LONGLONG: return "BIGINT";
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: return "DECIMAL";
    case MYSQL_TYPE_FLOAT: return "FLOAT";
    case MYSQL_TYPE_DOUBLE: return "DOUBLE";
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE: return "DATE";
    case MYSQL_TYPE_DATETIME: return "DATETIME";
    case MYSQL_TYPE_TIMESTAMP: return "TIMESTAMP";
    case MYSQL_TYPE_TIME: return "TIME";
    case MYSQL_TYPE_NULL: return "NULL";
    default: return is_binary_string(f) ? "binary string" : is_string_type(f) ? "string" : "other";
    }
}

static const char *type_name(db_col_type t)
{
    switch (t) {
    case DB_COL_I64: return "int64";
    case DB_COL_I32: return "int32";
    case DB_COL_BOOL: return "bool";
    case DB_COL_CHARS: return "char[]";
    case DB_COL_STR: return "string";
    case DB_COL_BLOB: return "blob";
    case DB_COL_TIME: return "time_t";
    case DB_COL_UTC: return "UTC text";
    default: return "?";
    }
}

static bool type_fits(const db_col *col, const MYSQL_FIELD *f)
{
    if (f->type == MYSQL_TYPE_NULL)  /* a bare NULL literal */
        return col->nullable;
    switch (col->type) {
    case DB_COL_I64:
    case DB_COL_I32:
    case DB_COL_BOOL:
        return is_int_type(f);
    case DB_COL_CHARS:
    case DB_COL_STR:
        return !is_binary_string(f);  /* numbers, dates, enums read as their text */
    case DB_COL_BLOB:
        return is_string_type(f);
    case DB_COL_TIME:
    case DB_COL_UTC:
        return is_time_type(f);
    default:
        return false;
    }
}

static int check_shape(db_conn *c, const db_row_spec *spec, const MYSQL_FIELD *fields,
                       unsigned nfields)
{
    if (nfields != (unsigned)spec->ncols)
        return shape_error(c, spec, -1, "the statement returns %u columns, the row has %d",
                           nfields, spec->ncols);
    for (int i = 0; i < spec->ncols; i++) {
        const db_col *col = &spec->cols[i];
        const MYSQL_FIELD *f = &fields[i];

        if (f->name == NULL || strcmp(f->name, col->name) != 0)
            return shape_error(c, spec, i, "the statement's column %d is named \"%s\"", i + 1,
                               f->name ? f->name : "");
        if (!type_fits(col, f))
            return shape_error(c, spec, i, "a %s%s column cannot fill a field of type %s",
                               sql_type_name(f), f->type == MYSQL_TYPE_NULL ? " (not nullable)" : "",
                               type_name(col->type));
    }
    return 0;
}

/* ---- binding -------------------------------------------------------------- */

static bool is_text(db_col_type t)
{
    return t == DB_COL_CHARS || t == DB_COL_STR || t == DB_COL_BLOB;
}

/* Scalars and char buffers report NULL through a bool; pointers are NULL. */
static bool has_flag(const db_col *col)
{
    return col->nullable && col->type != DB_COL_STR && col->type != DB_COL_BLOB;
}

static void bind_cols(const db_row_spec *spec, const MYSQL_FIELD *fields, MYSQL_BIND *b,
                      col_state *s)
{
    memset(b, 0, (size_t)spec->ncols * sizeof *b);
    for (int i = 0; i < spec->ncols; i++) {
        switch (spec->cols[i].type) {
        case DB_COL_I64:
        case DB_COL_I32:
        case DB_COL_BOOL:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = &s[i].num;
            b[i].is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
            break;
        case DB_COL_TIME:
        case DB_COL_UTC:
            b[i].buffer_type = MYSQL_TYPE_DATETIME;
            b[i].buffer = &s[i].tm;
            b[i].buffer_length = sizeof s[i].tm;
            break;
        default:
            /* Room for every number and date (the connector formats them
             * into the buffer) and for the longest stored value. */
            s[i].cap = (fields[i].max_length > 63 ? fields[i].max_length : 63) + 1;
            s[i].buf = db_xcalloc(1, s[i].cap);
            b[i].buffer_type =
                spec->cols[i].type == DB_COL_BLOB ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b[i].buffer = s[i].buf;
            b[i].buffer_length = s[i].cap;
            break;
        }
        b[i].length = &s[i].len;
        b[i].is_null = &s[i].is_null;
        b[i].error = &s[i].error;
    }
}

/* max_length is a hint: a text value longer than its buffer is fetched
 * again into a larger one. Returns 1 if a buffer moved (rebind before the
 * next fetch), 0 if none did, -1 on error. */
static int refetch_long(db_conn *c, MYSQL_STMT *st, const db_row_spec *spec, MYSQL_BIND *b,
                        col_state *s)
{
    int moved = 0;

    for (int i = 0; i < spec->ncols; i++) {
        if (!is_text(spec->cols[i].type))
            continue;
        for (int round = 0; round < 4 && !s[i].is_null && (s[i].error || s[i].len >= s[i].cap);
             round++) {
            unsigned long want = s[i].cap * 2;

            if (s[i].len + 1 > want)
                want = s[i].len + 1;
            s[i].cap = want;
            s[i].buf = db_xrealloc(s[i].buf, s[i].cap);
            b[i].buffer = s[i].buf;
            b[i].buffer_length = s[i].cap;
            if (mysql_stmt_fetch_column(st, &b[i], (unsigned)i, 0) != 0) {
                db_stmt_error(c, st);
                return -1;
            }
            moved = 1;
        }
    }
    return moved;
}

/* ---- values --------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): timegm without the process time zone. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool time_ok(const MYSQL_TIME *t)
{
    return !t->neg && (t->time_type == MYSQL_TIMESTAMP_DATE || t->time_type == MYSQL_TIMESTAMP_DATETIME) &&
           t->year >= 1 && t->year <= 9999 && t->month >= 1 && t->month <= 12 && t->day >= 1 &&
           t->day <= 31 && t->hour <= 23 && t->minute <= 59 && t->second <= 59;
}

static int put_int(db_conn *c, const db_row_spec *spec, int i, const MYSQL_BIND *b,
                   const col_state *s, char *field)
{
    const db_col *col = &spec->cols[i];
    int64_t v = s->num.i;

    if (s->error)
        return shape_error(c, spec, i, "the value does not fit a 64-bit integer");
    if (b->is_unsigned && s->num.u > (uint64_t)INT64_MAX)
        return shape_error(c, spec, i, "the value %llu does not fit int64",
                           (unsigned long long)s->num.u);
    if (col->type == DB_COL_I64) {
        memcpy(field, &v, sizeof v);
    } else if (col->type == DB_COL_I32) {
        int32_t v32 = (int32_t)v;

        if (v < INT32_MIN || v > INT32_MAX)
            return shape_error(c, spec, i, "the value %lld does not fit int32", (long long)v);
        memcpy(field, &v32, sizeof v32);
    } else {
        bool t = v != 0;

        memcpy(field, &t, sizeof t);
    }
    return 0;
}

static int put_text(db_conn *c, const db_row_spec *spec, int i, const col_state *s, char *field)
{
    const db_col *col = &spec->cols[i];
    size_t n = s->len;

    /* refetch_long gave up after its rounds: never copy a cut value. */
    if (s->error || n >= s->cap)
        return shape_error(c, spec, i, "the value could not be read whole");
    if (col->type != DB_COL_BLOB && memchr(s->buf, '\0', n) != NULL)
        return shape_error(c, spec, i, "the text contains a NUL byte");
    if (col->type == DB_COL_CHARS) {
        if (n >= col->size)
            return shape_error(c, spec, i, "the value has %zu bytes, more than char[%zu] holds",
                               n, col->size);
        memcpy(field, s->buf, n);
        field[n] = '\0';
    } else {
        char *p = db_xcalloc(1, n + 1);  /* NUL-terminated for text; harmless for bytes */

        memcpy(p, s->buf, n);
        memcpy(field, &p, sizeof p);
        if (col->type == DB_COL_BLOB) {
            char *row = field - col->off;

            memcpy(row + col->len_off, &n, sizeof n);
        }
    }
    return 0;
}

static int put_time(db_conn *c, const db_row_spec *spec, int i, const col_state *s, char *field)
{
    const db_col *col = &spec->cols[i];
    const MYSQL_TIME *t = &s->tm;

    if (s->error || !time_ok(t))
        return shape_error(c, spec, i, "the value is not a valid date and time");
    if (col->type == DB_COL_TIME) {
        time_t v = (time_t)(days_from_civil(t->year, t->month, t->day) * 86400 +
                            (int64_t)t->hour * 3600 + t->minute * 60 + t->second);

        memcpy(field, &v, sizeof v);
    } else {
        /* Whole seconds, like DATE_FORMAT(x, '%Y-%m-%dT%H:%i:%sZ'). */
        snprintf(field, col->size, "%04u-%02u-%02uT%02u:%02u:%02uZ", t->year, t->month, t->day,
                 t->hour, t->minute, t->second);
    }
    return 0;
}

/* Fills column i of one row. The row was zeroed, so NULL leaves zero. */
static int put_col(db_conn *c, const db_row_spec *spec, int i, const MYSQL_BIND *b,
                   const col_state *s, char *row)
{
    const db_col *col = &spec->cols[i];
    char *field = row + col->off;
    int rc = -1;

    if (s->is_null) {
        if (!col->nullable)
            return shape_error(c, spec, i, "the value is NULL and the field is not nullable");
        return 0;
    }
    switch (col->type) {
    case DB_COL_I64:
    case DB_COL_I32:
    case DB_COL_BOOL:
        rc = put_int(c, spec, i, b, s, field);
        break;
    case DB_COL_CHARS:
    case DB_COL_STR:
    case DB_COL_BLOB:
        rc = put_text(c, spec, i, s, field);
        break;
    case DB_COL_TIME:
    case DB_COL_UTC:
        rc = put_time(c, spec, i, s, field);
        break;
    default:
        rc = shape_error(c, spec, i, "unknown column type %d", (int)col->type);
        break;
    }
    if (rc == 0 && has_flag(col)) {
        bool has = true;

        memcpy(row + col->has_off, &has, sizeof has);
    }
    return rc;
}

/* ---- queries -------------------------------------------------------------- */

/* Runs sql and decodes at most max_rows rows (more is an error) into a new
 * array. */
static int query_rows(db_conn *c, const char *sql, const db_val *params, int nparams,
                      const db_row_spec *spec, my_ulonglong max_rows, void **rows_out,
                      int *nrows_out)
{
    MYSQL_STMT *st = NULL;
    MYSQL_RES *meta = NULL;
    MYSQL_FIELD *fields = NULL;
    MYSQL_BIND *binds = NULL;
    col_state *cs = NULL;
    char *rows = NULL;
    my_ulonglong nrows = 0, row = 0;
    unsigned nfields = 0;
    int rc = -1;

    *rows_out = NULL;
    *nrows_out = 0;
    st = db_stmt_execute(c, sql, params, nparams);
    if (st == NULL)
        goto fail;
    nfields = mysql_stmt_field_count(st);
    if (nfields == 0) {
        shape_error(c, spec, -1, "the statement returns no result set");
        goto fail;
    }
    if (mysql_stmt_store_result(st) != 0) {
        db_stmt_error(c, st);
        goto fail;
    }
    /* After store_result: each field's max_length covers the stored rows. */
    meta = mysql_stmt_result_metadata(st);
    if (meta == NULL) {
        db_stmt_error(c, st);
        goto fail;
    }
    fields = mysql_fetch_fields(meta);
    if (check_shape(c, spec, fields, nfields) != 0)
        goto fail;
    nrows = mysql_stmt_num_rows(st);
    if (nrows > max_rows) {
        shape_error(c, spec, -1, "%llu rows where at most %llu were expected",
                    (unsigned long long)nrows, (unsigned long long)max_rows);
        goto fail;
    }
    if (nrows > (my_ulonglong)INT_MAX || (nrows > 0 && spec->size > SIZE_MAX / nrows)) {
        db_set_error(c, DB_ERR_OTHER, "result too large");
        goto fail;
    }
    if (nrows == 0)
        goto done;
    rows = db_xcalloc((size_t)nrows, spec->size);
    binds = db_xcalloc((size_t)spec->ncols, sizeof *binds);
    cs = db_xcalloc((size_t)spec->ncols, sizeof *cs);
    bind_cols(spec, fields, binds, cs);
    if (mysql_stmt_bind_result(st, binds) != 0) {
        db_stmt_error(c, st);
        goto fail;
    }
    for (;;) {
        int r = mysql_stmt_fetch(st), moved = 0;

        if (r == MYSQL_NO_DATA)
            break;
        if (r == 1) {
            db_stmt_error(c, st);
            goto fail;
        }
        if (row >= nrows) {
            db_set_error(c, DB_ERR_OTHER, "more rows fetched than stored");
            goto fail;
        }
        moved = refetch_long(c, st, spec, binds, cs);
        if (moved < 0)
            goto fail;
        if (moved > 0 && mysql_stmt_bind_result(st, binds) != 0) {
            db_stmt_error(c, st);
            goto fail;
        }
        for (int i = 0; i < spec->ncols; i++)
            if (put_col(c, spec, i, &binds[i], &cs[i], rows + (size_t)row * spec->size) != 0)
                goto fail;
        row++;
    }
    if (row != nrows) {
        db_set_error(c, DB_ERR_OTHER, "fewer rows fetched than stored");
        goto fail;
    }
done:
    if (db_stmt_drain(c, st) != 0)
        goto fail;
    *rows_out = rows;
    *nrows_out = (int)nrows;
    rows = NULL;
    rc = 0;
fail:
    /* Client-side only; after the error was captured (it clears it). */
    if (st != NULL)
        mysql_stmt_free_result(st);
    if (meta != NULL)
        mysql_free_result(meta);
    for (int i = 0; cs != NULL && i < spec->ncols; i++)
        free(cs[i].buf);
    free(cs);
    free(binds);
    /* Rows not reached are still zero: clearing them is harmless. */
    db_row_array_free(spec, rows, (int)nrows);
    return rc;
}

int db_query_one(db_conn *c, const char *sql, const db_val *params, int nparams,
                 const db_row_spec *spec, void *row, bool *found)
{
    void *rows = NULL;
    int n = 0;

    memset(row, 0, spec->size);
    if (found != NULL)
        *found = false;
    if (query_rows(c, sql, params, nparams, spec, 1, &rows, &n) != 0)
        return -1;
    if (n == 0) {
        if (found == NULL)
            return shape_error(c, spec, -1, "no row where one was required");
        return 0;
    }
    memcpy(row, rows, spec->size);  /* the row's strings move with it */
    free(rows);
    if (found != NULL)
        *found = true;
    return 0;
}

int db_query_all(db_conn *c, const char *sql, const db_val *params, int nparams,
                 const db_row_spec *spec, void **rows, int *nrows)
{
    return query_rows(c, sql, params, nparams, spec, (my_ulonglong)INT_MAX, rows, nrows);
}

void db_row_clear(const db_row_spec *spec, void *row)
{
    char *r = row;

    if (spec == NULL || row == NULL)
        return;
    for (int i = 0; i < spec->ncols; i++) {
        const db_col *col = &spec->cols[i];
        char *p = NULL;

        if (col->type != DB_COL_STR && col->type != DB_COL_BLOB)
            continue;
        memcpy(&p, r + col->off, sizeof p);
        free(p);
        p = NULL;
        memcpy(r + col->off, &p, sizeof p);
        if (col->type == DB_COL_BLOB) {
            size_t zero = 0;

            memcpy(r + col->len_off, &zero, sizeof zero);
        }
    }
}

void db_row_array_free(const db_row_spec *spec, void *rows, int nrows)
{
    if (rows == NULL)
        return;
    for (int i = 0; i < nrows; i++)
        db_row_clear(spec, (char *)rows + (size_t)i * spec->size);
    free(rows);
}
