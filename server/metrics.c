/* metrics.c - counters for /metrics (Prometheus text exposition 0.0.4). */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/metrics.h"

/* Status codes get their own slot; anything else falls in "other". */
static const int status_slots[] = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405,
                                   408, 409, 410, 413, 415, 422, 429, 431, 500, 501, 502, 503, 504};
#define NSLOTS ((int)(sizeof status_slots / sizeof status_slots[0]) + 1)
static const double bucket_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS ((int)(sizeof bucket_le / sizeof bucket_le[0]))

static int nroutes;
static char **route_names;              /* index nroutes = "unmatched" */
static atomic_ullong *req_counts;       /* (nroutes+1) * NSLOTS */
static atomic_ullong lat_buckets[NBUCKETS + 1];
static atomic_ullong lat_sum_us, lat_count;
static atomic_ullong conn_rejected, conn_timeouts, conn_evicted, conn_silent, queue_full, db_errors;
static metrics_gauges gauges;

#define MAX_JOBS 64
static struct {
    char name[64];
    atomic_ullong ok, failed, items;
    atomic_llong last_duration_ms;
} jobs[MAX_JOBS];
static int njobs;
static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;

void metrics_init(int n, const char *const *names)
{
    nroutes = n;
    route_names = app_calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++)
        route_names[i] = app_strdup(names[i]);
    route_names[n] = app_strdup("unmatched");
    req_counts = app_calloc((size_t)(n + 1) * NSLOTS, sizeof(atomic_ullong));
}

void metrics_set_gauges(const metrics_gauges *g)
{
    gauges = *g;
}

static int slot_of(int status)
{
    for (int i = 0; i < NSLOTS - 1; i++)
        if (status_slots[i] == status)
            return i;
    return NSLOTS - 1;
}

void metrics_request(int route, int status, int64_t duration_us)
{
    double s = (double)duration_us / 1e6;
    int b;

    if (req_counts == NULL)
        return;
    if (route < 0 || route >= nroutes)
        route = nroutes;
    atomic_fetch_add_explicit(&req_counts[route * NSLOTS + slot_of(status)], 1, memory_order_relaxed);
    for (b = 0; b < NBUCKETS && s > bucket_le[b]; b++)
        ;
    atomic_fetch_add_explicit(&lat_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&lat_sum_us, (unsigned long long)(duration_us > 0 ? duration_us : 0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&lat_count, 1, memory_order_relaxed);
}

void metrics_conn_rejected(void) { atomic_fetch_add(&conn_rejected, 1); }
void metrics_conn_timeout(void) { atomic_fetch_add(&conn_timeouts, 1); }
void metrics_conn_evicted(void) { atomic_fetch_add(&conn_evicted, 1); }
void metrics_conn_silent(void) { atomic_fetch_add(&conn_silent, 1); }
void metrics_queue_full(void) { atomic_fetch_add(&queue_full, 1); }
void metrics_db_error(void) { atomic_fetch_add(&db_errors, 1); }

void metrics_job_run(const char *job, int ok, int64_t count, int64_t duration_ms)
{
    int i;
    pthread_mutex_lock(&jobs_mu);
    for (i = 0; i < njobs; i++)
        if (strcmp(jobs[i].name, job) == 0)
            break;
    if (i == njobs && njobs < MAX_JOBS)
        snprintf(jobs[njobs++].name, sizeof jobs[0].name, "%s", job);
    pthread_mutex_unlock(&jobs_mu);
    if (i >= MAX_JOBS)
        return;
    atomic_fetch_add(ok ? &jobs[i].ok : &jobs[i].failed, 1);
    atomic_fetch_add(&jobs[i].items, (unsigned long long)(count > 0 ? count : 0));
    atomic_store(&jobs[i].last_duration_ms, duration_ms);
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
}

/* Label values escape backslash, quote and newline. Route patterns contain
 * none of these, but stay safe. */
static void sb_label(sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            sb_printf(b, "\\%c", *s);
        else if (*s == '\n')
            sb_printf(b, "\\n");
        else
            sb_printf(b, "%c", *s);
    }
}

