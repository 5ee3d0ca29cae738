/* router.h - matches a method and path against the routes of all modules.
 * Patterns are literal segments and {name} or {name:int} segments (one
 * segment each; the type is checked by the dispatcher, which answers the
 * route's own problem for a malformed value, so the route still matches).
 * Built once at start-up; lookups are read-only and thread-safe. */
#ifndef ONETRIP_ROUTER_H
#define ONETRIP_ROUTER_H

#include "server/app.h"

typedef struct router router;

typedef enum { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD } router_result;

typedef struct router_match {
    const app_route *route;
    int index;                              /* route's index (metrics) */
    int nparams;
    char *params[APP_MAX_PARAMS];           /* malloc'd, percent-decoded */
    unsigned allow;                         /* methods allowed when BAD_METHOD */
} router_match;

/* The i-th parameter of a pattern: its name (without the type) and whether
 * it is typed {name:int}. -1 if the pattern has no such parameter. */
int router_pattern_param(const char *pattern, int i, char *name, size_t cap, bool *is_int);
/* The pattern as clients and the API description write it: types dropped
 * ("/v1/rectifications/{id:int}/answer" -> ".../{id}/answer"). */
void router_pattern_plain(const char *pattern, char *out, size_t cap);

router *router_new(void);
void router_free(router *rt);
/* Adds a route (kept by pointer: must outlive the router). -1 if the
 * pattern is malformed or a duplicate (method, pattern). */
int router_add(router *rt, const app_route *route);
int router_count(const router *rt);
const app_route *router_get(const router *rt, int index);
/* path must not contain the query. Frees nothing of m on NOT_FOUND; call
 * router_match_clear after use in all cases. */
router_result router_lookup(const router *rt, app_method method, const char *path, router_match *m);
void router_match_clear(router_match *m);
/* "GET, HEAD, POST" for the Allow header. buf >= 64 bytes. */
void router_allow_string(unsigned methods, char *buf, size_t cap);
const char *router_method_name(app_method m);
app_method router_method_parse(const char *s);

#endif
