/* Live tests of typed rows (db/rows.c) against a real MariaDB: every column
 * type, NULLs, values that do not fit (an error, never cut), results whose
 * columns do not match the row (reordered, renamed, added, retyped; also
 * when there are no rows), empty results, many rows, and database errors
 * keeping their DB_ERR_* kind.
 *
 * Like db_live, it needs ONETRIP_TEST_DB_SOCKET (a MariaDB where root
 * connects by unix_socket authentication; ops/test exports it) and fails
 * without it. The run works in a scratch database dbrows_<pid>_<random>,
 * created and dropped by an unchecked fixture; each test makes its own
 * tables.
 */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/rows.h"
#include "tests/unit/check_util.h"
#include "tests/unit/scratch_db.h"





static void rows_setup(void)
{
    scratch_setup("dbrows");
}


/* The last error is a row mismatch whose message contains want. */
static void assert_mismatch(db_conn *c, const char *want)
{
    ck_assert_int_eq(db_error(c), DB_ERR_OTHER);
    ck_assert_msg(strstr(db_errmsg(c), want) != NULL, "message \"%s\" lacks \"%s\"",
                  db_errmsg(c), want);
    /* A mismatch is the caller's bug, not the session's: it stays usable. */
    ck_assert(db_conn_is_up(c));
}

/* ---- every type ------------------------------------------------------------ */

typedef struct all_row {
    int64_t id;
    int64_t big;
    int32_t small;
    bool flag;
    char code[8];
    char *note;
    unsigned char *data;
    size_t data_len;
    time_t at;
    char at_utc[21];
    time_t day;
    char day_text[11];
    int64_t total;   /* SUM(): a DECIMAL without decimals */
    int64_t count;
    int64_t uns;     /* BIGINT UNSIGNED within int64 */
} all_row;

static const db_col ALL_COLS[] = {
    DBR_I64(all_row, id),       DBR_I64(all_row, big),  DBR_I32(all_row, small),
    DBR_BOOL(all_row, flag),    DBR_CHARS(all_row, code), DBR_STR(all_row, note),
    DBR_BLOB(all_row, data, data_len), DBR_TIME(all_row, at), DBR_UTC(all_row, at_utc),
    DBR_TIME(all_row, day),     DBR_CHARS(all_row, day_text), DBR_I64(all_row, total),
    DBR_I64(all_row, count),    DBR_I64(all_row, uns),
};
static const db_row_spec ALL_ROW = DB_ROW_SPEC(all_row, ALL_COLS);

static const char SQL_ALL[] =
    "SELECT id, big, small, flag, code, note, data, at, at AS at_utc, day, day AS day_text, "
    "(SELECT SUM(small) FROM t_all) AS total, (SELECT COUNT(*) FROM t_all) AS count, uns "
    "FROM t_all WHERE id = ?";
