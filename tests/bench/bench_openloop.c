/* bench_openloop.c - an open-loop HTTP load client for ops/bench (what
 * wrk2 does; Debian ships no wrk2): requests are scheduled at a fixed rate,
 * request i at start + i/RATE, whether or not earlier ones were answered,
 * and each latency is measured from its scheduled time, so queueing delay
 * is counted instead of hidden (no coordinated omission). CONNS keep-alive
 * connections, one request in flight on each; a request whose time has
 * come while every connection is busy waits in a queue, its clock running.
 * With TOKENS_FILE each request carries the next app token of the file.
 * Prints one JSON line (rps = answered requests per second).
 *
 *   bench_openloop PORT PATH RATE SECONDS CONNS [TOKENS_FILE] */
#include <event2/event.h>
#include <event2/http.h>

#include "bench_common.h"

typedef struct conn {
    struct evhttp_connection *evcon;
    int busy;
    int64_t scheduled; /* of the request in flight */
} conn;

static struct event_base *base;
static conn *conns;
static int nconns, port;
static const char *path;
static char **tokens;
static size_t ntokens, next_token;
static double rate;
static int64_t start_us, end_us, total, sent, done_n;
static int64_t *queue; /* scheduled times waiting for a connection (ring) */
static size_t qhead, qlen, qcap;
static bench_lat lat;
static long errors;

static void send_on(conn *c, int64_t scheduled);

static void on_reply(struct evhttp_request *req, void *arg)
{
    conn *c = arg;

    if (req == NULL || evhttp_request_get_response_code(req) != 200)
        errors++;
    else
        bench_lat_add(&lat, bench_now_us() - c->scheduled);
    c->busy = 0;
    done_n++;
    if (qlen > 0) {
        int64_t s = queue[qhead];

        qhead = (qhead + 1) % qcap;
        qlen--;
        send_on(c, s);
    } else if (done_n == total) {
        event_base_loopbreak(base);
    }
}

static void send_on(conn *c, int64_t scheduled)
{
    struct evhttp_request *req = evhttp_request_new(on_reply, c);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char auth[4096];

    c->busy = 1;
    c->scheduled = scheduled;
    evhttp_add_header(h, "Host", "127.0.0.1");
    if (ntokens > 0) {
        snprintf(auth, sizeof auth, "Bearer %s", tokens[next_token++ % ntokens]);
        evhttp_add_header(h, "Authorization", auth);
    }
    if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_GET, path) != 0) {
        errors++;
        c->busy = 0;
        done_n++;
    }
}

/* Every millisecond: schedule every request whose time has come. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    int64_t now = bench_now_us();

    (void)fd, (void)what, (void)arg;
    while (sent < total) {
        int64_t when = start_us + (int64_t)((double)sent * 1e6 / rate);
        conn *idle = NULL;

        if (when > now)
            break;
        for (int i = 0; i < nconns && idle == NULL; i++)
            if (!conns[(sent + i) % nconns].busy)
                idle = &conns[(sent + i) % nconns];
        if (idle != NULL) {
            send_on(idle, when);
        } else {
            if (qlen == qcap) {
                fprintf(stderr, "bench_openloop: queue full\n");
                exit(1);
            }
            queue[(qhead + qlen) % qcap] = when;
            qlen++;
        }
        sent++;
    }
}

int main(int argc, char **argv)
{
    struct event *tick = NULL;
    struct timeval ms = {0, 1000};
    double secs = 0;

    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: bench_openloop PORT PATH RATE SECONDS CONNS [TOKENS_FILE]\n");
        return 2;
    }
    port = atoi(argv[1]);
    path = argv[2];
    rate = atof(argv[3]);
    secs = atof(argv[4]);
    nconns = atoi(argv[5]);
    if (rate <= 0 || secs <= 0 || nconns < 1) {
        fprintf(stderr, "bench_openloop: bad arguments\n");
        return 2;
    }
    if (argc == 7) {
        FILE *f = fopen(argv[6], "r");
        char line[4096];
        size_t cap = 0;

        if (f == NULL) {
            perror(argv[6]);
            return 2;
        }
        while (fgets(line, sizeof line, f) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] == '\0')
                continue;
            if (ntokens == cap) {
                cap = cap ? cap * 2 : 1024;
                tokens = realloc(tokens, cap * sizeof *tokens);
            }
            tokens[ntokens++] = strdup(line);
        }
        fclose(f);
    }
    total = (int64_t)(rate * secs);
    qcap = (size_t)total + 1;
    queue = calloc(qcap, sizeof *queue);
    base = event_base_new();
    conns = calloc((size_t)nconns, sizeof *conns);
    for (int i = 0; i < nconns; i++) {
        conns[i].evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1", (unsigned short)port);
        evhttp_connection_set_timeout(conns[i].evcon, 30);
    }
    tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    start_us = bench_now_us();
    end_us = start_us + (int64_t)(secs * 1e6);
    event_add(tick, &ms);
    event_base_dispatch(base);
    bench_print_json(&lat, errors, (double)(bench_now_us() - start_us) / 1e6);
    return 0;
}
