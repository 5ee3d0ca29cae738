/* identity_cli_util.h - small helpers shared by the identity and people
 * command-line subcommands (`onetripd client|operator|partner|outlet|citizen`).
 *
 * Exit codes of every such command: 0 done, 1 failure (database, not
 * found), 2 bad arguments (usage printed), 3 already exists (scripts such
 * as ops/lib/demo.sh rely on 3 to be re-runnable). */
#ifndef ONETRIP_IDENTITY_CLI_UTIL_H
#define ONETRIP_IDENTITY_CLI_UTIL_H

#include <stddef.h>
#include "db/db.h"

#define IDENTITY_EXIT_OK 0
#define IDENTITY_EXIT_FAIL 1
#define IDENTITY_EXIT_USAGE 2
#define IDENTITY_EXIT_EXISTS 3

#define IDENTITY_ARGS_MAX 16

/* Parsed "positional... --opt value --flag" arguments. Pointers borrow argv. */
typedef struct identity_args {
    const char *pos[IDENTITY_ARGS_MAX];
    int npos;
    const char *name[IDENTITY_ARGS_MAX];
    const char *val[IDENTITY_ARGS_MAX];
    int nopt;
} identity_args;

/* valued: NULL-terminated option names taking a value ("--kid");
 * flags: NULL-terminated boolean option names ("--disabled"; value "1").
 * Unknown options, a missing value, a repeated option or too many
 * arguments print a message to stderr and return -1. Accepts "--opt=value". */
int identity_args_parse(const char *cmd, int argc, char **argv, const char *const *valued,
                        const char *const *flags, identity_args *a);
/* The option's value, or NULL when absent. */
const char *identity_args_get(const identity_args *a, const char *name);

/* Runs fn in a transaction (deadlocks retried) and maps the outcome to an
 * exit code: 0 committed; 3 for a duplicate key ("<what> already exists");
 * *fn_exit when fn chose to roll back (fn printed its own message; 1 when
 * *fn_exit is 0); 1 for any other database error. */
int identity_cli_tx(db_conn *c, const char *cmd, const char *what, db_tx_fn fn, void *arg,
                    const int *fn_exit);

/* Reads a whole (small) file into a malloc'd NUL-terminated buffer; NULL
 * with a message on stderr when it cannot (or it exceeds max bytes). */
char *identity_read_file(const char *cmd, const char *path, size_t max, size_t *len);

#endif