static const char INS_ALL[] =
    "INSERT INTO t_all (id, big, small, flag, code, note, data, at, day, uns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static void create_all(db_conn *c)
{
    scratch_exec(c, "CREATE TABLE t_all (id BIGINT PRIMARY KEY, big BIGINT NOT NULL, small INT NOT NULL,"
               " flag TINYINT(1) NOT NULL, code VARCHAR(8) NOT NULL, note MEDIUMTEXT NOT NULL,"
               " data VARBINARY(64) NOT NULL, at DATETIME(3) NOT NULL, day DATE NOT NULL,"
               " uns BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
}

START_TEST(every_type_round_trip)
{
    static const unsigned char blob[] = {'a', 0, 'b', 0, 0, 0xff, 'c', 0};
    db_conn *c = scratch_conn();
    size_t big_len = 200u * 1024u;
    char *big = malloc(big_len + 1);
    all_row r;
    bool found = false;

    ck_assert_ptr_nonnull(big);
    for (size_t k = 0; k < big_len; k++)
        big[k] = (char)('a' + (k / 1000 + k) % 26);
    big[big_len] = '\0';
    create_all(c);
    /* 张三 is 6 bytes: with 'x' it fills char[8] exactly (7 bytes + NUL). */
    ck_assert_msg(db_exec(c, INS_ALL,
                          DBP(DB_I64(1), DB_I64(INT64_MIN), DB_I64(INT32_MIN), DB_I64(0),
                              DB_STR("\xe5\xbc\xa0\xe4\xb8\x89x"), DB_STR(big),
                              DB_BLOB(blob, sizeof blob), DB_STR("2024-02-29 23:59:58.750"),
                              DB_STR("1970-01-01"), DB_I64(INT64_MAX)),
                          NULL, NULL) == 0, "%s", db_errmsg(c));
    ck_assert_msg(db_exec(c, INS_ALL,
                          DBP(DB_I64(2), DB_I64(INT64_MAX), DB_I64(INT32_MAX), DB_I64(7),
                              DB_STR(""), DB_STR(""), DB_BLOB(NULL, 0),
                              DB_STR("1999-12-31 00:00:00"), DB_STR("2038-01-20"), DB_I64(0)),
                          NULL, NULL) == 0, "%s", db_errmsg(c));

    ck_assert_msg(db_query_one(c, SQL_ALL, DBP(DB_I64(1)), &ALL_ROW, &r, &found) == 0, "%s",
                  db_errmsg(c));
    ck_assert(found);
    ck_assert_int_eq(r.id, 1);
    ck_assert_int_eq(r.big, INT64_MIN);
    ck_assert_int_eq(r.small, INT32_MIN);
    ck_assert(!r.flag);
    ck_assert_str_eq(r.code, "\xe5\xbc\xa0\xe4\xb8\x89x");
    ck_assert_uint_eq(strlen(r.note), big_len);
    ck_assert_msg(memcmp(r.note, big, big_len) == 0, "big text differs");
    ck_assert_uint_eq(r.data_len, sizeof blob);
    ck_assert_mem_eq(r.data, blob, sizeof blob);
    ck_assert_int_eq((int64_t)r.at, 1709251198);  /* 2024-02-29T23:59:58Z, fraction dropped */
    ck_assert_str_eq(r.at_utc, "2024-02-29T23:59:58Z");
    ck_assert_int_eq((int64_t)r.day, 0);
    ck_assert_str_eq(r.day_text, "1970-01-01");
    ck_assert_int_eq(r.total, (int64_t)INT32_MIN + INT32_MAX);
    ck_assert_int_eq(r.count, 2);
    ck_assert_int_eq(r.uns, INT64_MAX);
    db_row_clear(&ALL_ROW, &r);
    ck_assert_ptr_null(r.note);
    ck_assert_ptr_null(r.data);
    ck_assert_uint_eq(r.data_len, 0);

    ck_assert_int_eq(db_query_one(c, SQL_ALL, DBP(DB_I64(2)), &ALL_ROW, &r, &found), 0);
    ck_assert(found);
    ck_assert_int_eq(r.big, INT64_MAX);
    ck_assert_int_eq(r.small, INT32_MAX);
    ck_assert(r.flag);  /* any non-zero is true */
    ck_assert_str_eq(r.code, "");
    ck_assert_ptr_nonnull(r.note);  /* empty is not NULL */
    ck_assert_str_eq(r.note, "");
    ck_assert_ptr_nonnull(r.data);
    ck_assert_uint_eq(r.data_len, 0);
    ck_assert_int_eq((int64_t)r.at, 946598400);
    ck_assert_str_eq(r.at_utc, "1999-12-31T00:00:00Z");
    ck_assert_int_eq((int64_t)r.day, 2147558400);  /* past 2038-01-19: time_t is 64-bit */
    ck_assert_uint_eq(r.uns, 0);
    db_row_clear(&ALL_ROW, &r);

    free(big);
    db_conn_free(c);
}
END_TEST

typedef struct i64_row {
    int64_t v;
} i64_row;
static const db_col I64_COLS[] = {DBR_I64(i64_row, v)};
static const db_row_spec I64_ROW = DB_ROW_SPEC(i64_row, I64_COLS);

/* ---- NULLs ----------------------------------------------------------------- */

typedef struct null_row {
    int64_t id;
    int64_t i64;
    bool has_i64;
    int32_t i32;
    bool has_i32;
    bool flag;
    bool has_flag;
    char code[8];
    bool has_code;
    char *note;
    unsigned char *data;
    size_t data_len;
    time_t at;
    bool has_at;
    char at_utc[24];
    bool has_at_utc;
} null_row;

static const db_col NULL_COLS[] = {
    DBR_I64(null_row, id),
    DBR_I64_NULL(null_row, i64, has_i64),
    DBR_I32_NULL(null_row, i32, has_i32),
    DBR_BOOL_NULL(null_row, flag, has_flag),
    DBR_CHARS_NULL(null_row, code, has_code),
    DBR_STR_NULL(null_row, note),
    DBR_BLOB_NULL(null_row, data, data_len),
    DBR_TIME_NULL(null_row, at, has_at),
    DBR_UTC_NULL(null_row, at_utc, has_at_utc),
};
static const db_row_spec NULL_ROW = DB_ROW_SPEC(null_row, NULL_COLS);

START_TEST(nulls)
{
    static const char sel[] =
        "SELECT id, i64, i32, flag, code, note, data, at, at AS at_utc FROM t_null ORDER BY id";
    static const char sel_strict[] = "SELECT id, big, small, flag, code, note, data, at, "
                                     "at AS at_utc, day, day AS day_text, 0 AS total, "
                                     "0 AS count, uns FROM t_null_strict";
    db_conn *c = scratch_conn();
    void *out = NULL;
    null_row *rows = NULL, one;
    int n = -1;

    scratch_exec(c, "CREATE TABLE t_null (id BIGINT PRIMARY KEY, i64 BIGINT NULL, i32 INT NULL,"
               " flag TINYINT(1) NULL, code VARCHAR(7) NULL, note TEXT NULL, data BLOB NULL,"
               " at DATETIME NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    scratch_exec(c, "INSERT INTO t_null VALUES (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
               " (2, 0, 0, 0, '', '', '', '2000-01-01 00:00:00'),"
               " (3, -5, 9, 1, 'abc', 'n', 'd', '2000-01-02 03:04:05')");
    ck_assert_msg(db_query_all(c, sel, DBP0, &NULL_ROW, &out, &n) == 0, "%s", db_errmsg(c));
    rows = out;
    ck_assert_int_eq(n, 3);

    /* NULL: every has-flag false, values zero, pointers NULL. */
    ck_assert(!rows[0].has_i64 && rows[0].i64 == 0);
    ck_assert(!rows[0].has_i32 && rows[0].i32 == 0);
    ck_assert(!rows[0].has_flag && !rows[0].flag);
    ck_assert(!rows[0].has_code && rows[0].code[0] == '\0');
    ck_assert_ptr_null(rows[0].note);
    ck_assert_ptr_null(rows[0].data);
    ck_assert_uint_eq(rows[0].data_len, 0);
    ck_assert(!rows[0].has_at && rows[0].at == 0);
    ck_assert(!rows[0].has_at_utc && rows[0].at_utc[0] == '\0');
    /* Zero and empty values are not NULL. */
    ck_assert(rows[1].has_i64 && rows[1].i64 == 0);
    ck_assert(rows[1].has_i32 && rows[1].has_flag && rows[1].has_code);
    ck_assert_ptr_nonnull(rows[1].note);
    ck_assert_ptr_nonnull(rows[1].data);
    ck_assert(rows[1].has_at && rows[1].at == 946684800);
    ck_assert_str_eq(rows[1].at_utc, "2000-01-01T00:00:00Z");
    ck_assert(rows[2].has_i64 && rows[2].i64 == -5);
    ck_assert(rows[2].i32 == 9 && rows[2].flag);
    ck_assert_str_eq(rows[2].code, "abc");
    ck_assert_str_eq(rows[2].note, "n");
    ck_assert_uint_eq(rows[2].data_len, 1);
    ck_assert_str_eq(rows[2].at_utc, "2000-01-02T03:04:05Z");
    db_row_array_free(&NULL_ROW, out, n);

    /* NULL in a column whose field is not nullable: an error, not a 0. */
    scratch_exec(c, "CREATE TABLE t_null_strict (id BIGINT PRIMARY KEY, big BIGINT NULL, small INT,"
               " flag TINYINT(1), code VARCHAR(7), note TEXT, data BLOB, at DATETIME, day DATE,"
               " uns BIGINT UNSIGNED) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    scratch_exec(c, "INSERT INTO t_null_strict VALUES (1, NULL, 1, 1, 'a', 'b', 'c',"
               " '2000-01-01 00:00:00', '2000-01-01', 1)");
    ck_assert_int_eq(db_query_all(c, sel_strict, DBP0, &ALL_ROW, &out, &n), -1);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(n, 0);
    assert_mismatch(c, "name=big: the value is NULL and the field is not nullable");
    /* Each non-nullable type refuses NULL, not only integers. */
    scratch_exec(c, "UPDATE t_null_strict SET big = 1, note = NULL");
    ck_assert_int_eq(db_query_all(c, sel_strict, DBP0, &ALL_ROW, &out, &n), -1);
    assert_mismatch(c, "name=note: the value is NULL");
    scratch_exec(c, "UPDATE t_null_strict SET note = 'b', at = NULL");
    ck_assert_int_eq(db_query_all(c, sel_strict, DBP0, &ALL_ROW, &out, &n), -1);
    assert_mismatch(c, "name=at: the value is NULL");

    /* A bare NULL literal fits a nullable field only. */
    {
        static const char lit[] = "SELECT 7 AS id, NULL AS i64, NULL AS i32, NULL AS flag, "
                                  "NULL AS code, NULL AS note, NULL AS data, NULL AS at, "
                                  "NULL AS at_utc";
        bool found = false;

        ck_assert_msg(db_query_one(c, lit, DBP0, &NULL_ROW, &one, &found) == 0, "%s",
                      db_errmsg(c));
        ck_assert(found && one.id == 7 && !one.has_i64 && one.note == NULL);
        db_row_clear(&NULL_ROW, &one);
    }
    {
        static const char lit[] = "SELECT NULL AS v";
        i64_row v;

        ck_assert_int_eq(db_query_one(c, lit, DBP0, &I64_ROW, &v, NULL), -1);
        assert_mismatch(c, "a NULL (not nullable) column cannot fill a field of type int64");
    }
    db_conn_free(c);
}
END_TEST

/* ---- values that do not fit ------------------------------------------------ */

typedef struct fit_row {
    char code[4];
} fit_row;
static const db_col FIT_COLS[] = {DBR_CHARS(fit_row, code)};
static const db_row_spec FIT_ROW = DB_ROW_SPEC(fit_row, FIT_COLS);

typedef struct i32_row {
    int32_t v;
} i32_row;
static const db_col I32_COLS[] = {DBR_I32(i32_row, v)};
static const db_row_spec I32_ROW = DB_ROW_SPEC(i32_row, I32_COLS);

typedef struct str_row {
    char *v;
} str_row;
static const db_col STR_COLS[] = {DBR_STR(str_row, v)};
static const db_row_spec STR_ROW = DB_ROW_SPEC(str_row, STR_COLS);

START_TEST(too_long_is_an_error)
{
    static const char sel[] = "SELECT code FROM t_fit WHERE id = ?";
    static const char i32_big[] = "SELECT CAST(2147483648 AS SIGNED) AS v";
    static const char i32_small[] = "SELECT CAST(-2147483649 AS SIGNED) AS v";
    static const char u64_big[] = "SELECT CAST(18446744073709551615 AS UNSIGNED) AS v";
    static const char nul_text[] = "SELECT CONCAT('a', CHAR(0 USING utf8mb4), 'b') AS v";
    db_conn *c = scratch_conn();
    fit_row f;
    i32_row i;
    i64_row l;
    str_row s;
    bool found = true;

    scratch_exec(c, "CREATE TABLE t_fit (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL)"
               " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    /* 3 bytes fit char[4]; 4 bytes, or 2 characters of 3 bytes, do not. */
    scratch_exec(c, "INSERT INTO t_fit VALUES (1, 'abc'), (2, 'abcd'), (3, '\xe5\xbc\xa0\xe4\xb8\x89')");
    ck_assert_int_eq(db_query_one(c, sel, DBP(DB_I64(1)), &FIT_ROW, &f, &found), 0);
    ck_assert_str_eq(f.code, "abc");
    memset(&f, 'z', sizeof f);
    ck_assert_int_eq(db_query_one(c, sel, DBP(DB_I64(2)), &FIT_ROW, &f, &found), -1);
    assert_mismatch(c, "the value has 4 bytes, more than char[4] holds");
    ck_assert(!found);
    ck_assert_int_eq(f.code[0], '\0');  /* zeroed, never a cut "abc" */
    ck_assert_int_eq(db_query_one(c, sel, DBP(DB_I64(3)), &FIT_ROW, &f, &found), -1);
    assert_mismatch(c, "the value has 6 bytes");

    ck_assert_int_eq(db_query_one(c, i32_big, DBP0, &I32_ROW, &i, NULL), -1);
    assert_mismatch(c, "does not fit int32");
    ck_assert_int_eq(db_query_one(c, i32_small, DBP0, &I32_ROW, &i, NULL), -1);
    assert_mismatch(c, "does not fit int32");
    ck_assert_int_eq(db_query_one(c, u64_big, DBP0, &I64_ROW, &l, NULL), -1);
    assert_mismatch(c, "does not fit int64");
    /* Text with a NUL byte would be cut by every C string function. */
    ck_assert_int_eq(db_query_one(c, nul_text, DBP0, &STR_ROW, &s, NULL), -1);
    assert_mismatch(c, "NUL byte");
    db_conn_free(c);
}
END_TEST

/* ---- results that do not match the row -------------------------------------- */

typedef struct pair_row {
    int64_t a;
    int64_t b;
    char *name;
} pair_row;
static const db_col PAIR_COLS[] = {DBR_I64(pair_row, a), DBR_I64(pair_row, b),
                                   DBR_STR(pair_row, name)};
static const db_row_spec PAIR_ROW = DB_ROW_SPEC(pair_row, PAIR_COLS);

START_TEST(column_mismatch_detected)
{
    static const char good[] = "SELECT a, b, name FROM t_pair";
    static const char reordered[] = "SELECT b, a, name FROM t_pair";
    static const char renamed[] = "SELECT a, b AS bee, name FROM t_pair";
    static const char fewer[] = "SELECT a, b FROM t_pair";
    static const char more[] = "SELECT a, b, name, a AS extra FROM t_pair";
    static const char retyped[] = "SELECT a, at AS b, name FROM t_pair";
    static const char binary[] = "SELECT a, b, secret AS name FROM t_pair";
    static const char fraction[] = "SELECT a, b / 2 AS b, name FROM t_pair";
    static const char reordered_empty[] = "SELECT b, a, name FROM t_pair WHERE a < 0";
    static const char no_result[] = "UPDATE t_pair SET a = a WHERE a < 0";
    db_conn *c = scratch_conn();
    void *out = NULL;
    pair_row *rows = NULL, one;
    int n = 0;
    bool found = true;

    scratch_exec(c, "CREATE TABLE t_pair (a BIGINT NOT NULL, b BIGINT NOT NULL, name TEXT NOT NULL,"
               " at DATETIME NOT NULL, secret VARBINARY(16) NOT NULL)"
               " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    scratch_exec(c, "INSERT INTO t_pair VALUES (1, 2, 'x', '2000-01-01 00:00:00', 'k')");
    ck_assert_msg(db_query_all(c, good, DBP0, &PAIR_ROW, &out, &n) == 0, "%s", db_errmsg(c));
    rows = out;
    ck_assert_int_eq(n, 1);
    ck_assert(rows[0].a == 1 && rows[0].b == 2);
    db_row_array_free(&PAIR_ROW, out, n);

    /* Same types, swapped: reading by position would silently swap a and b. */
    ck_assert_int_eq(db_query_all(c, reordered, DBP0, &PAIR_ROW, &out, &n), -1);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(n, 0);
    assert_mismatch(c, "row=pair_row column=1 name=a: the statement's column 1 is named \"b\"");
    ck_assert_int_eq(db_query_all(c, renamed, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "column 2 is named \"bee\"");
    ck_assert_int_eq(db_query_all(c, fewer, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "the statement returns 2 columns, the row has 3");
    ck_assert_int_eq(db_query_all(c, more, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "the statement returns 4 columns, the row has 3");
    ck_assert_int_eq(db_query_all(c, retyped, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "name=b: a DATETIME column cannot fill a field of type int64");
    ck_assert_int_eq(db_query_all(c, binary, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "name=name: a binary string column cannot fill a field of type string");
    ck_assert_int_eq(db_query_all(c, fraction, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "name=b: a DECIMAL column cannot fill a field of type int64");
    ck_assert_int_eq(db_query_all(c, no_result, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "returns no result set");

    /* Found before any row is read: a mismatch fails even with no rows. */
    ck_assert_int_eq(db_query_all(c, reordered_empty, DBP0, &PAIR_ROW, &out, &n), -1);
    assert_mismatch(c, "named \"b\"");
    ck_assert_int_eq(db_query_one(c, reordered_empty, DBP0, &PAIR_ROW, &one, &found), -1);
    assert_mismatch(c, "named \"b\"");
    ck_assert(!found);

    /* Checked on every execution: the cached statement is re-prepared after
     * an ALTER TABLE and its new shape is refused. */
    {
        static const char star[] = "SELECT * FROM t_star";

        scratch_exec(c, "CREATE TABLE t_star (a BIGINT NOT NULL, b BIGINT NOT NULL, name TEXT NOT NULL)"
                   " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        scratch_exec(c, "INSERT INTO t_star VALUES (3, 4, 'y')");
        ck_assert_int_eq(db_query_one(c, star, DBP0, &PAIR_ROW, &one, NULL), 0);
        ck_assert(one.a == 3 && one.b == 4);
        db_row_clear(&PAIR_ROW, &one);
        scratch_exec(c, "ALTER TABLE t_star ADD COLUMN z INT NOT NULL DEFAULT 0 FIRST");
        ck_assert_int_eq(db_query_one(c, star, DBP0, &PAIR_ROW, &one, NULL), -1);
        assert_mismatch(c, "returns 4 columns");
    }

    /* The session is fine afterwards and success clears the error. */
    ck_assert_int_eq(db_query_all(c, good, DBP0, &PAIR_ROW, &out, &n), 0);
    ck_assert_int_eq(db_error(c), DB_OK);
    db_row_array_free(&PAIR_ROW, out, n);
    db_conn_free(c);
}
END_TEST

/* ---- empty results and row counts ------------------------------------------ */

START_TEST(empty_results)
{
    static const char none[] = "SELECT a, b, name FROM t_empty WHERE a = ?";
    static const char all[] = "SELECT a, b, name FROM t_empty ORDER BY a";
    db_conn *c = scratch_conn();
    void *out = (void *)1;
    int n = -1;
    pair_row one;
    bool found = true;

    scratch_exec(c, "CREATE TABLE t_empty (a BIGINT NOT NULL, b BIGINT NOT NULL, name TEXT NOT NULL)"
               " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    ck_assert_int_eq(db_query_all(c, all, DBP0, &PAIR_ROW, &out, &n), 0);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(n, 0);
    db_row_array_free(&PAIR_ROW, out, n);  /* NULL is fine */

    memset(&one, 0x5a, sizeof one);
    ck_assert_int_eq(db_query_one(c, none, DBP(DB_I64(1)), &PAIR_ROW, &one, &found), 0);
    ck_assert(!found);
    ck_assert_ptr_null(one.name);  /* zeroed */
    ck_assert_int_eq(one.a, 0);
    /* Without found, a row is required. */
    ck_assert_int_eq(db_query_one(c, none, DBP(DB_I64(1)), &PAIR_ROW, &one, NULL), -1);
    assert_mismatch(c, "no row where one was required");

    /* db_query_one refuses more than one row instead of taking the first. */
    scratch_exec(c, "INSERT INTO t_empty VALUES (1, 1, 'a'), (2, 2, 'b')");
    ck_assert_int_eq(db_query_one(c, all, DBP0, &PAIR_ROW, &one, &found), -1);
    assert_mismatch(c, "2 rows where at most 1 were expected");
    ck_assert(!found);
    ck_assert_ptr_null(one.name);
    db_row_clear(NULL, NULL);
    db_conn_free(c);
}
END_TEST

typedef struct many_row {
    int64_t id;
    char *text;
    char tag[12];
    bool has_tag;
    int32_t len;
} many_row;
static const db_col MANY_COLS[] = {DBR_I64(many_row, id), DBR_STR(many_row, text),
                                   DBR_CHARS_NULL(many_row, tag, has_tag),
                                   DBR_I32(many_row, len)};
static const db_row_spec MANY_ROW = DB_ROW_SPEC(many_row, MANY_COLS);

START_TEST(many_rows)
{
    static const char sel[] = "SELECT id, text, tag, CHAR_LENGTH(text) AS len FROM t_many ORDER BY id";
    enum { N = 5000 };
    db_conn *c = scratch_conn();
    void *out = NULL;
    many_row *rows = NULL;
    int n = 0;

    scratch_exec(c, "CREATE TABLE t_many (id BIGINT PRIMARY KEY, text TEXT NOT NULL, tag VARCHAR(11) NULL)"
               " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    /* Lengths vary row to row (0..999, one row of 20000 in the middle), so
     * every row reuses buffers sized for the longest. */
    scratch_exec(c, "INSERT INTO t_many SELECT seq, REPEAT(CHAR(97 + seq % 26), IF(seq = 2500, 20000,"
               " seq % 1000)), IF(seq % 3 = 0, NULL, CONCAT('t', seq)) FROM seq_1_to_5000");
    ck_assert_msg(db_query_all(c, sel, DBP0, &MANY_ROW, &out, &n) == 0, "%s", db_errmsg(c));
    rows = out;
    ck_assert_int_eq(n, N);
    for (int k = 0; k < N; k++) {
        int64_t seq = k + 1;
        size_t want = seq == 2500 ? 20000 : (size_t)(seq % 1000);
        char tag[12];

        ck_assert_int_eq(rows[k].id, seq);
        ck_assert_uint_eq(strlen(rows[k].text), want);
        ck_assert_int_eq(rows[k].len, (int32_t)want);
        if (want > 0)
            ck_assert_int_eq(rows[k].text[want - 1], 'a' + seq % 26);
        ck_assert(rows[k].has_tag == (seq % 3 != 0));
        snprintf(tag, sizeof tag, "t%" PRId64, seq);
        ck_assert_str_eq(rows[k].tag, rows[k].has_tag ? tag : "");
    }
    db_row_array_free(&MANY_ROW, out, n);
    db_conn_free(c);
}
END_TEST

/* ---- database errors keep their kind ---------------------------------------- */

typedef struct lock_row {
    int64_t id;
} lock_row;
static const db_col LOCK_COLS[] = {DBR_I64(lock_row, id)};
static const db_row_spec LOCK_ROW = DB_ROW_SPEC(lock_row, LOCK_COLS);

START_TEST(database_errors_keep_their_kind)
{
    static const char missing[] = "SELECT id FROM t_no_such_table";
    static const char lock[] = "SELECT id FROM t_lock WHERE id = 1 FOR UPDATE";
    db_conn *holder = scratch_conn(), *c = scratch_conn();
    lock_row r;
    bool found = false;

    ck_assert_int_eq(db_query_one(c, missing, DBP0, &LOCK_ROW, &r, &found), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_OTHER);
    ck_assert_uint_eq(db_errno(c), 1146);

    scratch_exec(holder, "CREATE TABLE t_lock (id BIGINT PRIMARY KEY) ENGINE=InnoDB");
    scratch_exec(holder, "INSERT INTO t_lock VALUES (1)");
    scratch_exec(holder, "START TRANSACTION");
    ck_assert_int_eq(db_query_one(holder, lock, DBP0, &LOCK_ROW, &r, &found), 0);
    ck_assert(found);
    /* A lock wait timeout stays DB_ERR_RETRY, so db_tx re-runs the
     * transaction exactly as it does for db_query. */
    scratch_exec(c, "SET SESSION innodb_lock_wait_timeout = 1");
    ck_assert_int_eq(db_query_one(c, lock, DBP0, &LOCK_ROW, &r, &found), -1);
    ck_assert_int_eq(db_error(c), DB_ERR_RETRY);
    ck_assert_uint_eq(db_errno(c), 1205);
    scratch_exec(holder, "ROLLBACK");
    ck_assert_int_eq(db_query_one(c, lock, DBP0, &LOCK_ROW, &r, &found), 0);
    ck_assert(found && r.id == 1);

    /* Not connected: DB_ERR_CONN, no crash. */
    {
        db_conn *down = scratch_conn_make(scratch_db);

        ck_assert_int_eq(db_query_one(down, lock, DBP0, &LOCK_ROW, &r, &found), -1);
        ck_assert_int_eq(db_error(down), DB_ERR_CONN);
        db_conn_free(down);
    }
    db_conn_free(c);
    db_conn_free(holder);
}
END_TEST

Suite *db_rows_suite(void)
{
    Suite *s = suite_create("db_rows");
    TCase *tc = check_tcase(s, "live", CHECK_TESTS(every_type_round_trip, nulls,
                      too_long_is_an_error, column_mismatch_detected, empty_results, many_rows,
                      database_errors_keep_their_kind));

    tcase_add_unchecked_fixture(tc, rows_setup, scratch_teardown);
    tcase_set_timeout(tc, 60);
    return s;
}
