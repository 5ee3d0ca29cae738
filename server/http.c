/* http.c - event loops, evhttp front end, reply path, graceful shutdown.
 *
 * Each loop thread owns one event_base with its evhttp objects; only that
 * thread touches them. A request is copied into an app_req, handed to the
 * worker pool, and comes back through the loop's done queue: the worker
 * makes done_ev active (thread-safe after evthread_use_pthreads) and the
 * loop thread sends the reply. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "server/config.h"
#include "server/crypto.h"
#include "server/http.h"
#include "server/http_internal.h"
#include "server/input.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/tls.h"

srv_state srv;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
    }
}

/* A fresh request id: 12 random bytes in hex. The randomness is drawn 4 KiB
 * at a time per thread: one RAND_bytes per request cost a getpid() (OpenSSL's
 * fork check) and most of a DRBG call. Ids are public, not secrets. */
static void new_request_id(char out[25])
{
    static _Thread_local unsigned char pool[4096];
    static _Thread_local size_t used = sizeof pool;

    if (used + 12 > sizeof pool) {
        if (crypto_random(pool, sizeof pool) != 0) {
            crypto_random_hex(12, out); /* reports nothing either: as before */
            return;
        }
        used = 0;
    }
    crypto_hex(pool + used, 12, out);
    used += 12;
}

/* A caller's X-Request-Id is kept when it is short and plain. */
static int request_id_ok(const char *s)
{
    size_t n = 0;
    if (s == NULL)
        return 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n >= 1 && n <= 63;
}

static void json_escape_into(char *out, size_t cap, const char *s)
{
    size_t j = 0;
    for (; *s && j + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[j++] = '\\';
            out[j++] = (char)c;
        } else if (c < 0x20) {
            j += (size_t)snprintf(out + j, cap - j, "\\u%04x", c);
        } else {
            out[j++] = (char)c;
        }
    }
    out[j] = '\0';
}

/* A bounded text cursor for the access line (printf-free: the line is
 * built on every request). Truncates at cap like snprintf. */
typedef struct line_out {
    char *p;
    size_t n, cap;
} line_out;

static void lo_mem(line_out *o, const char *s, size_t k)
{
    if (k > o->cap - o->n)
        k = o->cap - o->n;
    memcpy(o->p + o->n, s, k);
    o->n += k;
}

static void lo_str(line_out *o, const char *s)
{
    lo_mem(o, s, strlen(s));
}

static void lo_u64(line_out *o, uint64_t v, int min_digits)
{
    char t[24];
    int i = (int)sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 || (int)sizeof t - i < min_digits);
    lo_mem(o, t + i, sizeof t - (size_t)i);
}

#define ACCESS_LINE_MAX 1024

/* The same line as the former snprintf version ("%.3f" milliseconds of
 * whole microseconds is exact in integers), written straight into the
 * loop's buffer: no syscall per request (see server/logbuf.h). */
static void access_log(srv_loop *l, app_req *r, int64_t dur_us)
{
    char path[512];
    line_out o;
    uint64_t us = dur_us > 0 ? (uint64_t)dur_us : 0;

    if (!server_conf.log.access || l->alog.p == NULL)
        return;
    o.p = logbuf_reserve(&l->alog, ACCESS_LINE_MAX - 1);
    if (o.p == NULL)
        return; /* a buffer smaller than a line: never with logbuf_init's minimum */
    o.n = 0;
    o.cap = ACCESS_LINE_MAX - 1;
    json_escape_into(path, sizeof path, r->path ? r->path : "");
    lo_str(&o, "{\"type\":\"access\",\"method\":\"");
    lo_str(&o, router_method_name(r->method));
    lo_str(&o, "\",\"path\":\"");
    lo_str(&o, path);
    lo_str(&o, "\",\"status\":");
    if (r->status < 0)
        lo_str(&o, "-");
    lo_u64(&o, (uint64_t)(r->status < 0 ? -(int64_t)r->status : r->status), 1);
    lo_str(&o, ",\"bytes\":");
    lo_u64(&o, r->resp_len, 1);
    lo_str(&o, ",\"duration_ms\":");
    lo_u64(&o, us / 1000, 1);
    lo_str(&o, ".");
    lo_u64(&o, us % 1000, 3);
    lo_str(&o, ",\"principal\":\"");
    lo_str(&o, r->who.name[0] ? r->who.name : "anonymous");
    lo_str(&o, "\",\"request_id\":\"");
    lo_str(&o, r->request_id);
    lo_str(&o, "\",\"peer\":\"");
    lo_str(&o, r->peer);
    lo_str(&o, "\"}");
    logbuf_commit(&l->alog, o.n);
}

