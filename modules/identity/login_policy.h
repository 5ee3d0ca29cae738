/* login_policy.h - the operator login policy: failed passwords lock out
 * their SOURCE (a client address, or one username at one address), never
 * the account, so nobody can lock an operator out from elsewhere; the right
 * password from a clean address always works.
 *
 * Pure logic, unit-tested (tests/unit/check_auth.c). The state of each
 * source lives in the login_sources table (identity_sql.c), shared by every
 * instance; identity_http.c applies the policy. */
#ifndef ONETRIP_IDENTITY_LOGIN_POLICY_H
#define ONETRIP_IDENTITY_LOGIN_POLICY_H

#include <stddef.h>

/* A source neither failing nor blocked for a day starts afresh. */
#define IDENTITY_LOGIN_FORGET_S 86400L
/* No lockout lasts longer than a day. */
#define IDENTITY_LOGIN_MAX_LOCK_S 86400L
/* Longest source key: an IPv6 /64 ("xxxx:xxxx:xxxx:xxxx::/64") or a peer as given. */
#define IDENTITY_LOGIN_SOURCE_LEN 64

typedef enum identity_login_block {
    LOGIN_BLOCK_NONE = 0,
    LOGIN_BLOCK_BACKOFF, /* a short wait after a failure, growing with each one */
    LOGIN_BLOCK_LOCKOUT  /* max_failures reached: a long wait, doubling per lockout */
} identity_login_block;

typedef struct identity_login_policy {
    int max_failures; /* failures that lock the source out (then counting restarts) */
    long lock_s;      /* the first lockout; each further one doubles (at most a day) */
    long backoff_s;   /* wait after the n-th failure short of a lockout:
                         backoff_s * 2^(n-1), at most lock_s; 0 = none */
} identity_login_policy;

typedef struct identity_login_source {
    int failures;               /* failures since the last lockout */
    int lockouts;               /* lockouts so far */
    long quiet_s;               /* seconds since it last failed or was last blocked
                                   (0 while blocked); LONG_MAX for a new source */
    long blocked_s;             /* seconds it stays blocked from now; 0 = not blocked */
    identity_login_block block; /* why it is blocked */
} identity_login_source;

/* Counts one more failure of source *s (updated in place) under policy p:
 * a source quiet for IDENTITY_LOGIN_FORGET_S is forgotten first (*fresh = 1);
 * at p->max_failures it is locked out, otherwise it backs off. A block in
 * force is never shortened (concurrent failures may race). Returns 1 when
 * this failure started a lockout, 0 otherwise. */
int identity_login_failure(const identity_login_policy *p, identity_login_source *s, int *fresh);

/* The source key of a peer address (out has IDENTITY_LOGIN_SOURCE_LEN
 * bytes): IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64
 * prefix ("2001:db8:1:2::/64": one host or subscriber usually holds a
 * whole /64). Returns 0, or -1 when peer is not an IP address (out then
 * holds peer, truncated, so "unknown" peers share one source). */
int identity_login_source_key(const char *peer, char out[IDENTITY_LOGIN_SOURCE_LEN]);

#endif
