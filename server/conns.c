/* conns.c - connection accounting for evhttp 2.1, which has no connection
 * cap and whose timeout restarts on every read.
 *
 * evhttp asks us (bevcb) for each accepted connection's bufferevent. We keep
 * an extra reference on it, so after evhttp frees the connection the
 * bufferevent (and its fd) stay valid until the sweeper notices that evhttp
 * dropped it (its event callback was cleared by bufferevent_free) and
 * releases our reference. That gives us, without patching libevent:
 *  - a total and a per-address cap: over a cap, the socket is shut down
 *    right after accept and evhttp closes it on the EOF;
 *  - a deadline for receiving a whole request: a connection that is not
 *    being answered and has spent longer than http.request_timeout_s since
 *    its last reply (or accept) is shut down, however slowly it trickles.
 * All of this runs on the connection's loop thread, except the per-address
 * table which the loops share under a mutex. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/x509.h>

#include "server/config.h"
#include "server/crypto.h"
#include "server/http_internal.h"
#include "server/log.h"
#include "server/metrics.h"

struct conn_track {
    struct bufferevent *bev;
    srv_loop *loop;
    int fd;
    uint64_t serial;
    bool tls;
    bool busy;
    bool admitted;   /* on_admit ran: no pending event refers to us */
    bool counted;    /* included in the per-address count */
    bool rejected;
    bool killed;
    bool cert_done;
    int64_t phase_start_ms;
    char peer[64];
    char cert_sha256[65];
    conn_track *next, *prev;
};

static atomic_ulong serial_counter;

/* ---- per-address counts, shared by all loops ---- */
#define IP_BUCKETS 1024
typedef struct ip_count {
    char ip[64];
    int n;
    struct ip_count *next;
} ip_count;
static ip_count *ip_table[IP_BUCKETS];
static pthread_mutex_t ip_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned ip_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % IP_BUCKETS;
}

/* Adds delta to ip's count and returns the new count. */
static int ip_add(const char *ip, int delta)
{
    unsigned b = ip_hash(ip);
    ip_count **pp, *e;
    int n = 0;

    pthread_mutex_lock(&ip_mu);
    for (pp = &ip_table[b]; (e = *pp) != NULL; pp = &e->next)
        if (strcmp(e->ip, ip) == 0)
            break;
    if (e == NULL && delta > 0) {
        e = app_calloc(1, sizeof *e);
        snprintf(e->ip, sizeof e->ip, "%s", ip);
        e->next = ip_table[b];
        ip_table[b] = e;
        pp = &ip_table[b];
    }
    if (e != NULL) {
        e->n += delta;
        n = e->n;
        if (e->n <= 0) {
            *pp = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&ip_mu);
    return n;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void by_fd_set(srv_loop *l, int fd, conn_track *t)
{
    if (fd < 0)
        return;
    if (fd >= l->by_fd_cap) {
        int cap = l->by_fd_cap ? l->by_fd_cap : 1024;
        while (cap <= fd)
            cap *= 2;
        l->by_fd = realloc(l->by_fd, (size_t)cap * sizeof *l->by_fd);
        if (l->by_fd == NULL)
            abort();
        memset(l->by_fd + l->by_fd_cap, 0, (size_t)(cap - l->by_fd_cap) * sizeof *l->by_fd);
        l->by_fd_cap = cap;
    }
    l->by_fd[fd] = t;
}

static void release(srv_loop *l, conn_track *t);

/* Releases trackers whose connection evhttp has freed (bufferevent_free
 * clears the callbacks); only our reference keeps them. */
static void reap(srv_loop *l)
{
    conn_track *t = l->conns, *next;
    for (; t != NULL; t = next) {
        bufferevent_event_cb ecb = NULL;
        next = t->next;
        bufferevent_getcb(t->bev, NULL, NULL, &ecb, NULL);
        /* Not before on_admit ran: its event still points at t. */
        if (ecb == NULL && t->admitted)
            release(l, t);
    }
}

/* Runs once, on the loop, right after evhttp attached the fd. */
static void on_admit(evutil_socket_t unused_fd, short what, void *arg)
{
    conn_track *t = arg;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int per_ip;

    bufferevent_event_cb ecb = NULL;

    t->admitted = true;
    t->fd = bufferevent_getfd(t->bev);
    bufferevent_getcb(t->bev, NULL, NULL, &ecb, NULL);
    if (t->fd < 0 || ecb == NULL)
        return; /* already gone; the sweeper releases it */
    /* Count only live connections: closed ones may await the sweeper. */
    reap(t->loop);
    by_fd_set(t->loop, t->fd, t);
    t->counted = true;
    if (getpeername(t->fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, t->peer, sizeof t->peer);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, t->peer, sizeof t->peer);
    }
    if (t->peer[0] == '\0')
        snprintf(t->peer, sizeof t->peer, "unknown");
    per_ip = ip_add(t->peer, 1);
    if (atomic_load(&srv.open_conns) > server_conf.http.max_connections ||
        per_ip > server_conf.http.max_connections_per_ip || atomic_load(&srv.shutting_down)) {
        /* Refuse: evhttp reads EOF and frees the connection; the sweeper
         * then releases our reference. No request is read from it. */
        t->rejected = true;
        metrics_conn_rejected();
        shutdown(t->fd, SHUT_RDWR);
    }
}

static struct bufferevent *track(struct event_base *base, void *arg, SSL *ssl)
{
    srv_loop *l = arg;
    struct bufferevent *bev;
    conn_track *t;
    struct timeval zero = {0, 0};

    if (ssl != NULL)
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
    else
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL; /* evhttp then makes a plain one: still capped by timeouts */
    bufferevent_incref(bev);
    t = app_calloc(1, sizeof *t);
    t->bev = bev;
    t->loop = l;
    t->fd = -1;
    t->tls = ssl != NULL;
    t->serial = atomic_fetch_add(&serial_counter, 1) + 1;
    t->phase_start_ms = now_ms();
    t->next = l->conns;
    if (l->conns)
        l->conns->prev = t;
    l->conns = t;
    atomic_fetch_add(&srv.open_conns, 1);
    if (event_base_once(base, -1, EV_TIMEOUT, on_admit, t, &zero) != 0)
        app_log(LOG_WARN, "http", "msg=\"cannot schedule connection admission\"");
    return bev;
}

struct bufferevent *conns_on_new_plain(struct event_base *base, void *arg)
{
    return track(base, arg, NULL);
}

struct bufferevent *conns_on_new_tls(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new(srv.ssl_ctx);
    if (ssl == NULL)
        return NULL;
    return track(base, arg, ssl);
}

static void release(srv_loop *l, conn_track *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        l->conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->fd >= 0 && t->fd < l->by_fd_cap && l->by_fd[t->fd] == t)
        l->by_fd[t->fd] = NULL;
    if (t->counted)
        ip_add(t->peer, -1);
    atomic_fetch_sub(&srv.open_conns, 1);
    bufferevent_decref(t->bev); /* last reference: closes the fd */
    free(t);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    srv_loop *l = arg;
    int64_t now = now_ms();
    int64_t deadline = server_conf.http.request_timeout_s * 1000;
    conn_track *t = l->conns, *next;

    reap(l);
    for (t = l->conns; t != NULL; t = next) {
        next = t->next;
        if (!t->busy && !t->killed && t->fd >= 0 && now - t->phase_start_ms > deadline) {
            t->killed = true;
            metrics_conn_timeout();
            shutdown(t->fd, SHUT_RDWR);
        }
    }
}

