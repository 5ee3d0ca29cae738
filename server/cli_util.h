/* cli_util.h - generic helpers for the modules' command-line subcommands
 * (`onetripd client|operator|partner|outlet|citizen`): argument parsing, a
 * transaction with exit codes, reading a small file. No business here.
 *
 * Exit codes of every such command: 0 done, 1 failure (database, not
 * found), 2 bad arguments (usage printed), 3 already exists (scripts such
 * as ops/lib/demo.sh rely on 3 to be re-runnable). */
#ifndef ONETRIP_CLI_UTIL_H
#define ONETRIP_CLI_UTIL_H

#include <stddef.h>
#include "db/db.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_EXISTS 3

#define CLI_ARGS_MAX 16

/* Parsed "positional... --opt value --flag" arguments. Pointers borrow argv. */
typedef struct cli_args {
    const char *pos[CLI_ARGS_MAX];
    int npos;
    const char *name[CLI_ARGS_MAX];
    const char *val[CLI_ARGS_MAX];
    int nopt;
} cli_args;

/* valued: NULL-terminated option names taking a value ("--kid");
 * flags: NULL-terminated boolean option names ("--disabled"; value "1").
 * Unknown options, a missing value, a repeated option or too many
 * arguments print a message to stderr and return -1. Accepts "--opt=value". */
int cli_args_parse(const char *cmd, int argc, char **argv, const char *const *valued,
                   const char *const *flags, cli_args *a);
/* The option's value, or NULL when absent. */
const char *cli_args_get(const cli_args *a, const char *name);

/* Prints "usage: onetripd <usage>" to stderr; returns CLI_EXIT_USAGE. */
int cli_usage(const char *usage);

/* Runs fn in a transaction (deadlocks retried) and maps the outcome to an
 * exit code: 0 committed; 3 for a duplicate key ("<what> already exists");
 * *fn_exit when fn chose to roll back (fn printed its own message; 1 when
 * *fn_exit is 0); 1 for any other database error. */
int cli_tx(db_conn *c, const char *cmd, const char *what, db_tx_fn fn, void *arg,
           const int *fn_exit);

/* Reads a whole (small) file into a malloc'd NUL-terminated buffer; NULL
 * with a message on stderr when it cannot (or it exceeds max bytes). */
char *cli_read_file(const char *cmd, const char *path, size_t max, size_t *len);

#endif
