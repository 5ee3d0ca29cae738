/* dispatch.c - what a worker does with one request: database connection,
 * authentication, permission, JSON body, idempotency, declared inputs
 * (server/input.c), then the handler. */
#include <string.h>
#include <strings.h>

#include "server/audit.h"
#include "server/auth.h"
#include "server/http_internal.h"
#include "server/input.h"
#include "server/log.h"
#include "server/metrics.h"

static int is_json_type(const char *ct)
{
    size_t n;
    const char *semi;
    if (ct == NULL)
        return 0;
    semi = strchr(ct, ';');
    n = semi ? (size_t)(semi - ct) : strlen(ct);
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    /* application/<something>+json */
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* Parses the body of a JSON route into r->json. -1 with a problem set. */
static int parse_json_body(app_req *r)
{
    json_error_t jerr;
    char detail[200];

    if (r->body_len == 0) {
        if ((r->method == M_POST || r->method == M_PUT || r->method == M_PATCH) &&
            !(r->route->in && r->route->in->body_optional)) {
            app_problem(r, 400, "body_required", "Request body required",
                        "This endpoint expects a JSON object.", NULL);
            return -1;
        }
        return 0;
    }
    if (!is_json_type(app_header(r, "Content-Type"))) {
        app_problem(r, 415, "unsupported_media_type", "Unsupported media type",
                    "Send the body as application/json.", NULL);
        return -1;
    }
    r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (r->json == NULL) {
        snprintf(detail, sizeof detail, "Malformed JSON at line %d column %d: %.100s", jerr.line,
                 jerr.column, jerr.text);
        app_problem(r, 400, "malformed_json", "Malformed JSON", detail, NULL);
        return -1;
    }
    if (!json_is_object(r->json)) {
        app_problem(r, 400, "body_not_object", "Request body must be a JSON object", NULL, NULL);
        return -1;
    }
    return 0;
}

void dispatch_run(app_req *r)
{
    const app_route *rt = r->route;

    if (db_conn_ensure(r->db) != 0) {
        app_problem_db(r);
        return;
    }
    if (auth_authenticate(r) != 0)
        return;
    if (auth_authorize(r) != 0)
        return;
    if ((rt->flags & ROUTE_JSON) && parse_json_body(r) != 0)
        return;
    if ((rt->flags & (ROUTE_IDEMPOTENT | ROUTE_IDEM_OPTIONAL)) && idem_begin(r) == 0)
        return;
    /* Declared inputs after the key is claimed: a refusal is stored and
     * replayed like any other answer, as when handlers checked them. */
    if (input_check(r) == 0)
        rt->handler(r);
    if (rt->flags & (ROUTE_IDEMPOTENT | ROUTE_IDEM_OPTIONAL))
        idem_finish(r);
}
