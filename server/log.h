/* log.h - process logging controls (app_log itself is in app.h). */
#ifndef ONETRIP_LOG_H
#define ONETRIP_LOG_H

void log_set_level(int level);
int log_level_enabled(int level);
/* "error"|"warn"|"info"|"debug" -> 0..3, -1 if unknown. */
int log_parse_level(const char *s);
/* Write one complete line to stdout at once (server/logbuf.c; the access
 * log buffers its lines per loop thread there instead). */
void log_raw_line(const char *line);

#define LOG_ERROR 0
#define LOG_WARN 1
#define LOG_INFO 2
#define LOG_DEBUG 3

#endif
