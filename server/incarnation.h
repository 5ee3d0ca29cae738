/* incarnation.h - this process's identity for Idempotency-Key claims.
 *
 * At start-up `serve` registers an incarnation: a random 128-bit id (32 hex)
 * with the server identity (host name, boot id, pid and the pid's start
 * time) in server_incarnations. A thread of its own (not the job scheduler,
 * which jobs.enabled may switch off and a long job may stall) refreshes
 * heartbeat_at every few seconds; a graceful stop sets stopped_at. Every
 * claim of an Idempotency-Key records the incarnation that made it, so a
 * retry can tell a claim of a live process (protected) from one orphaned by
 * a dead one (taken over at once): see idempotency.c. Several onetripd
 * processes over one database (behind HAProxy) each have their own. */
#ifndef ONETRIP_INCARNATION_H
#define ONETRIP_INCARNATION_H

#include <stdint.h>

#include "db/db.h"

/* Registers this process on c and marks stopped every incarnation of this
 * same host and boot whose process is gone (a kill -9 followed by a
 * restart: its claims are recognised as orphans without waiting for its
 * heartbeat to age). Blocks (database). 0 or -1 (message in err). */
int incarnation_register(db_conn *c, char *err, size_t errlen);
/* Starts the heartbeat thread (own connection from cfg); 0 or -1. */
int incarnation_start(const db_config *cfg);
/* Stops the heartbeat thread and records the graceful stop. Call after the
 * workers stopped (no claim of ours is in flight any more). Blocks. */
void incarnation_stop(void);
/* This process's id (32 hex), or NULL before incarnation_register (CLI
 * commands): claims without an owner fall back to idempotency.stale_s.
 * Valid for the life of the process. */
const char *incarnation_id(void);
/* Seconds between heartbeats for a given orphan limit: a quarter of it,
 * at least 1. Pure. */
int64_t incarnation_beat_s(int64_t orphan_s);

#endif
