/* fuzz_input: request-body checking (server/input.c, app_json_check)
 * against the body declarations of every real route of every module, the
 * way dispatch.c parses the body first (JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY; only an object reaches the checker).
 *
 * Input: "METHOD /pattern\n" naming a route (e.g. "POST /v1/orders"), then
 * the body. A first line naming no route picks one by its hash, so every
 * route's declaration gets fuzzed. The problem set on a refusal must be a
 * JSON object with a code and a 4xx status. */
#include "tests/fuzz/fuzz_util.h"

#include <jansson.h>

#include "server/http_internal.h"
#include "server/input.h"
#include "server/modules.h"
#include "server/router.h"

static const app_route **routes;
static int nroutes;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512] = "";
    if (modules_check(modules_all, modules_count, err, sizeof err) != 0 ||
        input_prepare_all(err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_input: %s\n", err);
        abort();
    }
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nroutes; j++) {
            const app_route *rt = &modules_all[i]->routes[j];
            if (rt->in == NULL || rt->in->nbody == 0)
                continue;
            routes = realloc(routes, (size_t)(nroutes + 1) * sizeof *routes);
            if (routes == NULL)
                abort();
            routes[nroutes++] = rt;
        }
    if (nroutes == 0)
        abort();
    return 0;
}

static const app_route *pick(const char *line)
{
    char name[512];
    unsigned h = 2166136261u;
    for (int i = 0; i < nroutes; i++) {
        snprintf(name, sizeof name, "%s %s", router_method_name(routes[i]->method), routes[i]->pattern);
        if (strcmp(name, line) == 0)
            return routes[i];
    }
    for (const char *p = line; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return routes[h % (unsigned)nroutes];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t llen = nl ? (size_t)(nl - data) : size;
    char *line = fuzz_str(data, llen);
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t blen = nl ? size - llen - 1 : 0;
    const app_route *rt = pick(line);
    app_req *r;
    json_t *j;

    free(line);
    j = json_loadb(body, blen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    r = req_new();
    r->method = rt->method;
    r->route = rt;
    r->json = j; /* r owns it now */
    if (app_json_check(r, rt->in->body, rt->in->nbody) != 0) {
        json_t *p = json_loadb(r->resp_body, r->resp_len, 0, NULL);
        /* 400, or the status of the field's own code (its error table's,
         * e.g. 422); never a 500 (a code no table lists) */
        FUZZ_ASSERT(r->status >= 400 && r->status < 500);
        FUZZ_ASSERT(json_is_object(p));
        FUZZ_ASSERT(json_is_string(json_object_get(p, "code")));
        json_decref(p);
    }
    req_free(r);
    return 0;
}
