/* provision.c - database, application user and grants (see provision.h).
 * DDL takes no bound parameters for identifiers, so names are validated to
 * [A-Za-z0-9_] and back-quoted; the password is bound where the server
 * allows it and otherwise escaped as a string literal. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "db/provision.h"

static const char SQL_TABLES[] =
    "SELECT TABLE_NAME, TABLE_COMMENT, TABLE_TYPE FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SEQUENCE') ORDER BY TABLE_NAME";

int db_ident_ok(const char *s)
{
    size_t n = 0;
    if (s == NULL)
        return 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_')
            return 0;
    return n >= 1 && n <= 64;
}

/* Password literal: only printable ASCII without quote or backslash, so it
 * can be written between single quotes without any escaping ambiguity. */
static int password_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e || s[n] == '\'' || s[n] == '\\')
            return 0;
    return n >= 8 && n <= 128;
}

int db_provision_database(db_conn *admin, const char *dbname, char *err, size_t errlen)
{
    char sql[256];
    if (!db_ident_ok(dbname)) {
        snprintf(err, errlen, "db.name must match [A-Za-z0-9_]{1,64}");
        return -1;
    }
    snprintf(sql, sizeof sql,
             "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", dbname);
    if (db_exec_text(admin, sql) != 0) {
        snprintf(err, errlen, "cannot create database %s: %s", dbname, db_errmsg(admin));
        return -1;
    }
    return 0;
}

int db_provision_user(db_conn *admin, const char *user, const char *password, char *err, size_t errlen)
{
    static const char *hosts[] = {"localhost", "%"};
    char sql[512];

    if (!db_ident_ok(user)) {
        snprintf(err, errlen, "db.user must match [A-Za-z0-9_]{1,64}");
        return -1;
    }
    if (!password_ok(password)) {
        snprintf(err, errlen, "db.password must be 8-128 printable ASCII characters without quotes "
                              "or backslashes");
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(sql, sizeof sql, "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s'", user,
                 hosts[i], password);
        if (db_exec_text(admin, sql) != 0)
            goto fail;
        /* Keep the password in step with the configuration. */
        snprintf(sql, sizeof sql, "ALTER USER '%s'@'%s' IDENTIFIED BY '%s'", user, hosts[i], password);
        if (db_exec_text(admin, sql) != 0)
            goto fail;
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot create user %s: %s", user, db_errmsg(admin));
    return -1;
}

int db_provision_grants(db_conn *admin, const char *dbname, const char *user, char *err, size_t errlen)
{
    static const char *hosts[] = {"localhost", "%"};
    db_rows *rows = NULL;
    char sql[512];
    int rc = -1;

    if (!db_ident_ok(dbname) || !db_ident_ok(user)) {
        snprintf(err, errlen, "db.name and db.user must match [A-Za-z0-9_]{1,64}");
        return -1;
    }
    if (db_query(admin, SQL_TABLES, DBP(DB_STR(dbname)), &rows) != 0) {
        snprintf(err, errlen, "cannot list tables: %s", db_errmsg(admin));
        goto fail;
    }
    for (int i = 0; i < rows->nrows; i++) {
        const char *t = db_cell(rows, i, 0), *comment = db_cell(rows, i, 1);
        const char *privs = "SELECT, INSERT, UPDATE, DELETE";
        bool restricted = false;
        if (!db_ident_ok(t))
            continue; /* our tables are all plain identifiers */
        if (strcmp(t, "schema_migrations") == 0)
            comment = "read-only"; /* written by migrate only */
        /* NEXT VALUE FOR needs INSERT on the sequence; nothing more. */
        if (db_cell(rows, i, 2) && strcmp(db_cell(rows, i, 2), "SEQUENCE") == 0)
            comment = "append-only";
        if (comment && strcmp(comment, "append-only") == 0) {
            privs = "SELECT, INSERT";
            restricted = true;
        } else if (comment && strcmp(comment, "read-only") == 0) {
            privs = "SELECT";
            restricted = true;
        }
        for (int h = 0; h < 2; h++) {
            if (restricted) {
                /* Take back anything wider granted earlier; "no such grant"
                 * (1147) is fine. */
                snprintf(sql, sizeof sql, "REVOKE INSERT, UPDATE, DELETE ON `%s`.`%s` FROM '%s'@'%s'",
                         dbname, t, user, hosts[h]);
                if (db_exec_text(admin, sql) != 0 && db_errno(admin) != 1147 && db_errno(admin) != 1141) {
                    snprintf(err, errlen, "cannot revoke on %s: %s", t, db_errmsg(admin));
                    goto fail;
                }
            }
            snprintf(sql, sizeof sql, "GRANT %s ON `%s`.`%s` TO '%s'@'%s'", privs, dbname, t, user,
                     hosts[h]);
            if (db_exec_text(admin, sql) != 0) {
                snprintf(err, errlen, "cannot grant on %s: %s", t, db_errmsg(admin));
                goto fail;
            }
        }
    }
    rc = 0;
fail:
    db_rows_free(rows);
    return rc;
}
