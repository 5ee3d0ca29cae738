/* migrate.h - versioned SQL migrations recorded in schema_migrations.
 *
 * Each migration is one SQL file, embedded in the binary at build time.
 * Files are applied in ascending version order; each file's statements run
 * one by one and the file is recorded (version, name, SHA-256 checksum) in
 * the same transaction as its last statement. MariaDB commits DDL
 * implicitly, so write DDL that can be re-run (CREATE TABLE IF NOT EXISTS).
 * An applied file whose checksum changed is refused: never edit an applied
 * migration, add a new one.
 *
 * All calls block; use from the CLI, start-up or a worker thread only.
 */
#ifndef ONETRIP_DB_MIGRATE_H
#define ONETRIP_DB_MIGRATE_H

#include <stddef.h>
#include "db.h"

typedef struct db_migration {
    int version;      /* global order; each module owns a range */
    const char *name; /* file name, e.g. "0001_base.sql" */
    const char *sql;  /* full text; statements end with ';' at end of line */
} db_migration;

/* Apply every pending migration of list (any order; sorted here).
 * Returns the number applied (>= 0), or -1 with a one-line reason in err
 * (e.g. "migration 0003_x.sql was changed after it was applied"). */
int db_migrate_apply(db_conn *c, const db_migration *const *list, int n,
                     char *err, size_t errlen);

/* Counts migrations of list not yet applied (0 = current), or -1 on a
 * database error or a checksum mismatch (reason in err). */
int db_migrate_pending(db_conn *c, const db_migration *const *list, int n,
                       char *err, size_t errlen);

/* Pure helpers, exposed for unit tests. */
/* Lower-case hex SHA-256 of sql into out (65 bytes). */
void db_migration_checksum(const char *sql, char out[65]);
/* Split sql into statements: a statement ends at ';' followed by optional
 * spaces and a newline (or end of text), outside quotes and comments. Empty
 * statements and comment-only statements are skipped. Returns the count and
 * sets *out to a malloc'd array of malloc'd strings (free with
 * db_split_free), or -1 on unterminated quote. */
int db_split_statements(const char *sql, char ***out);
void db_split_free(char **stmts, int n);

#endif
