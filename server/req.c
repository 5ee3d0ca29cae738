/* req.c - app_req: request accessors, responses and RFC 9457 problems. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http_internal.h"
#include "server/log.h"
#include "server/metrics.h"

app_req *req_new(void)
{
    app_req *r = app_calloc(1, sizeof *r);
    r->priv = app_calloc(1, sizeof *r->priv);
    r->priv->req = r;
    r->priv->conn_fd = -1;
    return r;
}

static void kv_free(app_kv *kv, int n)
{
    for (int i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].val);
    }
    free(kv);
}

void req_free(app_req *r)
{
    if (r == NULL)
        return;
    kv_free(r->query, r->nquery);
    kv_free(r->headers, r->nheaders);
    kv_free(r->resp_headers, r->nresp_headers);
    free((char *)r->path);
    free((char *)r->body);
    json_decref(r->json);
    free(r->resp_body);
    if (r->priv) {
        router_match_clear(&r->priv->match);
        free(r->priv->query_raw);
        free(r->priv);
    }
    free(r);
}

const char *app_header(const app_req *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].key, name) == 0)
            return r->headers[i].val;
    return NULL;
}

const char *app_query(const app_req *r, const char *name)
{
    for (int i = 0; i < r->nquery; i++)
        if (strcmp(r->query[i].key, name) == 0)
            return r->query[i].val;
    return NULL;
}

const char *app_param(const app_req *r, int i)
{
    return (i >= 0 && i < r->nparams) ? r->params[i] : NULL;
}

static void set_body(app_req *r, int status, const char *type, char *body, size_t len)
{
    free(r->resp_body);
    r->status = status;
    r->resp_type = type;
    r->resp_body = body;
    r->resp_len = len;
}

void app_reply_json(app_req *r, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (s == NULL) {
        app_problem(r, 500, "internal", "Internal error", NULL, NULL);
        return;
    }
    set_body(r, status, "application/json", s, strlen(s));
}

void app_reply_bytes(app_req *r, int status, const char *type, const void *data, size_t len)
{
    char *copy = app_malloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    set_body(r, status, type, copy, len);
}

void app_reply_empty(app_req *r, int status)
{
    set_body(r, status, NULL, NULL, 0);
}

void app_add_header(app_req *r, const char *name, const char *val)
{
    r->resp_headers = realloc(r->resp_headers, (size_t)(r->nresp_headers + 1) * sizeof(app_kv));
    if (r->resp_headers == NULL)
        abort();
    r->resp_headers[r->nresp_headers].key = app_strdup(name);
    r->resp_headers[r->nresp_headers].val = app_strdup(val);
    r->nresp_headers++;
}

/* A problem's default title: the status's reason phrase (RFC 9110). */
static const char *status_title(int status)
{
    const char *p = http_reason_phrase(status);
    return strcmp(p, "Error") == 0 && status >= 500 ? "Internal Server Error" : p;
}

void req_set_problem(app_req *r, int status, const char *code, const char *title,
                     const char *detail, const char *field, json_t *extra)
{
    json_t *o = json_object();
    char *s;

    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", json_string(title ? title : status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "code", json_string(code));
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    if (field)
        json_object_set_new(o, "field", json_string(field));
    if (r->request_id[0])
        json_object_set_new(o, "request_id", json_string(r->request_id));
    if (extra) {
        /* Members of the problem itself win over extras of the same name. */
        json_object_update_missing(o, extra);
        json_decref(extra);
    }
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        abort();
    set_body(r, status, "application/problem+json", s, strlen(s));
}

void app_problem(app_req *r, int status, const char *code, const char *title, const char *detail,
                 const char *field)
{
    req_set_problem(r, status, code, title, detail, field, NULL);
}

void app_problem_ext(app_req *r, int status, const char *code, const char *title,
                     const char *detail, const char *field, json_t *extra)
{
    req_set_problem(r, status, code, title, detail, field, extra);
}

void app_problem_db(app_req *r)
{
    db_err_kind k = r->db ? db_error(r->db) : DB_ERR_CONN;

    metrics_db_error();
    if (r->db)
        app_log(LOG_ERROR, "db", "request_id=%s errno=%u kind=%d msg=\"%s\"", r->request_id,
                db_errno(r->db), (int)k, db_errmsg(r->db));
    if (k == DB_ERR_CONN || k == DB_ERR_RETRY) {
        app_add_header(r, "Retry-After", "1");
        app_problem(r, 503, "db_unavailable", "Service temporarily unavailable",
                    "The database is not reachable; retry shortly.", NULL);
    } else if (k == DB_ERR_UNKNOWN_OUTCOME) {
        app_add_header(r, "Retry-After", "1");
        app_problem(r, 503, "outcome_unknown", "Outcome unknown",
                    "The database connection was lost while committing; check the result "
                    "before retrying (an Idempotency-Key makes a retry safe).", NULL);
    } else {
        app_problem(r, 500, "internal", "Internal error", NULL, NULL);
    }
}

/* ---- JSON input (checked in input.c) ---- */

const char *app_json_str(const app_req *r, const char *name)
{
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t app_json_int(const app_req *r, const char *name, int64_t dflt)
{
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

bool app_json_bool(const app_req *r, const char *name, bool dflt)
{
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}