static void on_alog_tick(evutil_socket_t fd, short what, void *arg)
{
    srv_loop *l = arg;
    (void)logbuf_flush(&l->alog);
}

static void free_body(const void *data, size_t len, void *arg)
{
    free((void *)data);
}

/* Loop thread: send r's response and free r. */
static void reply(srv_loop *l, app_req *r)
{
    struct evhttp_request *ev = r->priv->ev;
    struct evkeyvalq *oh = evhttp_request_get_output_headers(ev);
    struct evbuffer *buf = evhttp_request_get_output_buffer(ev);
    conn_track *t;
    int64_t dur_us;

    if (r->status == 0)
        req_set_problem(r, 500, "internal", NULL, NULL, NULL, NULL);
    if (r->resp_type)
        evhttp_add_header(oh, "Content-Type", r->resp_type);
    evhttp_add_header(oh, "X-Request-Id", r->request_id);
    evhttp_add_header(oh, "Cache-Control", "no-store");
    evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < r->nresp_headers; i++)
        evhttp_add_header(oh, r->resp_headers[i].key, r->resp_headers[i].val);
    if (atomic_load(&srv.shutting_down))
        evhttp_add_header(oh, "Connection", "close");
    /* The body goes out without a copy: static data by reference, an
     * allocated body handed to the buffer, which frees it once written (or
     * when evhttp drops the request). */
    if (r->resp_len > 0 && r->method != M_HEAD) {
        if (r->priv->resp_static) {
            evbuffer_add_reference(buf, r->resp_body, r->resp_len, NULL, NULL);
        } else if (evbuffer_add_reference(buf, r->resp_body, r->resp_len, free_body, NULL) == 0) {
            r->resp_body = NULL; /* the buffer's now; resp_len stays for the log */
        }
    }
    evhttp_send_reply(ev, r->status, http_reason_phrase(r->status), NULL);
    t = conns_find(l, r->priv->conn_fd, r->priv->conn_serial);
    if (t)
        conns_set_busy(t, false);
    dur_us = (now_ns() - r->priv->start_ns) / 1000;
    metrics_request(r->route ? r->priv->match.index : -1, r->status, dur_us);
    access_log(l, r, dur_us);
    req_free(r);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    srv_loop *l = arg;
    struct app_req_private *p, *next;

    pthread_mutex_lock(&l->mu);
    p = l->done_head;
    l->done_head = l->done_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    for (; p != NULL; p = next) {
        next = p->next;
        reply(l, p->req);
        atomic_fetch_sub(&srv.inflight, 1);
    }
}

void http_complete(app_req *r)
{
    srv_loop *l = r->priv->loop;
    r->priv->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->done_tail)
        l->done_tail->next = r->priv;
    else
        l->done_head = r->priv;
    l->done_tail = r->priv;
    pthread_mutex_unlock(&l->mu);
    event_active(l->done_ev, EV_READ, 0);
}

static app_method method_of(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET: return M_GET;
    case EVHTTP_REQ_POST: return M_POST;
    case EVHTTP_REQ_PUT: return M_PUT;
    case EVHTTP_REQ_PATCH: return M_PATCH;
    case EVHTTP_REQ_DELETE: return M_DELETE;
    case EVHTTP_REQ_HEAD: return M_HEAD;
    case EVHTTP_REQ_OPTIONS: return M_OPTIONS;
    default: return 0;
    }
}

