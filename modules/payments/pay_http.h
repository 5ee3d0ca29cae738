/* pay_http.h - the blocking HTTPS client onetripd uses to call payment
 * channels (trade query, refund, statement, prepay), built on libcurl:
 * certificates are verified against the system trust store or a configured
 * CA file, the host name is checked, only https:// is spoken (an optional
 * proxy is tunnelled through with CONNECT), and every call has a connect
 * and a total timeout. Idempotent calls are retried with backoff after a
 * transport error or a 502/503/504.
 *
 * Blocks for at most about (retries + 1) * timeout_s seconds: call it only
 * from worker threads, jobs and commands, never on an event loop.
 * Thread-safe once pay_http_global_init has run (nothing shared). */
#ifndef ONETRIP_PAYMENTS_PAY_HTTP_H
#define ONETRIP_PAYMENTS_PAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/app.h"

/* How calls are made (from payments_conf; tests build their own). Strings
 * may be NULL or "" (system trust store, no proxy). */
typedef struct pay_http_opts {
    int64_t timeout_s;         /* whole call, per attempt */
    int64_t connect_timeout_s; /* TCP + TLS handshake */
    const char *ca_file;       /* PEM bundle to trust instead of the system store */
    const char *proxy;         /* http://host:port (CONNECT tunnel) */
    int64_t retries;           /* extra attempts of idempotent calls */
    int64_t max_body;          /* largest response body accepted (bytes) */
    bool allow_http;           /* plain http:// too (unit tests only) */
} pay_http_opts;

typedef struct pay_http_req {
    const char *method;           /* "GET" | "POST" */
    const char *url;
    const char *const *headers;   /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;             /* POST only; may be NULL */
    size_t body_len;
    bool idempotent;              /* safe to send again (queries, downloads) */
} pay_http_req;

typedef struct pay_http_resp {
    int status;            /* 0 when no response arrived */
    char *body;            /* malloc'd, NUL-terminated (may contain NULs) */
    size_t body_len;
    app_kv *headers;       /* response headers of the last attempt, malloc'd */
    int nheaders;
    int attempts;          /* calls made */
    char error[256];       /* why no response arrived (libcurl's words), or "" */
} pay_http_resp;

/* Once per process, before any thread calls pay_http_request (libcurl's
 * global init is not thread-safe). Returns 0 or -1. */
int pay_http_global_init(void);

/* Returns 0 when a response arrived (any status; a body over max_body is
 * an error, "response_too_large"), -1 otherwise with resp->error set.
 * resp is always initialised; free it with pay_http_resp_free. */
int pay_http_request(const pay_http_opts *o, const pay_http_req *rq, pay_http_resp *resp);
void pay_http_resp_free(pay_http_resp *resp);
/* Header lookup for pay_input.header (ctx = pay_http_resp *). */
const char *pay_http_resp_header(const void *ctx, const char *name);

#endif