char *metrics_render(size_t *len)
{
    sbuf b = {app_malloc(8192), 0, 8192};
    unsigned long long cum = 0;

    sb_printf(&b, "# HELP onetrip_http_requests_total HTTP requests by route and status.\n"
                  "# TYPE onetrip_http_requests_total counter\n");
    for (int r = 0; r <= nroutes && req_counts; r++) {
        for (int s = 0; s < NSLOTS; s++) {
            unsigned long long v = atomic_load(&req_counts[r * NSLOTS + s]);
            if (v == 0)
                continue;
            sb_printf(&b, "onetrip_http_requests_total{route=\"");
            sb_label(&b, route_names[r]);
            if (s < NSLOTS - 1)
                sb_printf(&b, "\",status=\"%d\"} %llu\n", status_slots[s], v);
            else
                sb_printf(&b, "\",status=\"other\"} %llu\n", v);
        }
    }
    sb_printf(&b, "# HELP onetrip_http_request_duration_seconds Time from request to reply.\n"
                  "# TYPE onetrip_http_request_duration_seconds histogram\n");
    for (int i = 0; i < NBUCKETS; i++) {
        cum += atomic_load(&lat_buckets[i]);
        sb_printf(&b, "onetrip_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i], cum);
    }
    cum += atomic_load(&lat_buckets[NBUCKETS]);
    sb_printf(&b, "onetrip_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    sb_printf(&b, "onetrip_http_request_duration_seconds_sum %.6f\n",
              (double)atomic_load(&lat_sum_us) / 1e6);
    sb_printf(&b, "onetrip_http_request_duration_seconds_count %llu\n", cum);

#define COUNTER(name, help, v) \
    sb_printf(&b, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %llu\n", \
              (unsigned long long)(v))
#define GAUGE(name, help, fn) \
    sb_printf(&b, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %ld\n", \
              gauges.fn ? gauges.fn() : 0L)
    COUNTER("onetrip_connections_rejected_total",
            "Connections refused at a connection cap (every other one was busy).",
            atomic_load(&conn_rejected));
    COUNTER("onetrip_connections_timed_out_total", "Connections closed by the request deadline.",
            atomic_load(&conn_timeouts));
    COUNTER("onetrip_connections_evicted_total",
            "Idle connections closed at a connection cap to admit a new one.",
            atomic_load(&conn_evicted));
    COUNTER("onetrip_connections_silent_closed_total",
            "Connections closed for sending nothing within the first-byte deadline.",
            atomic_load(&conn_silent));
    COUNTER("onetrip_queue_full_total", "Requests answered 503 because the work queue was full.",
            atomic_load(&queue_full));
    COUNTER("onetrip_db_errors_total", "Database errors seen by request handlers and jobs.",
            atomic_load(&db_errors));
    GAUGE("onetrip_queue_depth", "Requests waiting for a worker.", queue_depth);
    GAUGE("onetrip_workers_busy", "Workers (database connections) in use.", workers_busy);
    GAUGE("onetrip_workers", "Workers (database connections) in the pool.", workers_total);
    GAUGE("onetrip_open_connections", "Open client connections.", open_connections);
    GAUGE("onetrip_inflight_requests", "Requests being handled.", inflight);

    pthread_mutex_lock(&jobs_mu);
    if (njobs > 0) {
        sb_printf(&b, "# HELP onetrip_job_runs_total Job runs by outcome.\n"
                      "# TYPE onetrip_job_runs_total counter\n");
        for (int i = 0; i < njobs; i++) {
            sb_printf(&b, "onetrip_job_runs_total{job=\"%s\",outcome=\"ok\"} %llu\n", jobs[i].name,
                      atomic_load(&jobs[i].ok));
            sb_printf(&b, "onetrip_job_runs_total{job=\"%s\",outcome=\"failed\"} %llu\n", jobs[i].name,
                      atomic_load(&jobs[i].failed));
        }
        sb_printf(&b, "# HELP onetrip_job_items_total Items processed by jobs.\n"
                      "# TYPE onetrip_job_items_total counter\n");
        for (int i = 0; i < njobs; i++)
            sb_printf(&b, "onetrip_job_items_total{job=\"%s\"} %llu\n", jobs[i].name,
                      atomic_load(&jobs[i].items));
        sb_printf(&b, "# HELP onetrip_job_last_duration_seconds Duration of each job's last run.\n"
                      "# TYPE onetrip_job_last_duration_seconds gauge\n");
        for (int i = 0; i < njobs; i++)
            sb_printf(&b, "onetrip_job_last_duration_seconds{job=\"%s\"} %.3f\n", jobs[i].name,
                      (double)atomic_load(&jobs[i].last_duration_ms) / 1000.0);
    }
    pthread_mutex_unlock(&jobs_mu);
    *len = b.len;
    return b.p;
}
