/* events.h - the event outbox: business facts written in the business
 * transaction, handed to consumers after commit.
 *
 * A business function calls app_event_emit inside its own transaction (one
 * INSERT): the event exists iff the change committed. The consumer thread
 * (events_start) reads new events in id order and hands each to every
 * consumer that modules declare (app_module.consumers, server/app.h); per
 * consumer, a durable cursor row (app_event_cursors) moves in the SAME
 * transaction as the consumer's own writes. So a crash, a failed consumer
 * transaction or a deadlock never loses an event nor handles it twice: the
 * batch rolls back with the cursor and is read again.
 *
 * Ids are assigned at INSERT, not at commit: a later id may commit first.
 * The reader stops at a gap (a missing id) and waits for it to fill; an id
 * still missing after EVENTS_GAP_WAIT_MS belongs to a rolled-back
 * transaction (auto-increment values are never reused) and is skipped.
 *
 * A consumer that keeps failing on one event blocks its own cursor (logged
 * each time, retried with backoff); other consumers go on. Several
 * instances may run the thread: a cursor row is taken with FOR UPDATE SKIP
 * LOCKED, so one instance at a time serves each consumer. */
#ifndef ONETRIP_EVENTS_H
#define ONETRIP_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"
#include "server/app.h"

/* How long a gap in the ids is waited for before it is skipped. */
#define EVENTS_GAP_WAIT_MS 5000
/* At most this many events per consumer transaction. */
#define EVENTS_BATCH 100

/* Writes one event in the caller's transaction. who: the acting principal
 * (NULL: the system); type "violations.handled"; subject: what it is
 * about ("licence", 42); payload: a JSON object (stolen; NULL = {}).
 * Returns 0, or -1 with the database error left in c (the caller rolls
 * back). Blocks (database); worker threads, jobs and CLI only. */
int app_event_emit(db_conn *c, const app_principal *who, const char *type,
                   const char *subject_kind, int64_t subject_id, json_t *payload);

/* One pass over the given consumers on c: for each, at most one batch in
 * one transaction. *handled (may be NULL) gets the number of events handed
 * over. Returns 0, or -1 when a consumer's batch failed (rolled back, its
 * cursor unmoved; logged). Exposed for tests and the thread. Blocks. */
int events_run_once(db_conn *c, const app_consumer *const *consumers, int n, int64_t *handled);

/* The consumer thread over every module's consumers (own connection);
 * polls every EVENTS_POLL_MS. */
#define EVENTS_POLL_MS 200
int events_start(const db_config *dbc);
void events_stop(void);

#endif
