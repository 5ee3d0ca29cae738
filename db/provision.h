/* provision.h - creates the database and the least-privilege application
 * user, and keeps that user's grants in step with the schema. Run by
 * `onetripd migrate` as the admin user. Blocks. */
#ifndef ONETRIP_DB_PROVISION_H
#define ONETRIP_DB_PROVISION_H

#include <stddef.h>
#include "db/db.h"

/* Names must match [A-Za-z0-9_]{1,64}: identifiers cannot be bound as
 * parameters in DDL, so they are validated and quoted instead. */
int db_ident_ok(const char *s);
/* admin: connected without a default database. */
int db_provision_database(db_conn *admin, const char *dbname, char *err, size_t errlen);
int db_provision_user(db_conn *admin, const char *user, const char *password, char *err, size_t errlen);
/* Grants per table of dbname: tables whose COMMENT is 'append-only' get
 * SELECT, INSERT; 'read-only' get SELECT; others SELECT, INSERT, UPDATE,
 * DELETE. Sequences get SELECT, INSERT (what NEXT VALUE FOR needs). Nothing else (no DDL, no GRANT OPTION). */
int db_provision_grants(db_conn *admin, const char *dbname, const char *user, char *err, size_t errlen);

#endif
