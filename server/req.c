/* req.c - app_req: request accessors, responses and RFC 9457 problems. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http_internal.h"
#include "server/log.h"
#include "server/metrics.h"

/* A request and its private part, allocated (and freed) together. */
typedef struct req_block {
    app_req r;
    struct app_req_private p;
} req_block;

app_req *req_new(void)
{
    req_block *b = app_calloc(1, sizeof *b);
    app_req *r = &b->r;
    r->priv = &b->p;
    r->priv->req = r;
    r->priv->conn_fd = -1;
    r->path = r->priv->path_buf; /* "" */
    return r;
}

void req_set_path(app_req *r, const char *path)
{
    size_t n = strlen(path);
    if (r->path != r->priv->path_buf)
        free((char *)r->path);
    if (n < sizeof r->priv->path_buf) {
        memcpy(r->priv->path_buf, path, n + 1);
        r->path = r->priv->path_buf;
    } else {
        r->path = app_strndup(path, n);
    }
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
    if (r->path != r->priv->path_buf)
        free((char *)r->path);
    free((char *)r->body);
    json_decref(r->json);
    if (!r->priv->resp_static)
        free(r->resp_body);
    router_match_clear(&r->priv->match);
    free(r->priv->query_raw);
    free(r); /* the req_block: r is its first member */
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
    if (!r->priv->resp_static)
        free(r->resp_body);
    r->priv->resp_static = false;
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

void req_reply_static(app_req *r, int status, const char *type, const char *data, size_t len)
{
    set_body(r, status, type, NULL, 0);
    r->resp_body = (char *)data; /* never written: resp_static keeps it from free() */
    r->resp_len = len;
    r->priv->resp_static = true;
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

/* Strict UTF-8 as jansson accepts it (no overlongs, surrogates or code
 * points above U+10FFFF). */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n, cp;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, cp = c & 0x07;
        else
            return false;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

typedef struct jbuf {
    char *p;
    size_t n, cap;
} jbuf;

static void jb_mem(jbuf *b, const char *s, size_t k)
{
    if (b->n + k + 1 > b->cap) {
        b->cap = (b->n + k + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    memcpy(b->p + b->n, s, k);
    b->n += k;
    b->p[b->n] = '\0';
}

/* A JSON string as jansson's json_dumps writes it (no flags but compact). */
static void jb_string(jbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u%04X */
    const char *run = s;

    jb_mem(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char u[6];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_mem(b, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            jb_mem(b, u, 6);
            continue;
        }
        jb_mem(b, esc, 2);
    }
    jb_mem(b, run, (size_t)(s - run));
    jb_mem(b, "\"", 1);
}

static void jb_member(jbuf *b, const char *name, const char *val)
{
    jb_mem(b, ",\"", 2);
    jb_mem(b, name, strlen(name));
    jb_mem(b, "\":", 2);
    jb_string(b, val);
}

char *req_problem_json(int status, const char *code, const char *title, const char *detail,
                       const char *field, const char *request_id, json_t *extra)
{
    json_t *o;
    char *s, num[16];
    jbuf b = {NULL, 0, 0};

    if (title == NULL)
        title = status_title(status);
    if (request_id != NULL && request_id[0] == '\0')
        request_id = NULL;
    /* The common case, on every refused request: no object tree. */
    if (extra == NULL && utf8_ok(title) && utf8_ok(code) && (!detail || utf8_ok(detail)) &&
        (!field || utf8_ok(field)) && (!request_id || utf8_ok(request_id))) {
        b.cap = 256 + (detail ? strlen(detail) : 0);
        b.p = app_malloc(b.cap);
        jb_mem(&b, "{\"type\":\"about:blank\"", 21);
        jb_member(&b, "title", title);
        snprintf(num, sizeof num, ",\"status\":%d", status);
        jb_mem(&b, num, strlen(num));
        jb_member(&b, "code", code);
        if (detail)
            jb_member(&b, "detail", detail);
        if (field)
            jb_member(&b, "field", field);
        if (request_id)
            jb_member(&b, "request_id", request_id);
        jb_mem(&b, "}", 1);
        return b.p;
    }
    o = json_object();
    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "code", json_string(code));
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    if (field)
        json_object_set_new(o, "field", json_string(field));
    if (request_id)
        json_object_set_new(o, "request_id", json_string(request_id));
    /* Members of the problem itself win over extras of the same name. */
    if (extra)
        json_object_update_missing(o, extra);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        abort();
    return s;
}

void req_set_problem(app_req *r, int status, const char *code, const char *title,
                     const char *detail, const char *field, json_t *extra)
{
    char *s = req_problem_json(status, code, title, detail, field, r->request_id, extra);
    json_decref(extra);
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
