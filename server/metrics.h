/* metrics.h - process counters exported in Prometheus text format.
 * Every update is a relaxed atomic: callable from any thread, never blocks. */
#ifndef ONETRIP_METRICS_H
#define ONETRIP_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Size the per-route table; names are "METHOD pattern". Call once. */
void metrics_init(int nroutes, const char *const *route_names);
/* route -1 = no route matched. */
void metrics_request(int route, int status, int64_t duration_us);
void metrics_conn_rejected(void);
void metrics_conn_timeout(void);
void metrics_conn_evicted(void);
void metrics_conn_silent(void);
void metrics_queue_full(void);
void metrics_db_error(void);
void metrics_job_run(const char *job, int ok, int64_t count, int64_t duration_ms);
/* Render the exposition; returns malloc'd text. Gauges are read through
 * the callbacks below (set by the server). */
char *metrics_render(size_t *len);

typedef struct metrics_gauges {
    long (*queue_depth)(void);
    long (*workers_busy)(void);
    long (*workers_total)(void);
    long (*open_connections)(void);
    long (*inflight)(void);
} metrics_gauges;
void metrics_set_gauges(const metrics_gauges *g);

#endif