int conns_loop_init(srv_loop *l)
{
    struct timeval tv = {0, 100 * 1000};
    l->sweep_ev = event_new(l->base, -1, EV_PERSIST, on_sweep, l);
    if (l->sweep_ev == NULL || event_add(l->sweep_ev, &tv) != 0)
        return -1;
    return 0;
}

void conns_loop_cleanup(srv_loop *l)
{
    /* After evhttp_free every connection is gone; release what is left. */
    while (l->conns != NULL)
        release(l, l->conns);
    if (l->sweep_ev)
        event_free(l->sweep_ev);
    l->sweep_ev = NULL;
    free(l->by_fd);
    l->by_fd = NULL;
    l->by_fd_cap = 0;
}

bool conns_output_pending(srv_loop *l)
{
    for (conn_track *t = l->conns; t != NULL; t = t->next) {
        bufferevent_event_cb ecb = NULL;

        /* A connection evhttp has freed (no callbacks) will never write. */
        bufferevent_getcb(t->bev, NULL, NULL, &ecb, NULL);
        if (ecb != NULL && !t->killed && evbuffer_get_length(bufferevent_get_output(t->bev)) > 0)
            return true;
    }
    return false;
}

conn_track *conns_for_request(srv_loop *l, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev;
    int fd;

    if (evcon == NULL)
        return NULL;
    bev = evhttp_connection_get_bufferevent(evcon);
    if (bev == NULL)
        return NULL;
    fd = bufferevent_getfd(bev);
    if (fd < 0 || fd >= l->by_fd_cap || l->by_fd[fd] == NULL || l->by_fd[fd]->bev != bev)
        return NULL;
    return l->by_fd[fd];
}

conn_track *conns_find(srv_loop *l, int fd, uint64_t serial)
{
    if (fd < 0 || fd >= l->by_fd_cap || l->by_fd[fd] == NULL || l->by_fd[fd]->serial != serial)
        return NULL;
    return l->by_fd[fd];
}

void conns_set_busy(conn_track *t, bool busy)
{
    t->busy = busy;
    if (!busy)
        t->phase_start_ms = now_ms();
}

uint64_t conns_serial(const conn_track *t)
{
    return t->serial;
}

int conns_fd(const conn_track *t)
{
    return t->fd;
}

bool conns_rejected(const conn_track *t)
{
    return t->rejected;
}

const char *conns_peer(const conn_track *t)
{
    return t->peer;
}

const char *conns_cert_sha256(conn_track *t)
{
    SSL *ssl;
    X509 *cert;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!t->tls || t->cert_done)
        return t->cert_sha256;
    t->cert_done = true;
    ssl = bufferevent_openssl_get_ssl(t->bev);
    if (ssl == NULL)
        return t->cert_sha256;
    cert = SSL_get0_peer_certificate(ssl);
    /* Only a certificate that chained to the configured CA counts. */
    if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
        return t->cert_sha256;
    if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
        crypto_hex(md, 32, t->cert_sha256);
    return t->cert_sha256;
}