/* Credentials: never read from a plain-HTTP request (see on_plain_request). */
static bool is_credential_header(const char *name)
{
    return strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "Cookie") == 0 ||
           strncasecmp(name, "X-Onetrip-", 10) == 0;
}

static void copy_headers(app_req *r, struct evkeyvalq *h, bool drop_credentials)
{
    struct evkeyval *kv;
    int n = 0, i = 0;
    TAILQ_FOREACH(kv, h, next)
        n++;
    r->headers = app_calloc((size_t)n + 1, sizeof(app_kv));
    TAILQ_FOREACH(kv, h, next) {
        if (drop_credentials && is_credential_header(kv->key))
            continue;
        r->headers[i].key = app_strdup(kv->key);
        r->headers[i].val = app_strdup(kv->value);
        i++;
    }
    r->nheaders = i;
}

/* The request head's size as evhttp counts it against its limit (request
 * line and header lines without their line ends), near enough: the
 * method and version are taken as 16 bytes. */
static size_t head_size(struct evhttp_request *ev, struct evkeyvalq *ih)
{
    const char *uri = evhttp_request_get_uri(ev);
    struct evkeyval *kv;
    size_t n = 16 + (uri ? strlen(uri) : 0);
    TAILQ_FOREACH(kv, ih, next)
        n += strlen(kv->key) + 2 + strlen(kv->value);
    return n;
}

/* What plain HTTP serves unless http.allow_api = 1: probes and the
 * description, none of which takes credentials. */
static bool plain_http_path(const char *path)
{
    static const char *const allowed[] = {"/healthz", "/readyz", "/metrics", "/openapi.yaml"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (strcmp(path, allowed[i]) == 0)
            return true;
    return false;
}

/* Decodes the query string; -1 if malformed. */
static int copy_query(app_req *r, const char *q)
{
    struct evkeyvalq kvq;
    struct evkeyval *kv;
    int n = 0, i = 0;

    if (q == NULL || *q == '\0')
        return 0;
    /* evhttp decodes leniently; a bad escape is the client's mistake. */
    for (const char *p = q; *p; p++)
        if (*p == '%' && !(isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])))
            return -1;
    TAILQ_INIT(&kvq);
    if (evhttp_parse_query_str(q, &kvq) != 0) {
        evhttp_clear_headers(&kvq);
        return -1;
    }
    TAILQ_FOREACH(kv, &kvq, next)
        n++;
    r->query = app_calloc((size_t)n + 1, sizeof(app_kv));
    TAILQ_FOREACH(kv, &kvq, next) {
        r->query[i].key = app_strdup(kv->key);
        r->query[i].val = app_strdup(kv->value);
        i++;
    }
    r->nquery = n;
    evhttp_clear_headers(&kvq);
    return 0;
}

