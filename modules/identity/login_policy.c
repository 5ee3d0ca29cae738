/* login_policy.c - the operator login policy (see login_policy.h). */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "modules/identity/login_policy.h"

/* base doubled n times, at most cap (no overflow: stops at the cap). */
static long doubled(long base, int n, long cap)
{
    long v = base < cap ? base : cap;
    for (int i = 0; i < n && v < cap; i++)
        v = v > cap / 2 ? cap : v * 2;
    return v;
}

int identity_login_failure(const identity_login_policy *p, identity_login_source *s, int *fresh)
{
    long t;

    *fresh = 0;
    if (s->quiet_s > IDENTITY_LOGIN_FORGET_S) {
        s->failures = 0;
        s->lockouts = 0;
        s->blocked_s = 0;
        s->block = LOGIN_BLOCK_NONE;
        *fresh = 1;
    }
    s->quiet_s = 0;
    s->failures++;
    if (s->failures >= p->max_failures) {
        /* Counting restarts, so after each lockout the source has another
         * max_failures tries, each lockout twice as long as the last. */
        s->failures = 0;
        if (s->lockouts < INT_MAX)
            s->lockouts++;
        t = doubled(p->lock_s, s->lockouts - 1, IDENTITY_LOGIN_MAX_LOCK_S);
        if (t >= s->blocked_s) {
            s->blocked_s = t;
            s->block = LOGIN_BLOCK_LOCKOUT;
        }
        return 1;
    }
    if (p->backoff_s > 0) {
        t = doubled(p->backoff_s, s->failures - 1, p->lock_s);
        if (t > s->blocked_s) {
            s->blocked_s = t;
            s->block = LOGIN_BLOCK_BACKOFF;
        }
    }
    return 0;
}

int identity_login_source_key(const char *peer, char out[IDENTITY_LOGIN_SOURCE_LEN])
{
    struct in_addr v4;
    struct in6_addr v6;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char buf[INET6_ADDRSTRLEN];

    if (peer != NULL && inet_pton(AF_INET, peer, &v4) == 1) {
        inet_ntop(AF_INET, &v4, out, IDENTITY_LOGIN_SOURCE_LEN);
        return 0;
    }
    if (peer != NULL && inet_pton(AF_INET6, peer, &v6) == 1) {
        if (memcmp(v6.s6_addr, mapped, sizeof mapped) == 0) {
            memcpy(&v4, v6.s6_addr + 12, 4);
            inet_ntop(AF_INET, &v4, out, IDENTITY_LOGIN_SOURCE_LEN);
            return 0;
        }
        memset(v6.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &v6, buf, sizeof buf);
        snprintf(out, IDENTITY_LOGIN_SOURCE_LEN, "%s/64", buf);
        return 0;
    }
    snprintf(out, IDENTITY_LOGIN_SOURCE_LEN, "%s", peer ? peer : "");
    return -1;
}
