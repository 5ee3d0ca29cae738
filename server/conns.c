/* conns.c - connection accounting for evhttp 2.1, which has no connection
 * cap and whose timeout restarts on every read.
 *
 * evhttp asks us (bevcb) for each accepted connection's bufferevent. We keep
 * an extra reference on it, so after evhttp frees the connection the
 * bufferevent (and its fd) stay valid until the sweeper notices that evhttp
 * dropped it (its event callback was cleared by bufferevent_free) and
 * releases our reference. A callback on the bufferevent's input buffer tells
 * us when the client sent its first byte and when it last sent one. That
 * gives us, without patching libevent:
 *  - a total and a per-address cap that do not lock newcomers out: at a cap
 *    an older connection is closed to admit the new one (see pick_victim);
 *    only when every candidate is busy with a request is the new one shut;
 *  - a first-byte deadline: a connection that sends nothing within
 *    http.first_byte_timeout_s of its accept (TLS: no handshake), or no
 *    request byte within as long after its TLS handshake, is shut down, so
 *    silent connections do not hold resources until evhttp's idle timeout;
 *  - a deadline for receiving a whole request: a connection that is not
 *    being answered and has spent longer than http.request_timeout_s since
 *    its last reply (or accept) is shut down, however slowly it trickles.
 * Closing means shutdown(): evhttp reads EOF and frees the connection.
 * All of this runs on the connection's loop thread, except making room at a
 * cap: the caps count every loop's connections, so the admitting loop picks
 * its victim among all of them (the same choice as with one loop; a loop
 * that could only close its own would refuse a newcomer while another loop
 * held idle ones). Closing is a shutdown() of the victim's fd, which any
 * thread may do; the victim's own loop then sees EOF as usual. For that,
 * conns_mu guards every loop's list links, the per-address table and each
 * tracker's counted/addr; the fields a victim is chosen by are atomics
 * written by the owning loop only; and the busy/killed state is one atomic
 * word, so a connection whose request was just dispatched can never be
 * closed by another loop (the claim of one fails the other). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
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

typedef struct ip_count ip_count;

struct conn_track {
    struct bufferevent *bev;
    struct evbuffer_cb_entry *in_cb; /* on the input buffer: notes client bytes */
    srv_loop *loop;
    int fd;
    uint64_t serial;
    bool tls;
    atomic_int state; /* ST_BUSY | ST_KILLED, see claim_busy and claim_kill */
    bool admitted;   /* on_admit ran: no pending event refers to us */
    bool counted;    /* included in the caps (addr is set); under conns_mu */
    bool rejected;   /* refused at admission */
    atomic_bool asked; /* the client has sent a request byte (after TLS: decrypted) */
    bool waiting;    /* the first-byte deadline runs (since wait_ms) */
    bool cert_done;
    int64_t accept_ms;      /* when accepted */
    int64_t wait_ms;        /* start of the first-byte wait: accept, or TLS handshake done */
    atomic_llong active_ms; /* last sign of life from the client, or last reply */
    int64_t phase_start_ms; /* accept or last reply: start of the request deadline */
    ip_count *addr;         /* per-address entry; valid while counted; under conns_mu */
    char peer[64];
    char cert_sha256[65];
    conn_track *next, *prev;
};

/* state bits. BUSY: a request of this connection is being handled (set and
 * cleared by its loop). KILLED: shut down by us (cap, deadline); never
 * cleared. */
#define ST_BUSY 1
#define ST_KILLED 2

static atomic_ulong serial_counter;
/* Connections that count against the caps: admitted (so in accept order: a
 * newcomer never counts those accepted after it) and not shut down by us
 * (those only await evhttp's EOF). */
static atomic_long counted_conns;

/* ---- per-address counts, shared by all loops ----
 * The key is the IPv4 address, or the /64 prefix of an IPv6 address (one
 * subscriber usually holds a whole /64, so counting single IPv6 addresses
 * would make the per-address cap meaningless). */
#define IP_BUCKETS 1024
struct ip_count {
    char key[80];
    int n;
    struct ip_count *next;
};
static ip_count *ip_table[IP_BUCKETS];
/* Guards ip_table, every loop's list links (l->conns, next, prev) and each
 * tracker's counted and addr. Taken per connection (accept, close) and at a
 * cap, never per request. */