/* plain: the request came over the plain-HTTP listener. */
static void on_request(struct evhttp_request *ev, srv_loop *l, bool plain)
{
    app_req *r = req_new();
    struct evkeyvalq *ih = evhttp_request_get_input_headers(ev);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    struct evbuffer *in = evhttp_request_get_input_buffer(ev);
    const char *rid = evhttp_find_header(ih, "X-Request-Id");
    const char *path;
    conn_track *t = conns_for_request(l, ev);
    router_result rr;
    size_t blen, hsize;
    int nh = 0;
    bool plain_only = plain && !server_conf.http.allow_api;
    struct evkeyval *kv;
    char allow[128];

    r->priv->loop = l;
    r->priv->ev = ev;
    r->priv->start_ns = now_ns();
    r->method = method_of(evhttp_request_get_command(ev));
    if (request_id_ok(rid))
        snprintf(r->request_id, sizeof r->request_id, "%s", rid);
    else
        new_request_id(r->request_id);
    if (t != NULL) {
        r->priv->conn_fd = conns_fd(t);
        r->priv->conn_serial = conns_serial(t);
        snprintf(r->peer, sizeof r->peer, "%s", conns_peer(t));
        snprintf(r->tls_cert_sha256, sizeof r->tls_cert_sha256, "%s", conns_cert_sha256(t));
        if (conns_rejected(t)) {
            app_add_header(r, "Retry-After", "1");
            req_set_problem(r, 503, "too_many_connections", NULL, NULL, NULL, NULL);
            goto reply_now;
        }
    }
    TAILQ_FOREACH(kv, ih, next)
        nh++;
    if (nh > server_conf.http.max_header_count) {
        req_set_problem(r, 431, "too_many_headers", NULL,
                        "The request has more header lines than this server accepts.", NULL, NULL);
        goto reply_now;
    }
    /* evhttp reads heads up to http.max_headers_read (bounding memory) and
     * can only answer a longer one with a bare HTML 400; our own, lower
     * limit is answered here in the API's format. */
    hsize = head_size(ev, ih);
    if (hsize > (size_t)server_conf.http.max_headers_size) {
        req_set_problem(r, 431, "headers_too_large", "Request header fields too large",
                        "The request line and headers are larger than this server accepts.", NULL,
                        json_pack("{sI}", "max_bytes", (json_int_t)server_conf.http.max_headers_size));
        goto reply_now;
    }
    path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path == NULL || path[0] != '/' || r->method == 0) {
        req_set_problem(r, 400, "bad_request_line", NULL, NULL, NULL, NULL);
        goto reply_now;
    }
    req_set_path(r, path);
    /* Plain HTTP exposes whatever the client sends to anyone on the path:
     * refuse the API before anything (credentials, body) is read. 403, not
     * a redirect: a client that sent a token or password in clear must see
     * the mistake, not silently repeat it over HTTPS. */
    if (plain_only && !plain_http_path(path)) {
        req_set_problem(r, 403, "https_required", "HTTPS required",
                        "This API is served over HTTPS only (plain HTTP serves /healthz, /readyz, "
                        "/metrics and /openapi.yaml). Credentials sent here were not used; treat "
                        "them as exposed.",
                        NULL, NULL);
        goto reply_now;
    }
    copy_headers(r, ih, plain_only);
    if (evhttp_uri_get_query(uri))
        r->priv->query_raw = app_strdup(evhttp_uri_get_query(uri));
    if (copy_query(r, evhttp_uri_get_query(uri)) != 0) {
        req_set_problem(r, 400, "bad_query", NULL, "The query string is malformed.", NULL, NULL);
        goto reply_now;
    }
    blen = evbuffer_get_length(in);
    if (blen > 0) {
        char *b = app_malloc(blen + 1);
        evbuffer_copyout(in, b, blen);
        b[blen] = '\0';
        r->body = b;
        r->body_len = blen;
    }

    rr = router_lookup(srv.rt, r->method, r->path, &r->priv->match);
    if (rr == ROUTER_NOT_FOUND) {
        req_set_problem(r, 404, "not_found", NULL, "No such resource.", NULL, NULL);
        goto reply_now;
    }
    if (rr == ROUTER_BAD_METHOD) {
        router_allow_string(r->priv->match.allow, allow, sizeof allow);
        app_add_header(r, "Allow", allow);
        req_set_problem(r, 405, "method_not_allowed", NULL, NULL, NULL, NULL);
        goto reply_now;
    }
    r->route = r->priv->match.route;
    r->nparams = r->priv->match.nparams;
    for (int i = 0; i < r->nparams; i++)
        r->params[i] = r->priv->match.params[i];

    if (route_limits_admit(r) != 0)
        goto reply_now;
    if (r->route->flags & ROUTE_INLINE) {
        if (input_check(r) == 0)
            r->route->handler(r);
        goto reply_now;
    }
    if (atomic_load(&srv.shutting_down)) {
        app_add_header(r, "Retry-After", "5");
        req_set_problem(r, 503, "shutting_down", NULL, "The server is restarting.", NULL, NULL);
        goto reply_now;
    }
    /* Busy first: from then on no loop closes the connection to make room. */
    if (t != NULL && !conns_set_busy(t, true)) {
        app_add_header(r, "Retry-After", "1");
        req_set_problem(r, 503, "too_many_connections", NULL, NULL, NULL, NULL);
        goto reply_now;
    }
    atomic_fetch_add(&srv.inflight, 1);
    if (workers_submit(r) != 0) {
        atomic_fetch_sub(&srv.inflight, 1);
        if (t != NULL)
            conns_set_busy(t, false);
        metrics_queue_full();
        app_add_header(r, "Retry-After", "1");
        req_set_problem(r, 503, "overloaded", NULL, "Too many requests are waiting; retry shortly.",
                        NULL, NULL);
        goto reply_now;
    }
    return;
