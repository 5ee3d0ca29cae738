/* util.c - allocation wrappers and the process logger. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/app.h"
#include "server/log.h"

/* Out-of-memory aborts here, so callers don't grow untested branches. */
static void oom(size_t n)
{
    fprintf(stderr, "level=fatal module=core msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *app_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *app_calloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (p == NULL)
        oom(n * m);
    return p;
}

char *app_strdup(const char *s)
{
    return app_strndup(s, strlen(s));
}

char *app_strndup(const char *s, size_t n)
{
    char *p = app_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static atomic_int log_level = 2;

void log_set_level(int level)
{
    atomic_store(&log_level, level);
}

int log_level_enabled(int level)
{
    return level <= atomic_load(&log_level);
}

int log_parse_level(const char *s)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void app_log(int level, const char *module, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char msg[2048];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    /* Gate by level before any formatting. */
    if (!log_level_enabled(level))
        return;
    if (level < 0)
        level = 0;
    if (level > 3)
        level = 3;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One line per event; a single fprintf keeps lines whole across threads. */
    fprintf(stderr, "ts=%s.%03ldZ level=%s module=%s %s\n", ts, now.tv_nsec / 1000000L,
            names[level], module, msg);
}
