/* http_internal.h - private structures shared by the HTTP front end files
 * (http.c, conns.c, req.c, workers.c, idempotency.c). Not for modules. */
#ifndef ONETRIP_HTTP_INTERNAL_H
#define ONETRIP_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "server/app.h"
#include "server/logbuf.h"
#include "server/router.h"

typedef struct srv_loop srv_loop;
typedef struct conn_track conn_track;

/* Framework-private part of a request. Created on the loop thread, handed to
 * a worker (which owns it until it posts it back), then freed on the loop
 * thread after the reply. */
struct app_req_private {
    srv_loop *loop;
    struct evhttp_request *ev;   /* loop thread only; never touched by workers */
    router_match match;
    int64_t start_ns;
    uint64_t conn_serial;        /* identifies the connection tracker */
    int conn_fd;
    bool idem_claimed;           /* this request holds an in-flight key row */
    bool idem_stored;            /* response already stored in app_tx */
    int64_t idem_row;            /* id of the key row */
    int64_t idem_claim_no;       /* claim number we hold it under */
    char *query_raw;
    bool resp_static;            /* resp_body is static storage: never freed */
    struct app_req_private *next;/* completion queue link */
    app_req *req;
    char path_buf[128];          /* r->path when it fits (no allocation) */
};

struct srv_loop {
    int index;
    struct event_base *base;
    struct evhttp *http;         /* plain HTTP, or NULL */
    struct evhttp *https;        /* TLS, or NULL */
    struct evhttp_bound_socket *http_sock, *https_sock;
    struct event *done_ev;       /* made active by workers */
    struct event *sweep_ev;      /* connection sweeper timer */
    pthread_mutex_t mu;          /* guards done queue */
    struct app_req_private *done_head, *done_tail;
    pthread_t thread;
    logbuf alog;                 /* access-log lines not yet written */
    struct event *alog_ev;       /* flushes alog every log.access_flush_ms */
    conn_track *conns;           /* list of tracked connections */
    conn_track **by_fd;          /* fd -> tracker, for live connections */
    int by_fd_cap;
};

/* ---- global server state (set up once in http_serve) ---- */
typedef struct srv_state {
    router *rt;
    SSL_CTX *ssl_ctx;
    atomic_int shutting_down;
    atomic_long inflight;        /* requests dispatched and not yet replied */
    atomic_long open_conns;
    int nloops;
    srv_loop *loops;
} srv_state;
extern srv_state srv;

/* The reason phrase of an HTTP status (RFC 9110); "Error" for an unlisted
 * 4xx/5xx, "OK" below 400. */
const char *http_reason_phrase(int status);

/* conns.c */
struct bufferevent *conns_on_new_plain(struct event_base *base, void *arg);
struct bufferevent *conns_on_new_tls(struct event_base *base, void *arg);
int conns_loop_init(srv_loop *l);
void conns_loop_cleanup(srv_loop *l);
/* For a request's connection: tracker (NULL if unknown). */
conn_track *conns_for_request(srv_loop *l, struct evhttp_request *req);
/* Loop thread of t. busy = true claims t for a dispatched request: false
 * when t is being closed (another loop chose it to make room at a cap), and
 * then the request must not go to a worker. busy = false after the reply
 * (always true). */
bool conns_set_busy(conn_track *t, bool busy);
conn_track *conns_find(srv_loop *l, int fd, uint64_t serial);
/* Loop thread: a live connection of l still has response bytes to write. */
bool conns_output_pending(srv_loop *l);
uint64_t conns_serial(const conn_track *t);
int conns_fd(const conn_track *t);
bool conns_rejected(const conn_track *t);
const char *conns_peer(const conn_track *t);
/* Verified client certificate fingerprint, "" if none. */
const char *conns_cert_sha256(conn_track *t);

/* req.c */
/* One allocation holds the request and its private part. */
app_req *req_new(void);
void req_free(app_req *r);
/* Sets r->path to a copy of path (in priv->path_buf when it fits). */
void req_set_path(app_req *r, const char *path);
/* r's response body is static data (never freed): for constant replies. */
void req_reply_static(app_req *r, int status, const char *type, const char *data, size_t len);
/* The RFC 9457 problem body req_set_problem sends, as malloc'd compact JSON:
 * members type, title, status, code, then detail, field and request_id when
 * given, then extra's members not already there (extra is not consumed).
 * Built without jansson's object tree when extra is NULL and every string
 * is valid UTF-8 (byte-identical to jansson's output; the unit test compares
 * them). */
char *req_problem_json(int status, const char *code, const char *title, const char *detail,
                       const char *field, const char *request_id, json_t *extra);
/* Fill problem body into r; used by http.c too. */
void req_set_problem(app_req *r, int status, const char *code, const char *title,
                     const char *detail, const char *field, json_t *extra);

/* workers.c */
int workers_start(int n, int queue_cap, const db_config *dbc);
/* Queue r for a worker; -1 when the queue is full (caller answers 503). */
int workers_submit(app_req *r);
void workers_stop(void);
int workers_queue_depth(void);
int workers_busy(void);

/* dispatch.c: runs on a worker */
void dispatch_run(app_req *r);

/* http.c: hand a finished request back to its loop (any thread). */
void http_complete(app_req *r);

/* route_limits.c: the rate limits routes declare (app_rate_limit). */
/* Builds one table per distinct limit of rt's routes; -1 with err when a
 * limit's configuration is out of range. Call before the loops start. */
int route_limits_init(const router *rt, char *err, size_t errlen);
void route_limits_cleanup(void);
/* Loop thread: 0 = admitted; -1 = refused, 429 problem set in r. */
int route_limits_admit(app_req *r);

/* idempotency.c (worker side) */
/* Returns 1 = proceed (claimed or not required), 0 = response already set
 * (replay, conflict or error). */
int idem_begin(app_req *r);
/* What a request finds under its key when the claim is refused as taken. */
typedef struct idem_seen {
    bool same_request;   /* same fingerprint */
    bool done;           /* a response is stored */
    int64_t age_s;       /* since the claim was made or last taken over */
    bool has_owner;      /* the claim names an incarnation */
    bool owner_known;    /* that incarnation's row exists */
    bool owner_stopped;  /* it stopped gracefully or was found dead */
    int64_t owner_silent_s; /* since its last heartbeat */
} idem_seen;
typedef enum {
    IDEM_REUSED,    /* 422: different request under the key */
    IDEM_REPLAY,    /* the stored response */
    IDEM_IN_FLIGHT, /* 409: a live process is working on it */
    IDEM_TAKE_OVER, /* orphaned (dead process) or stale: claim it */
} idem_verdict;
/* The decision on a key already claimed. Pure (unit-tested). */
idem_verdict idem_decide(const idem_seen *k, int64_t stale_s, int64_t orphan_s);
/* Inside app_tx, before COMMIT: store r's response with the key row. */
int idem_store_in_tx(app_req *r);
/* After the handler: store or release the claim if app_tx did not. */
void idem_finish(app_req *r);

#endif