reply_now:
    reply(l, r);
}

static void on_tls_request(struct evhttp_request *ev, void *arg)
{
    on_request(ev, arg, false);
}

static void on_plain_request(struct evhttp_request *ev, void *arg)
{
    on_request(ev, arg, true);
}

/* ---- listeners ---- */

static int parse_listen(const char *spec, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec || colon[1] == '\0')
        return -1;
    if (spec[0] == '[') { /* [::1]:8080 */
        if (colon[-1] != ']' || (size_t)(colon - spec - 2) >= hcap)
            return -1;
        snprintf(host, hcap, "%.*s", (int)(colon - spec - 2), spec + 1);
    } else {
        if ((size_t)(colon - spec) >= hcap)
            return -1;
        snprintf(host, hcap, "%.*s", (int)(colon - spec), spec);
    }
    snprintf(port, pcap, "%s", colon + 1);
    return 0;
}

/* Binds a non-blocking listening socket with SO_REUSEPORT so each loop can
 * accept on its own socket for the same address. */
static int bind_socket(const char *spec, int port_override, char *err, size_t errlen)
{
    char host[128], port[16];
    struct addrinfo hints, *ai = NULL;
    int fd = -1, one = 1, rc;

    if (parse_listen(spec, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errlen, "listen address '%s' must be host:port", spec);
        return -1;
    }
    if (port_override > 0)
        snprintf(port, sizeof port, "%d", port_override);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
        snprintf(err, errlen, "listen address '%s': %s", spec, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "listen address '%s': %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static struct evhttp *make_evhttp(srv_loop *l, bool tls)
{
    struct evhttp *h = evhttp_new(l->base);
    if (h == NULL)
        return NULL;
    evhttp_set_max_body_size(h, server_conf.http.max_body);
    evhttp_set_max_headers_size(h, server_conf.http.max_headers_read);
    evhttp_set_timeout(h, (int)server_conf.http.idle_timeout_s);
    evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                      EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                      EVHTTP_REQ_OPTIONS);
    evhttp_set_default_content_type(h, "application/json");
    evhttp_set_gencb(h, tls ? on_tls_request : on_plain_request, l);
    evhttp_set_bevcb(h, tls ? conns_on_new_tls : conns_on_new_plain, l);
    return h;
}

/* With the changelist, the epoll backend folds the changes a loop makes to
 * one fd within one iteration into one epoll_ctl: evhttp turns reading off
 * and writing on (and back) around every request, which otherwise costs
 * four epoll_ctl calls per request. (Its documented caveat, fds cloned with
 * dup(), does not apply: each fd here is a socket registered once.) */
static struct event_base *new_base(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static void *loop_thread(void *arg)
{
    srv_loop *l = arg;
    event_base_dispatch(l->base);
    return NULL;
}

/* ---- shutdown ---- */

static struct event *sig_term, *sig_int, *drain_ev;
static int64_t drain_deadline_ns;

static void stop_accepting(evutil_socket_t fd, short what, void *arg)
{
    srv_loop *l = arg;
    if (l->http_sock)
        evhttp_del_accept_socket(l->http, l->http_sock);
    if (l->https_sock)
        evhttp_del_accept_socket(l->https, l->https_sock);
    l->http_sock = l->https_sock = NULL;
}

/* Last step of a graceful stop, on each loop's own thread: a reply handed to
 * evhttp may still wait in its connection's output buffer (evhttp_send_reply
 * only schedules the write, and a loop that exits in the same iteration
 * drops it: the client sees the connection reset). Exit once every reply is
 * written, or at the drain deadline. */
static void on_flush_tick(evutil_socket_t fd, short what, void *arg)
{
    srv_loop *l = arg;
    struct timeval tick = {0, 10 * 1000};

    if (conns_output_pending(l) && now_ns() < drain_deadline_ns &&
        event_base_once(l->base, -1, EV_TIMEOUT, on_flush_tick, l, &tick) == 0)
        return;
    event_base_loopexit(l->base, NULL);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct timeval zero = {0, 0};
    long inflight = atomic_load(&srv.inflight);
    if (inflight > 0 && now_ns() < drain_deadline_ns)
        return;
    if (inflight > 0)
        app_log(LOG_WARN, "http", "msg=\"drain deadline reached\" inflight=%ld", inflight);
    event_del(drain_ev);
    for (int i = 0; i < srv.nloops; i++)
        if (event_base_once(srv.loops[i].base, -1, EV_TIMEOUT, on_flush_tick, &srv.loops[i], &zero) != 0)
            event_base_loopexit(srv.loops[i].base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct timeval tick = {0, 50 * 1000}, zero = {0, 0};
    if (atomic_exchange(&srv.shutting_down, 1))
        return;
    app_log(LOG_INFO, "http", "msg=\"stopping: no new connections, finishing in-flight requests\" signal=%d",
            (int)sig);
    for (int i = 0; i < srv.nloops; i++)
        event_base_once(srv.loops[i].base, -1, EV_TIMEOUT, stop_accepting, &srv.loops[i], &zero);
    drain_deadline_ns = now_ns() + 30LL * 1000000000LL;
    drain_ev = event_new(srv.loops[0].base, -1, EV_PERSIST, on_drain_tick, NULL);
    event_add(drain_ev, &tick);
}

static int write_ready_file(const char *path, int http_port, int https_port)
{
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    if (http_port > 0)
        fprintf(f, "http=127.0.0.1:%d\n", http_port);
    if (https_port > 0)
        fprintf(f, "https=127.0.0.1:%d\n", https_port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

/* Each connection holds an fd until it is released (evicted ones a little
 * longer), and accept() failing with EMFILE would leave the listener
 * spinning: raise the soft fd limit towards twice the connection cap, and
 * say so when the hard limit does not allow it. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)server_conf.http.max_connections * 2 + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = 0;
    }
    if (rl.rlim_cur < want)
        app_log(LOG_WARN, "http", "msg=\"open-file limit is low for http.max_connections\" limit=%llu "
                "wanted=%llu", (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

int http_serve(router *rt, char *err, size_t errlen)
{
    int n = (int)server_conf.http.threads;
    const char *hl = server_conf.http.listen, *sl = server_conf.https.listen;
    int http_port = 0, https_port = 0, rc = -1;

    if (route_limits_init(rt, err, errlen) != 0)
        return -1;
    raise_fd_limit();
    if (hl[0] != '\0' && server_conf.http.allow_api)
        app_log(LOG_WARN, "http", "msg=\"http.allow_api=1: the whole API, credentials included, is "
                "served over plain HTTP; run it only behind a TLS-terminating proxy\" listen=%s", hl);
    srv.rt = rt;
    srv.nloops = n;
    srv.loops = app_calloc((size_t)n, sizeof(srv_loop));
    if (sl[0] != '\0') {
        srv.ssl_ctx = tls_server_ctx(server_conf.https.cert, server_conf.https.key,
                                     server_conf.https.client_ca, err, errlen);
        if (srv.ssl_ctx == NULL)
            goto fail;
    }
    for (int i = 0; i < n; i++) {
        srv_loop *l = &srv.loops[i];
        l->index = i;
        pthread_mutex_init(&l->mu, NULL);
        l->base = new_base();
        if (l->base == NULL) {
            snprintf(err, errlen, "event_base_new failed");
            goto fail;
        }
        l->done_ev = event_new(l->base, -1, EV_PERSIST | EV_READ, on_done, l);
        if (l->done_ev == NULL || conns_loop_init(l) != 0) {
            snprintf(err, errlen, "event setup failed");
            goto fail;
        }
        event_add(l->done_ev, NULL); /* activated by workers, never by I/O */
        if (server_conf.log.access) {
            struct timeval tv = {server_conf.log.access_flush_ms / 1000,
                                 (server_conf.log.access_flush_ms % 1000) * 1000};
            logbuf_init(&l->alog, STDOUT_FILENO, 64 * 1024);
            l->alog_ev = event_new(l->base, -1, EV_PERSIST, on_alog_tick, l);
            if (l->alog_ev == NULL || event_add(l->alog_ev, &tv) != 0) {
                snprintf(err, errlen, "event setup failed");
                goto fail;
            }
        }
        if (hl[0] != '\0') {
            int fd = bind_socket(hl, http_port, err, errlen);
            if (fd < 0)
                goto fail;
            http_port = bound_port(fd);
            l->http = make_evhttp(l, false);
            l->http_sock = l->http ? evhttp_accept_socket_with_handle(l->http, fd) : NULL;
            if (l->http_sock == NULL) {
                close(fd);
                snprintf(err, errlen, "http.listen: cannot accept on %s", hl);
                goto fail;
            }
        }
        if (sl[0] != '\0') {
            int fd = bind_socket(sl, https_port, err, errlen);
            if (fd < 0)
                goto fail;
            https_port = bound_port(fd);
            l->https = make_evhttp(l, true);
            l->https_sock = l->https ? evhttp_accept_socket_with_handle(l->https, fd) : NULL;
            if (l->https_sock == NULL) {
                close(fd);
                snprintf(err, errlen, "https.listen: cannot accept on %s", sl);
                goto fail;
            }
        }
    }
    sig_term = evsignal_new(srv.loops[0].base, SIGTERM, on_signal, NULL);
    sig_int = evsignal_new(srv.loops[0].base, SIGINT, on_signal, NULL);
    event_add(sig_term, NULL);
    event_add(sig_int, NULL);
    if (server_conf.server.ready_file[0] != '\0' &&
        write_ready_file(server_conf.server.ready_file, http_port, https_port) != 0) {
        snprintf(err, errlen, "server.ready_file: cannot write %s", server_conf.server.ready_file);
        goto fail;
    }
    app_log(LOG_INFO, "http", "msg=serving http_port=%d https_port=%d loops=%d", http_port,
            https_port, n);
    for (int i = 1; i < n; i++)
        pthread_create(&srv.loops[i].thread, NULL, loop_thread, &srv.loops[i]);
    event_base_dispatch(srv.loops[0].base);
    for (int i = 1; i < n; i++)
        pthread_join(srv.loops[i].thread, NULL);
    rc = 0;
fail:
    if (sig_term)
        event_free(sig_term);
    if (sig_int)
        event_free(sig_int);
    if (drain_ev)
        event_free(drain_ev);
    sig_term = sig_int = drain_ev = NULL;
    return rc;
}

void http_cleanup(void)
{
    for (int i = 0; i < srv.nloops; i++) {
        srv_loop *l = &srv.loops[i];
        if (l->http)
            evhttp_free(l->http);
        if (l->https)
            evhttp_free(l->https);
        /* Replies queued after the drain deadline are dropped here. */
        while (l->done_head) {
            struct app_req_private *p = l->done_head;
            l->done_head = p->next;
            req_free(p->req);
        }
        conns_loop_cleanup(l);
        /* The loops have stopped: every line of a clean stop is written. */
        if (l->alog_ev)
            event_free(l->alog_ev);
        logbuf_cleanup(&l->alog);
        if (l->done_ev)
            event_free(l->done_ev);
        if (l->base)
            event_base_free(l->base);
        pthread_mutex_destroy(&l->mu);
    }
    free(srv.loops);
    srv.loops = NULL;
    srv.nloops = 0;
    SSL_CTX_free(srv.ssl_ctx);
    srv.ssl_ctx = NULL;
    route_limits_cleanup();
}

long http_open_connections(void)
{
    return atomic_load(&srv.open_conns);
}

long http_inflight(void)
{
    return atomic_load(&srv.inflight);
}
