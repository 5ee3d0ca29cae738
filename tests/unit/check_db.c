/* Pure tests of the database layer: error classification, retry backoff,
 * the migration statement splitter and checksum. No server needed. */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/migrate.h"
#include "tests/unit/check_util.h"

/* ---- db_classify -------------------------------------------------------- */

/* An error number and its kind outside a COMMIT and during one. */
static const struct classify_case {
    unsigned code;
    db_err_kind plain, at_commit;
} classes[] = {
    {1213, DB_ERR_RETRY, DB_ERR_RETRY}, /* Galera certification failures arrive as 1213 at COMMIT */
    {1205, DB_ERR_RETRY, DB_ERR_RETRY},
    {1020, DB_ERR_RETRY, DB_ERR_RETRY},
    /* lost while committing: the outcome is unknown */
    {2006, DB_ERR_CONN, DB_ERR_UNKNOWN_OUTCOME},
    {2013, DB_ERR_CONN, DB_ERR_UNKNOWN_OUTCOME},
    {1927, DB_ERR_CONN, DB_ERR_UNKNOWN_OUTCOME},
    /* connect-time failures: no statement can have run */
    {2002, DB_ERR_CONN, DB_ERR_CONN},
    {2003, DB_ERR_CONN, DB_ERR_CONN},
    {2026, DB_ERR_CONN, DB_ERR_CONN},
    {2055, DB_ERR_CONN, DB_ERR_CONN},
    {1062, DB_ERR_DUP, DB_ERR_DUP},
    {0, DB_OK, DB_OK},
    /* 1064 syntax, 1146 no table, 1452 foreign key, 2014 out of sync */
    {1064, DB_ERR_OTHER, DB_ERR_OTHER},
    {1146, DB_ERR_OTHER, DB_ERR_OTHER},
    {1452, DB_ERR_OTHER, DB_ERR_OTHER},
    {2014, DB_ERR_OTHER, DB_ERR_OTHER},
    /* 4031 on MariaDB is ER_REFERENCED_TRG_DOES_NOT_EXIST (trigger DDL),
     * not MySQL 8's inactivity disconnect. */
    {4031, DB_ERR_OTHER, DB_ERR_OTHER},
};

START_TEST(classify)
{
    const struct classify_case *k = &classes[_i];

    ck_assert_msg(db_classify(k->code, false) == k->plain, "%u: %d", k->code,
                  (int)db_classify(k->code, false));
    ck_assert_msg(db_classify(k->code, true) == k->at_commit, "%u during commit: %d", k->code,
                  (int)db_classify(k->code, true));
}
END_TEST

/* ---- db_retry_delay_ms ---------------------------------------------------- */

static unsigned base_for(int retry)
{
    unsigned b = 5;

    for (int i = 1; i < retry && b < 200; i++)
        b *= 2;
    return b > 200 ? 200 : b;
}

START_TEST(retry_delay_bounds)
{
    static const double rnds[] = {0.0, 0.25, 0.5, 0.999999};

    for (int retry = 1; retry <= 40; retry++) {
        unsigned base = base_for(retry);

        for (size_t j = 0; j < sizeof rnds / sizeof rnds[0]; j++) {
            unsigned d = db_retry_delay_ms(retry, rnds[j]);

            ck_assert_uint_ge(d, base / 2);
            ck_assert_uint_le(d, base);
        }
        /* Minimum at rnd 0 is exactly half the base. */
        ck_assert_uint_eq(db_retry_delay_ms(retry, 0.0), base / 2);
    }
}
END_TEST

START_TEST(retry_delay_growth_and_cap)
{
    ck_assert_uint_eq(base_for(1), 5);
    /* Growth: the largest delay of retry n stays below the smallest of
     * retry n+1 until the cap. */
    for (int retry = 1; retry < 6; retry++)
        ck_assert_uint_lt(db_retry_delay_ms(retry, 0.999999), db_retry_delay_ms(retry + 1, 0.0) + 1);
    ck_assert_uint_lt(db_retry_delay_ms(1, 0.5), db_retry_delay_ms(4, 0.5));
    ck_assert_uint_eq(db_retry_delay_ms(2, 0.0), 5);
    ck_assert_uint_eq(db_retry_delay_ms(3, 0.0), 10);
    /* Cap: 200 ms from retry 7 on, no shift overflow for huge counts. */
    ck_assert_uint_eq(db_retry_delay_ms(7, 0.0), 100);
    ck_assert_uint_le(db_retry_delay_ms(7, 0.999999), 200);
    ck_assert_uint_eq(db_retry_delay_ms(1000, 0.0), 100);
    ck_assert_uint_le(db_retry_delay_ms(1000000, 0.999999), 200);
    /* Out-of-range inputs are clamped, not trusted. */
    ck_assert_uint_le(db_retry_delay_ms(0, 0.0), 5);
    ck_assert_uint_le(db_retry_delay_ms(-5, 7.0), 5);
    ck_assert_uint_ge(db_retry_delay_ms(3, -1.0), 10);
}
END_TEST

/* ---- db_split_statements -------------------------------------------------- */

/* Splits sql and checks the statements: n of them, the first ones equal to
 * the NULL-terminated expected strings that follow. */
static void expect_split(const char *sql, int n, ...)
{
    char **s = NULL;
    const char *want;
    va_list ap;
    int got = db_split_statements(sql, &s), i = 0;

    ck_assert_int_eq(got, n);
    va_start(ap, n);
    while ((want = va_arg(ap, const char *)) != NULL)
        ck_assert_str_eq(s[i++], want);
    va_end(ap);
    db_split_free(s, got);
}

