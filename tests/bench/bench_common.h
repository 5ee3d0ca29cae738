/* bench_common.h - small helpers shared by the C load clients of ops/bench:
 * a monotonic clock, latency samples and their percentiles as JSON. */
#ifndef ONETRIP_BENCH_COMMON_H
#define ONETRIP_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Latency samples in microseconds; one per thread, merged at the end. */
typedef struct bench_lat {
    uint32_t *v;
    size_t n, cap;
} bench_lat;

static inline void bench_lat_add(bench_lat *l, int64_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        uint32_t *v = realloc(l->v, cap * sizeof *v);

        if (v == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static inline void bench_lat_merge(bench_lat *into, const bench_lat *from)
{
    for (size_t i = 0; i < from->n; i++)
        bench_lat_add(into, from->v[i]);
}

static int bench_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static inline double bench_pct_ms(bench_lat *l, double p)
{
    size_t i = 0;

    if (l->n == 0)
        return 0;
    i = (size_t)((double)l->n * p);
    if (i >= l->n)
        i = l->n - 1;
    return l->v[i] / 1000.0;
}

/* {"requests":N,"errors":E,"seconds":S,"rps":R,"p50_ms":..,"p99_ms":..,"p999_ms":..} */
static inline void bench_print_json(bench_lat *l, long errors, double seconds)
{
    qsort(l->v, l->n, sizeof *l->v, bench_cmp_u32);
    printf("{\"requests\":%zu,\"errors\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
           l->n, errors, seconds, seconds > 0 ? (double)l->n / seconds : 0.0,
           bench_pct_ms(l, 0.5), bench_pct_ms(l, 0.99), bench_pct_ms(l, 0.999),
           l->n ? l->v[l->n - 1] / 1000.0 : 0.0);
}

#endif
