/* ratelimit.h - token buckets per key (a client address) in a fixed-size
 * table.
 *
 * Each key has a bucket of at most `burst` tokens that refills at `per_min`
 * tokens a minute. The table has a fixed number of slots, allocated once:
 * keys are stored as a keyed 64-bit hash (SipHash-2-4 with a random
 * per-table key), so memory never grows with the number of addresses. A
 * table is split into sets of RATELIMIT_WAYS slots; a new key takes a free
 * slot of its set, else the slot whose bucket is fullest (a full bucket is
 * the same as no entry), so an exhausted key is the last to be forgotten and
 * flooding the table with fresh addresses does not reset it.
 *
 * Two ways to use a table:
 *  - every request costs a token: ratelimit_take;
 *  - only failures cost (wrong password, bad signature): ratelimit_peek
 *    before the work (refuses while the bucket is empty, takes nothing and
 *    stores nothing for a clean key) and ratelimit_charge after a failure,
 *    which may go into debt down to -burst (so concurrent failures that all
 *    passed the peek still pay, and recovery stays bounded).
 *
 * Thread-safe: one mutex per set, held for a few comparisons; no call
 * allocates, blocks on I/O or sleeps, so the event loop may call them.
 * Times are CLOCK_MONOTONIC nanoseconds supplied by the caller (tests pin
 * them). */
#ifndef ONETRIP_RATELIMIT_H
#define ONETRIP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WAYS 8
#define RATELIMIT_MAX_PER_MIN 60000000
#define RATELIMIT_MAX_BURST 1000000
#define RATELIMIT_MAX_SLOTS (1 << 24)

typedef struct ratelimit ratelimit;

/* slots is rounded up to a multiple of RATELIMIT_WAYS (at least one set).
 * NULL when an argument is out of range (per_min 1..RATELIMIT_MAX_PER_MIN,
 * burst 1..RATELIMIT_MAX_BURST, slots 1..RATELIMIT_MAX_SLOTS). Free with
 * ratelimit_free (accepts NULL). */
ratelimit *ratelimit_new(int slots, int64_t per_min, int64_t burst);
void ratelimit_free(ratelimit *rl);

/* Takes one token from key's bucket: 0 when there was one; -1 otherwise,
 * with *retry_after_s (>= 1, may be NULL) = seconds until the next token. */
int ratelimit_take(ratelimit *rl, const char *key, int64_t now_ns, int *retry_after_s);
/* 0 when key's bucket holds a token (or key is unknown); -1 and
 * *retry_after_s otherwise. Takes nothing, stores nothing. */
int ratelimit_peek(ratelimit *rl, const char *key, int64_t now_ns, int *retry_after_s);
/* Takes one token whatever the bucket holds, down to -burst. */
void ratelimit_charge(ratelimit *rl, const char *key, int64_t now_ns);

/* The key for a client address: IPv4 as is; an IPv4-mapped IPv6 address as
 * its IPv4 address; other IPv6 addresses as their /64 prefix ("2001:db8::/64",
 * one subscriber usually holds a whole /64); anything else copied. out has
 * cap bytes (64 is enough). */
void ratelimit_addr_key(const char *addr, char *out, size_t cap);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t ratelimit_now_ns(void);

#endif
