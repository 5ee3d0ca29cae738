/* cli_util.c - argument parsing and transaction helper for the modules'
 * subcommands (see cli_util.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli_util.h"
#include "server/app.h"

static int in_list(const char *const *list, const char *s, size_t n)
{
    for (int i = 0; list && list[i]; i++)
        if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0)
            return i;
    return -1;
}

int cli_args_parse(const char *cmd, int argc, char **argv, const char *const *valued,
                   const char *const *flags, cli_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *eq, *val = NULL;
        size_t n;
        int v, f;

        if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
            if (a->npos == CLI_ARGS_MAX) {
                fprintf(stderr, "onetripd %s: too many arguments\n", cmd);
                return -1;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        eq = strchr(s, '=');
        n = eq ? (size_t)(eq - s) : strlen(s);
        v = in_list(valued, s, n);
        f = in_list(flags, s, n);
        if (v < 0 && f < 0) {
            fprintf(stderr, "onetripd %s: unknown option %.*s\n", cmd, (int)n, s);
            return -1;
        }
        if (f >= 0) {
            if (eq) {
                fprintf(stderr, "onetripd %s: %s takes no value\n", cmd, flags[f]);
                return -1;
            }
            val = "1";
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "onetripd %s: %s needs a value\n", cmd, valued[v]);
            return -1;
        }
        for (int k = 0; k < a->nopt; k++)
            if (strlen(a->name[k]) == n && strncmp(a->name[k], s, n) == 0) {
                fprintf(stderr, "onetripd %s: %.*s given twice\n", cmd, (int)n, s);
                return -1;
            }
        if (a->nopt == CLI_ARGS_MAX) {
            fprintf(stderr, "onetripd %s: too many options\n", cmd);
            return -1;
        }
        a->name[a->nopt] = v >= 0 ? valued[v] : flags[f];
        a->val[a->nopt++] = val;
    }
    return 0;
}

const char *cli_args_get(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++)
        if (strcmp(a->name[i], name) == 0)
            return a->val[i];
    return NULL;
}

int cli_usage(const char *usage)
{
    fprintf(stderr, "usage: onetripd %s\n", usage);
    return CLI_EXIT_USAGE;
}

int cli_tx(db_conn *c, const char *cmd, const char *what, db_tx_fn fn, void *arg,
           const int *fn_exit)
{
    if (db_tx(c, fn, arg, 5, NULL) == 0)
        return CLI_EXIT_OK;
    if (db_error(c) == DB_ERR_DUP) {
        fprintf(stderr, "onetripd %s: %s already exists\n", cmd, what);
        return CLI_EXIT_EXISTS;
    }
    if (db_error(c) == DB_OK)
        return (fn_exit && *fn_exit) ? *fn_exit : CLI_EXIT_FAIL;
    fprintf(stderr, "onetripd %s: database error: %s\n", cmd, db_errmsg(c));
    return CLI_EXIT_FAIL;
}

char *cli_read_file(const char *cmd, const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;

    if (f == NULL) {
        fprintf(stderr, "onetripd %s: cannot open %s\n", cmd, path);
        goto fail;
    }
    buf = app_malloc(max + 1);
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        fprintf(stderr, "onetripd %s: cannot read %s (or larger than %zu bytes)\n", cmd, path, max);
        free(buf);
        buf = NULL;
        goto fail;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
fail:
    if (f)
        fclose(f);
    return buf;
}
