/* pay_http.c - see pay_http.h. One event_base and one connection per call:
 * channel calls are rare (jobs, refunds), so simplicity beats pooling. */
#include "modules/payments/pay_http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct call {
    pay_http_resp *resp;
    int done;
} call;

static void on_complete(struct evhttp_request *req, void *arg)
{
    call *c = arg;
    struct evbuffer *in;
    struct evkeyvalq *h;
    struct evkeyval *kv;
    size_t n;

    c->done = 1;
    if (req == NULL || evhttp_request_get_response_code(req) == 0)
        return; /* connection refused, reset or timed out */
    c->resp->status = evhttp_request_get_response_code(req);
    in = evhttp_request_get_input_buffer(req);
    n = evbuffer_get_length(in);
    c->resp->body = app_malloc(n + 1);
    evbuffer_remove(in, c->resp->body, n);
    c->resp->body[n] = '\0';
    c->resp->body_len = n;
    h = evhttp_request_get_input_headers(req);
    for (kv = h->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
        c->resp->headers = realloc(c->resp->headers, (size_t)(c->resp->nheaders + 1) * sizeof(app_kv));
        if (c->resp->headers == NULL)
            abort();
        c->resp->headers[c->resp->nheaders].key = app_strdup(kv->key);
        c->resp->headers[c->resp->nheaders].val = app_strdup(kv->value);
        c->resp->nheaders++;
    }
}

int pay_http_request(const char *method, const char *url, const char *ctype, const char *body,
                     size_t body_len, int timeout_s, pay_http_resp *resp)
{
    struct event_base *base = NULL;
    struct evhttp_uri *uri = NULL;
    struct evhttp_connection *conn = NULL;
    struct evhttp_request *req = NULL;
    const char *host, *path, *query;
    char *target = NULL, hostport[300];
    call c = {resp, 0};
    int port, rc = -1;
    size_t tl;

    memset(resp, 0, sizeof *resp);
    uri = url ? evhttp_uri_parse(url) : NULL;
    if (uri == NULL || evhttp_uri_get_scheme(uri) == NULL ||
        strcasecmp(evhttp_uri_get_scheme(uri), "http") != 0 || (host = evhttp_uri_get_host(uri)) == NULL)
        goto fail;
    port = evhttp_uri_get_port(uri);
    if (port < 0)
        port = 80;
    path = evhttp_uri_get_path(uri);
    if (path == NULL || path[0] == '\0')
        path = "/";
    query = evhttp_uri_get_query(uri);
    tl = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
    target = app_malloc(tl);
    snprintf(target, tl, "%s%s%s", path, query ? "?" : "", query ? query : "");
    base = event_base_new();
    if (base == NULL)
        goto fail;
    conn = evhttp_connection_base_new(base, NULL, host, (unsigned short)port);
    if (conn == NULL)
        goto fail;
    evhttp_connection_set_timeout(conn, timeout_s);
    evhttp_connection_set_retries(conn, 0);
    req = evhttp_request_new(on_complete, &c);
    if (req == NULL)
        goto fail;
    snprintf(hostport, sizeof hostport, "%s:%d", host, port);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hostport);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    if (body != NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          ctype ? ctype : "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), body, body_len);
    }
    /* evhttp_make_request owns req from here, even when it fails. */
    if (evhttp_make_request(conn, req, strcmp(method, "POST") == 0 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
                            target) != 0) {
        req = NULL;
        goto fail;
    }
    req = NULL;
    while (!c.done && event_base_loop(base, EVLOOP_ONCE) == 0)
        ;
    rc = resp->status > 0 ? 0 : -1;
fail:
    if (req)
        evhttp_request_free(req);
    if (conn)
        evhttp_connection_free(conn);
    if (base)
        event_base_free(base);
    if (uri)
        evhttp_uri_free(uri);
    free(target);
    return rc;
}

void pay_http_resp_free(pay_http_resp *resp)
{
    if (resp == NULL)
        return;
    for (int i = 0; i < resp->nheaders; i++) {
        free(resp->headers[i].key);
        free(resp->headers[i].val);
    }
    free(resp->headers);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

const char *pay_http_resp_header(const void *ctx, const char *name)
{
    const pay_http_resp *r = ctx;
    for (int i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].key, name) == 0)
            return r->headers[i].val;
    return NULL;
}