static int split(const char *sql, char ***out)
{
    return db_split_statements(sql, out);
}

START_TEST(split_simple)
{
    expect_split("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n", 2, "CREATE TABLE a (x INT)",
                 "CREATE TABLE b (y INT)", NULL);
}
END_TEST

START_TEST(split_quotes_with_semicolon)
{
    expect_split("INSERT INTO t VALUES ('a;\nb', \"c;\n\", `we;\nird`);\nSELECT 1;\n", 2,
                 "INSERT INTO t VALUES ('a;\nb', \"c;\n\", `we;\nird`)", "SELECT 1", NULL);
}
END_TEST

START_TEST(split_escaped_quotes)
{
    /* An escaped backslash does not escape the closing quote. */
    expect_split("INSERT INTO t VALUES ('it\\'s;\n', 'it''s;\n', \"say \\\"hi;\n\\\"\");\n"
                 "SELECT '\\\\';\n",
                 2, "INSERT INTO t VALUES ('it\\'s;\n', 'it''s;\n', \"say \\\"hi;\n\\\"\")",
                 "SELECT '\\\\'", NULL);
}
END_TEST

START_TEST(split_comments_with_semicolon)
{
    /* Comments are kept inside the statement text. */
    expect_split("-- first; table;\n"
                 "CREATE TABLE a (x INT); \n"
                 "# hash comment;\n"
                 "/* block;\n comment; */ SELECT 2;\n"
                 "SELECT 3 -- trailing;\n;\n",
                 3, "-- first; table;\nCREATE TABLE a (x INT)",
                 "# hash comment;\n/* block;\n comment; */ SELECT 2", "SELECT 3 -- trailing;", NULL);
}
END_TEST

START_TEST(split_comment_only_statements)
{
    expect_split("-- header only\n;\n/* nothing */;\n#x\nSELECT 1;\n-- trailing comment\n", 1,
                 "#x\nSELECT 1", NULL);
    expect_split("-- only a comment\n/* and another */\n", 0, NULL);
    expect_split("", 0, NULL);
    expect_split(";\n;\n   \n", 0, NULL);
}
END_TEST

START_TEST(split_trailing_whitespace_and_midline)
{
    /* ';' then spaces/tabs (and CR of CRLF) ends a statement; a ';' with
     * more text on its line does not (one-line trigger bodies). */
    expect_split("SELECT 1; \t \nSELECT 2;\r\n"
                 "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a=1; SET NEW.b=2; END;\n",
                 3, "SELECT 1", "SELECT 2",
                 "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a=1; SET NEW.b=2; END",
                 NULL);
}
END_TEST

START_TEST(split_no_trailing_semicolon)
{
    expect_split("SELECT 1;\n  SELECT 2  \n", 2, "SELECT 1", "SELECT 2", NULL);
    expect_split("SELECT 1;", 1, "SELECT 1", NULL);
}
END_TEST

START_TEST(split_double_dash_needs_space)
{
    /* "1--1" is arithmetic, not a comment: the ';' still ends it. */
    expect_split("SELECT 1--1;\nSELECT 2;\n", 2, "SELECT 1--1", NULL);
}
END_TEST


START_TEST(split_unterminated)
{
    char **s = (char **)1;

    ck_assert_int_eq(split("SELECT 'abc;\n", &s), -1);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(split("SELECT \"abc;\n", &s), -1);
    ck_assert_int_eq(split("SELECT `abc;\n", &s), -1);
    ck_assert_int_eq(split("SELECT 'abc\\';\n", &s), -1);
    ck_assert_int_eq(split("SELECT 1;\nSELECT 'x\\", &s), -1);
    ck_assert_int_eq(split("SELECT 1; /* never closed;\n", &s), -1);
}
END_TEST

/* ---- db_migration_checksum ---------------------------------------------- */

START_TEST(checksum_vectors)
{
    char out[65];

    db_migration_checksum("abc", out);
    ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    db_migration_checksum("", out);
    ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

/* ---- misc pure helpers ------------------------------------------------------ */

START_TEST(val_str_null)
{
    db_val v = db_val_str(NULL);

    ck_assert_int_eq(v.t, DBV_NULL);
    v = DB_STR("abc");
    ck_assert_int_eq(v.t, DBV_STR);
    ck_assert_uint_eq(v.len, 3);
    db_rows_free(NULL);
    db_conn_free(NULL);
    db_split_free(NULL, 0);
    ck_assert_ptr_null(db_cell(NULL, 0, 0));
    ck_assert_int_eq(db_cell_i64(NULL, 0, 0), 0);
}
END_TEST

Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    CHECK_LOOP(s, "classify", classify, classes);

    check_tcase(s, "retry_delay", CHECK_TESTS(retry_delay_bounds, retry_delay_growth_and_cap));

    check_tcase(s, "split", CHECK_TESTS(split_simple, split_quotes_with_semicolon,
                      split_escaped_quotes, split_comments_with_semicolon,
                      split_comment_only_statements, split_trailing_whitespace_and_midline,
                      split_no_trailing_semicolon, split_double_dash_needs_space,
                      split_unterminated));

    check_tcase(s, "checksum", CHECK_TESTS(checksum_vectors, val_str_null));
    return s;
}
