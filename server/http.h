/* http.h - the HTTP(S) front end. */
#ifndef ONETRIP_HTTP_H
#define ONETRIP_HTTP_H

#include <stddef.h>
#include "server/router.h"

/* Binds the configured listeners and runs the loops until SIGTERM/SIGINT,
 * then stops accepting, waits for in-flight requests (30 s at most) and
 * returns 0. Workers must already be running. Returns -1 with err set if
 * start-up fails. Call http_cleanup after stopping the workers. */
int http_serve(router *rt, char *err, size_t errlen);
void http_cleanup(void);
long http_open_connections(void);
long http_inflight(void);

#endif