static pthread_mutex_t conns_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned ip_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % IP_BUCKETS;
}

/* Counts one more connection for key; returns its entry (valid until the
 * matching ip_release) and the new count in *n. conns_mu held. */
static ip_count *ip_acquire(const char *key, int *n)
{
    unsigned b = ip_hash(key);
    ip_count *e;

    for (e = ip_table[b]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            break;
    if (e == NULL) {
        e = app_calloc(1, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", key);
        e->next = ip_table[b];
        ip_table[b] = e;
    }
    *n = ++e->n;
    return e;
}

/* conns_mu held. */
static void ip_release(ip_count *e)
{
    ip_count **pp;

    if (--e->n <= 0) {
        for (pp = &ip_table[ip_hash(e->key)]; *pp != NULL; pp = &(*pp)->next)
            if (*pp == e) {
                *pp = e->next;
                free(e);
                break;
            }
    }
}

/* Fills t->peer (for logs and handlers) and key (for the per-address count)
 * from the socket's peer address. */
static void peer_of(conn_track *t, char *key, size_t keycap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    t->peer[0] = '\0';
    if (getpeername(t->fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, t->peer, sizeof t->peer);
        } else if (ss.ss_family == AF_INET6) {
            const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
            inet_ntop(AF_INET6, a, t->peer, sizeof t->peer);
            if (!IN6_IS_ADDR_V4MAPPED(a)) {
                struct in6_addr prefix = *a;
                char buf[INET6_ADDRSTRLEN];
                memset(prefix.s6_addr + 8, 0, 8);
                inet_ntop(AF_INET6, &prefix, buf, sizeof buf);
                snprintf(key, keycap, "%s/64", buf);
                return;
            }
        }
    }
    if (t->peer[0] == '\0')
        snprintf(t->peer, sizeof t->peer, "unknown");
    snprintf(key, keycap, "%s", t->peer);
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

/* Whether evhttp still owns the connection (bufferevent_free clears the
 * callbacks; only our reference keeps the bufferevent then). */
static bool evhttp_holds(const conn_track *t)
{
    bufferevent_event_cb ecb = NULL;
    bufferevent_getcb(t->bev, NULL, NULL, &ecb, NULL);
    return ecb != NULL;
}

/* Releases trackers whose connection evhttp has freed. */
static void reap(srv_loop *l)
{
    conn_track *t = l->conns, *next;
    for (; t != NULL; t = next) {
        next = t->next;
        /* Not before on_admit ran: its event still points at t. */
        if (t->admitted && !evhttp_holds(t))
            release(l, t);
    }
}

/* Marks t killed, unless it is already, or unless_busy and a request of t
 * is being handled. Exactly one caller wins. */
static bool claim_kill(conn_track *t, bool unless_busy)
{
    int s = atomic_load(&t->state);
    do {
        if ((s & ST_KILLED) || (unless_busy && (s & ST_BUSY)))
            return false;
    } while (!atomic_compare_exchange_weak(&t->state, &s, s | ST_KILLED));
    return true;
}

/* After a won claim_kill, conns_mu held (t's fd stays open while t is in
 * its list): shuts t down; evhttp reads EOF and frees it, the sweeper
 * releases it. From now on t no longer counts against either cap. */
static void shut_locked(conn_track *t)
{
    if (t->counted) {
        ip_release(t->addr);
        atomic_fetch_sub(&counted_conns, 1);
        t->counted = false;
        t->addr = NULL;
    }
    shutdown(t->fd, SHUT_RDWR);
}

/* Loop thread of t: shuts t down (unless_busy: only when no request of t is
 * being handled). */
static void kill_conn(conn_track *t, bool unless_busy)
{
    if (!claim_kill(t, unless_busy))
        return;
    pthread_mutex_lock(&conns_mu);
    shut_locked(t);
    pthread_mutex_unlock(&conns_mu);
}

/* Input-buffer callback: runs on the loop thread whenever evhttp's input
 * buffer changes; bytes added came from the client. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    conn_track *t = arg;
    (void)buf;
    if (info->n_added > 0) {
        atomic_store_explicit(&t->asked, true, memory_order_relaxed);
        t->waiting = false;
        atomic_store_explicit(&t->active_ms, now_ms(), memory_order_relaxed);
    }
}

/* TLS progress (OpenSSL info callback, on the loop thread inside SSL_read/
 * SSL_do_handshake). A TLS client's first bytes are its handshake: they end
 * the first wait. The handshake itself is bounded by the request deadline;
 * once it is done the client gets another first-byte wait for its request,
 * so a burst of handshakes that a slow client completes late is not cut. */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
    conn_track *t = SSL_get_app_data(ssl);
    (void)ret;
    if (t == NULL || atomic_load_explicit(&t->asked, memory_order_relaxed))
        return;
    /* ACCEPT_LOOP: a handshake message arrived or left (not ACCEPT_EXIT,
     * which SSL_accept reports on every return, waiting for bytes too). */
    if ((where & SSL_ST_ACCEPT) && (where & SSL_CB_LOOP)) {
        t->waiting = false;
        atomic_store_explicit(&t->active_ms, now_ms(), memory_order_relaxed);
    }
    if (where & SSL_CB_HANDSHAKE_DONE) {
        t->waiting = true;
        t->wait_ms = now_ms();
        atomic_store_explicit(&t->active_ms, t->wait_ms, memory_order_relaxed);
    }
}

/* Which connection, of any loop, to close so that a newcomer of loop l fits.
 *  - Never the newcomer, one being answered (busy: the work is under way),
 *    or one already closing.
 *  - same_addr != NULL (the newcomer's address is at its cap): only that
 *    address's connections; its own connections make room for it.
 *  - Otherwise (the total cap): first the address holding the most
 *    connections, so one client or a few cannot keep the others out.
 *  - Then a connection that has sent no request byte before one that has,
 *    then the one idle longest (since its last byte, TLS handshake step or
 *    reply; since accept if none).
 * Another loop's connection that evhttp has already freed (its sweeper has
 * not released it yet: only that loop may look) still counts, and is as
 * good a victim as any. NULL when there is none. conns_mu held.
 * O(connections of all loops), only at a cap. */
static conn_track *pick_victim(srv_loop *l, const conn_track *newcomer, const ip_count *same_addr)
{
    conn_track *best = NULL, *t;
    int best_n = 0;
    bool best_asked = false;
    int64_t best_active = 0;

    for (int i = 0; i < srv.nloops; i++) {
        for (t = srv.loops[i].conns; t != NULL; t = t->next) {
            int n;
            bool asked;
            int64_t active;
            if (t == newcomer || !t->counted || atomic_load(&t->state) != 0 ||
                (t->loop == l && !evhttp_holds(t)))
                continue;
            if (same_addr != NULL && t->addr != same_addr)
                continue;
            n = same_addr != NULL ? 0 : t->addr->n;
            asked = atomic_load_explicit(&t->asked, memory_order_relaxed);
            active = atomic_load_explicit(&t->active_ms, memory_order_relaxed);
            if (best != NULL) {
                if (n != best_n) {
                    if (n < best_n)
                        continue;
                } else if (asked != best_asked) {
                    if (asked)
                        continue;
                } else if (active != best_active) {
                    if (active > best_active)
                        continue;
                } else if (t->serial > best->serial) {
                    continue; /* same millisecond: the older one */
                }
            }
            best = t;
            best_n = n;
            best_asked = asked;
            best_active = active;
        }
    }
    return best;
}

/* Makes room for newcomer t under one cap: closes a victim, or refuses t.
 * Returns false when t was refused. */
static bool make_room(srv_loop *l, conn_track *t, const ip_count *same_addr)
{
    conn_track *v;
    bool room = false;

    pthread_mutex_lock(&conns_mu);
    /* A victim of another loop may turn busy between the pick and the
     * claim; then it is skipped and the next best one is taken. */
    while ((v = pick_victim(l, t, same_addr)) != NULL) {
        if (claim_kill(v, true)) {
            shut_locked(v);
            room = true;
            break;
        }
    }
    if (!room) {
        t->rejected = true;
        if (claim_kill(t, false))
            shut_locked(t);
    }
    pthread_mutex_unlock(&conns_mu);
    if (room)
        metrics_conn_evicted();
    else
        metrics_conn_rejected();
    return room;
}

/* Runs once, on the loop, right after evhttp attached the fd. */
static void on_admit(evutil_socket_t unused_fd, short what, void *arg)
{
    conn_track *t = arg;
    srv_loop *l = t->loop;
    char key[80];
    int per_ip;

    t->admitted = true;
    t->fd = bufferevent_getfd(t->bev);
    if (t->fd < 0 || !evhttp_holds(t))
        return; /* already gone; the sweeper releases it */
    /* Count only live connections: closed ones may await the sweeper. */
    reap(l);
    by_fd_set(l, t->fd, t);
    peer_of(t, key, sizeof key);
    pthread_mutex_lock(&conns_mu);
    t->addr = ip_acquire(key, &per_ip);
    atomic_fetch_add(&counted_conns, 1);
    t->counted = true;
    pthread_mutex_unlock(&conns_mu);
    if (atomic_load(&srv.shutting_down)) {
        t->rejected = true;
        metrics_conn_rejected();
        kill_conn(t, false);
        return;
    }
    /* The per-address cap first: that address pays for its own newcomer. */
    if (per_ip > server_conf.http.max_connections_per_ip && !make_room(l, t, t->addr))
        return;
    if (atomic_load(&counted_conns) > server_conf.http.max_connections)
        (void)make_room(l, t, NULL);
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
    t->accept_ms = t->wait_ms = t->phase_start_ms = now_ms();
    atomic_init(&t->active_ms, t->accept_ms);
    atomic_init(&t->asked, false);
    atomic_init(&t->state, 0);
    t->waiting = true;
    t->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, t);
    if (ssl != NULL) {
        SSL_set_app_data(ssl, t);
        SSL_set_info_callback(ssl, on_tls_info);
    }
    pthread_mutex_lock(&conns_mu);
    t->next = l->conns;
    if (l->conns)
        l->conns->prev = t;
    l->conns = t;
    pthread_mutex_unlock(&conns_mu);
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
    pthread_mutex_lock(&conns_mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        l->conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->counted) {
        ip_release(t->addr);
        atomic_fetch_sub(&counted_conns, 1);
        t->counted = false;
    }
    pthread_mutex_unlock(&conns_mu);
    if (t->fd >= 0 && t->fd < l->by_fd_cap && l->by_fd[t->fd] == t)
        l->by_fd[t->fd] = NULL;
    if (t->in_cb != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_input(t->bev), t->in_cb);
    if (t->tls) {
        SSL *ssl = bufferevent_openssl_get_ssl(t->bev);
        if (ssl != NULL) {
            SSL_set_info_callback(ssl, NULL);
            SSL_set_app_data(ssl, NULL);
        }
    }
    atomic_fetch_sub(&srv.open_conns, 1);
    bufferevent_decref(t->bev); /* last reference: closes the fd */
    free(t);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    srv_loop *l = arg;
    int64_t now = now_ms();
    int64_t deadline = server_conf.http.request_timeout_s * 1000;
    int64_t first_byte = server_conf.http.first_byte_timeout_s * 1000;
    conn_track *t = l->conns, *next;

    reap(l);
    for (t = l->conns; t != NULL; t = next) {
        next = t->next;
        if ((atomic_load(&t->state) & ST_KILLED) || t->fd < 0 || !t->admitted)
            continue;
        if (t->waiting && now - t->wait_ms > first_byte) {
            metrics_conn_silent();
            kill_conn(t, false);
        } else if (!(atomic_load(&t->state) & ST_BUSY) && now - t->phase_start_ms > deadline) {
            metrics_conn_timeout();
            kill_conn(t, true);
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
        if (ecb != NULL && !(atomic_load(&t->state) & ST_KILLED) && evbuffer_get_length(bufferevent_get_output(t->bev)) > 0)
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

bool conns_set_busy(conn_track *t, bool busy)
{
    int s = atomic_load(&t->state);

    if (busy) {
        /* Another loop may be closing t to make room: one claim wins. */
        do {
            if (s & ST_KILLED)
                return false;
        } while (!atomic_compare_exchange_weak(&t->state, &s, s | ST_BUSY));
        return true;
    }
    atomic_fetch_and(&t->state, ~ST_BUSY);
    t->phase_start_ms = now_ms();
    atomic_store_explicit(&t->active_ms, t->phase_start_ms, memory_order_relaxed);
    return true;
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
