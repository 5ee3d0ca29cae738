/* logbuf.c - see logbuf.h. */
#include "server/logbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/app.h"
#include "server/log.h"

/* Serialises the write()s of every logbuf and log_raw_line. */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static int write_all_locked(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    int rc;
    pthread_mutex_lock(&write_mu);
    rc = write_all_locked(fd, p, n);
    pthread_mutex_unlock(&write_mu);
    return rc;
}

void logbuf_init(logbuf *b, int fd, size_t cap)
{
    b->cap = cap < 256 ? 256 : cap;
    b->p = app_malloc(b->cap);
    b->len = 0;
    b->fd = fd;
}

void logbuf_cleanup(logbuf *b)
{
    if (b->p != NULL)
        (void)logbuf_flush(b);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int logbuf_flush(logbuf *b)
{
    int rc;
    if (b->len == 0)
        return 0;
    rc = write_all(b->fd, b->p, b->len);
    b->len = 0;
    return rc;
}

char *logbuf_reserve(logbuf *b, size_t n)
{
    if (n + 1 > b->cap)
        return NULL;
    if (b->len + n + 1 > b->cap)
        (void)logbuf_flush(b);
    return b->p + b->len;
}

void logbuf_commit(logbuf *b, size_t n)
{
    b->p[b->len + n] = '\n';
    b->len += n + 1;
}

void logbuf_line(logbuf *b, const char *line, size_t n)
{
    char *at = logbuf_reserve(b, n);
    if (at == NULL) {
        /* Longer than the buffer: after what is buffered, in one write. */
        char *copy = app_malloc(n + 1);
        memcpy(copy, line, n);
        copy[n] = '\n';
        (void)logbuf_flush(b);
        (void)write_all(b->fd, copy, n + 1);
        free(copy);
        return;
    }
    memcpy(at, line, n);
    logbuf_commit(b, n);
}

void log_raw_line(const char *line)
{
    size_t n = strlen(line);
    char *copy = app_malloc(n + 1);
    memcpy(copy, line, n);
    copy[n] = '\n';
    (void)write_all(STDOUT_FILENO, copy, n + 1);
    free(copy);
}
