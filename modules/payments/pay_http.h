/* pay_http.h - a small blocking HTTP/1.1 client for talking to payment
 * channels (trade query, refund, statement), built on libevent's evhttp
 * client with a private event_base per call, so it can run on any worker
 * or job thread without touching the server's loops. No HTTPS (the channel
 * gateways of this deployment are reached through the egress proxy / the
 * simulator on loopback).
 *
 * Blocks for at most timeout_s seconds. Thread-safe (nothing shared). */
#ifndef ONETRIP_PAYMENTS_PAY_HTTP_H
#define ONETRIP_PAYMENTS_PAY_HTTP_H

#include <stddef.h>

#include "server/app.h"

typedef struct pay_http_resp {
    int status;            /* 0 when no response arrived */
    char *body;            /* malloc'd, NUL-terminated (may contain NULs) */
    size_t body_len;
    app_kv *headers;       /* response headers, malloc'd */
    int nheaders;
} pay_http_resp;

/* method "GET" or "POST"; body/ctype may be NULL. Returns 0 when a response
 * arrived (any status), -1 on a connection error or timeout. resp is always
 * initialised; free it with pay_http_resp_free. */
int pay_http_request(const char *method, const char *url, const char *ctype, const char *body,
                     size_t body_len, int timeout_s, pay_http_resp *resp);
void pay_http_resp_free(pay_http_resp *resp);
/* Header lookup for pay_input.header (ctx = pay_http_resp *). */
const char *pay_http_resp_header(const void *ctx, const char *name);

#endif
