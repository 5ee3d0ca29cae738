/* input.h - declared inputs and error tables (server/input.c), the
 * framework side of app_input, app_jfield and app_error (server/app.h). */
#ifndef ONETRIP_INPUT_H
#define ONETRIP_INPUT_H

#include <stdio.h>

#include "server/app.h"

/* Compiles the pattern of every field in fields (once; a field already
 * compiled is skipped). Start-up only: not thread-safe against readers.
 * -1 with err naming the field when a pattern does not compile. */
int input_prepare(const app_jfield *fields, int n, char *err, size_t errlen);
/* input_prepare for every route declaration of every module. */
int input_prepare_all(char *err, size_t errlen);
void input_cleanup(void);

/* Checks r against r->route->in (and {name:int} path parameters of any
 * route), filling r->param_ints. 0 to run the handler; -1 with a 400/404
 * problem set. Never blocks (also used for inline routes). */
int input_check(app_req *r);

/* Start-up checks of the descriptors (called by modules_check): error
 * tables (well-formed, one status and title per code across modules) and
 * route declarations (codes in some table, path fields naming parameters,
 * choices for enums, patterns that compile, ranges in order). -1 with one
 * line in err. */
int input_check_modules(const app_module *const *mods, int n, char *err, size_t errlen);

/* The error-table row of code across the given modules, or NULL. */
const app_error *input_error_in(const app_module *const *mods, int n, const char *code);

/* `onetripd routes --json`: every route with its declared inputs, as one
 * JSON array (see tests/integration/inputs_spec.test.mjs). */
void input_print_routes_json(FILE *out);

#endif
