/* pay_http.c - see pay_http.h. One easy handle and one connection per call:
 * channel calls are rare (jobs, refunds, order creation), so simplicity
 * beats pooling. libcurl rather than evhttp + bufferevent_openssl because
 * verified TLS with host-name checks, connect and total timeouts, proxies
 * (CONNECT) and chunked/compressed bodies are all built in and well tested
 * there; with evhttp each would be ours to write and get right. */
#include "modules/payments/pay_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct sink {
    pay_http_resp *resp;
    size_t cap, max;
    bool too_large;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;

    if (s->resp->body_len + len > s->max) {
        s->too_large = true;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    if (s->resp->body_len + len + 1 > s->cap) {
        s->cap = (s->resp->body_len + len + 1) * 2;
        if (s->cap > s->max + 1)
            s->cap = s->max + 1;
        s->resp->body = realloc(s->resp->body, s->cap);
        if (s->resp->body == NULL)
            abort();
    }
    memcpy(s->resp->body + s->resp->body_len, p, len);
    s->resp->body_len += len;
    s->resp->body[s->resp->body_len] = '\0';
    return len;
}

static void clear_headers(pay_http_resp *r)
{
    for (int i = 0; i < r->nheaders; i++) {
        free(r->headers[i].key);
        free(r->headers[i].val);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
}

/* Keeps the headers of the last response only: a status line (a proxy's
 * CONNECT answer, a 100 Continue) starts a new set. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    pay_http_resp *r = arg;
    size_t len = size * n, kl, vs, ve;
    const char *colon;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        clear_headers(r);
        return len;
    }
    colon = memchr(p, ':', len);
    if (colon == NULL || r->nheaders >= 100)
        return len;
    kl = (size_t)(colon - p);
    vs = kl + 1;
    while (vs < len && (p[vs] == ' ' || p[vs] == '\t'))
        vs++;
    ve = len;
    while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' || p[ve - 1] == ' '))
        ve--;
    r->headers = realloc(r->headers, (size_t)(r->nheaders + 1) * sizeof(app_kv));
    if (r->headers == NULL)
        abort();
    r->headers[r->nheaders].key = app_strndup(p, kl);
    r->headers[r->nheaders].val = app_strndup(p + vs, ve - vs);
    r->nheaders++;
    return len;
}

int pay_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* Worth another attempt of an idempotent call: the network or an
 * overloaded gateway, never a certificate or a refusal. */
static bool transient(CURLcode rc, int status)
{
    switch (rc) {
    case CURLE_OK:
        return status == 502 || status == 503 || status == 504;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return true;
    default:
        return false;
    }
}

static CURLcode attempt(const pay_http_opts *o, const pay_http_req *rq, struct curl_slist *hl,
                        pay_http_resp *resp, char *errbuf)
{
    CURL *h = curl_easy_init();
    sink s = {resp, 0, o->max_body > 0 ? (size_t)o->max_body : 8u << 20, false};
    long status = 0;
    CURLcode rc;

    if (h == NULL)
        return CURLE_FAILED_INIT;
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    /* https only (http too for unit tests); redirects are not followed. */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o->allow_http ? "https,http" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca_file && o->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    if (o->proxy && o->proxy[0]) {
        curl_easy_setopt(h, CURLOPT_PROXY, o->proxy);
        curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_PROXY, ""); /* ignore *_proxy variables */
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)o->connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)o->timeout_s);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "onetripd");
    if (strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    rc = curl_easy_perform(h);
    if (s.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        rc = CURLE_FILESIZE_EXCEEDED;
        snprintf(errbuf, CURL_ERROR_SIZE, "response_too_large: over %zu bytes", s.max);
    }
    if (rc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        resp->status = (int)status;
    if (rc != CURLE_OK && errbuf[0] == '\0')
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
    curl_easy_cleanup(h);
    return rc;
}

int pay_http_request(const pay_http_opts *o, const pay_http_req *rq, pay_http_resp *resp)
{
    struct curl_slist *hl = NULL, *t;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode rc = CURLE_FAILED_INIT;
    int tries = 1 + (rq->idempotent && o->retries > 0 ? (int)o->retries : 0);

    memset(resp, 0, sizeof *resp);
    /* Expect: 100-continue would cost a round trip per POST. */
    hl = curl_slist_append(hl, "Expect:");
    for (int i = 0; hl && rq->headers && rq->headers[i]; i++)
        if ((t = curl_slist_append(hl, rq->headers[i])) != NULL)
            hl = t;
    if (hl == NULL)
        abort();
    for (int i = 0; i < tries; i++) {
        if (i > 0) {
            /* 250 ms, 500 ms, 1 s ... at most 4 s between attempts */
            long ms = 250L << (i - 1 < 4 ? i - 1 : 4);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            free(resp->body);
            clear_headers(resp);
            resp->body = NULL;
            resp->body_len = 0;
            resp->status = 0;
        }
        resp->attempts = i + 1;
        rc = attempt(o, rq, hl, resp, errbuf);
        if (!transient(rc, resp->status))
            break;
    }
    curl_slist_free_all(hl);
    if (rc != CURLE_OK) {
        snprintf(resp->error, sizeof resp->error, "%s", errbuf);
        resp->status = 0;
        return -1;
    }
    if (resp->body == NULL)
        resp->body = app_calloc(1, 1);
    return 0;
}

void pay_http_resp_free(pay_http_resp *resp)
{
    if (resp == NULL)
        return;
    clear_headers(resp);
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
