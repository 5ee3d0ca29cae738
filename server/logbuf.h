/* logbuf.h - a line buffer in front of a log file descriptor, so that the
 * access log costs one write() per flush instead of one per request.
 *
 * Each loop thread owns one logbuf (no lock on append); flushes of all
 * logbufs, and log_raw_line, write under one process mutex, so each write()
 * carries whole lines and lines of different threads never interleave, even
 * on a pipe and above PIPE_BUF. The buffer only ever holds whole lines. The
 * owner flushes on a timer, when a line does not fit, and at shutdown; a
 * crash loses what the buffer held (at most one interval's lines, or cap
 * bytes). */
#ifndef ONETRIP_LOGBUF_H
#define ONETRIP_LOGBUF_H

#include <stddef.h>

typedef struct logbuf {
    char *p;
    size_t len, cap;
    int fd;
} logbuf;

/* cap bytes (at least 256) for fd. Aborts when out of memory. */
void logbuf_init(logbuf *b, int fd, size_t cap);
/* Frees the buffer after a last flush; accepts a never-initialised (zeroed)
 * logbuf. */
void logbuf_cleanup(logbuf *b);
/* Room for a line of n bytes plus its newline: the buffer is flushed first
 * when it lacks room. Returns where to write the line (n + 1 bytes are
 * available); call logbuf_commit with its length then. A line longer than
 * the whole buffer cannot be reserved: NULL (write it with logbuf_line). */
char *logbuf_reserve(logbuf *b, size_t n);
/* Ends the reserved line at n bytes (at most what was reserved), adds '\n'. */
void logbuf_commit(logbuf *b, size_t n);
/* Appends one line (a newline is added), flushing first when it does not
 * fit; a line longer than the buffer is written at once, after the rest. */
void logbuf_line(logbuf *b, const char *line, size_t n);
/* Writes everything buffered (retrying short writes and EINTR). 0 on
 * success; -1 when write() failed, and then the buffered lines are dropped
 * (a log must not stop the loop). */
int logbuf_flush(logbuf *b);

#endif
