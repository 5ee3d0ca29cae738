/* route_limits.c - the per-address rate limits that routes declare
 * (app_rate_limit in app.h), on top of server/ratelimit.c.
 *
 * The tables are built once before the loops start and only read (the
 * registry) or updated under ratelimit's own locks afterwards, so loops and
 * workers may call in concurrently. The key is the TCP peer address (IPv6
 * by /64); the server does not trust forwarding headers. */
#include <stdio.h>
#include <stdlib.h>

#include "server/config.h"
#include "server/http_internal.h"
#include "server/log.h"
#include "server/ratelimit.h"

#define MAX_LIMITS 32
#define DEFAULT_SLOTS 4096

static struct {
    const app_rate_limit *decl;
    ratelimit *rl;
} limits[MAX_LIMITS];
static int nlimits;

static ratelimit *table_of(const app_rate_limit *decl)
{
    for (int i = 0; i < nlimits; i++)
        if (limits[i].decl == decl)
            return limits[i].rl;
    return NULL;
}

int route_limits_init(const router *rt, char *err, size_t errlen)
{
    for (int i = 0; i < router_count(rt); i++) {
        const app_rate_limit *d = router_get(rt, i)->limit;
        int64_t per_min, burst;
        ratelimit *rl;

        if (d == NULL || table_of(d) != NULL)
            continue;
        if (nlimits == MAX_LIMITS) {
            snprintf(err, errlen, "more than %d rate limits declared", MAX_LIMITS);
            goto fail;
        }
        per_min = *d->per_min;
        burst = *d->burst;
        rl = ratelimit_new(d->slots > 0 ? d->slots : DEFAULT_SLOTS, per_min, burst);
        if (rl == NULL) {
            snprintf(err, errlen, "rate limit %s: %s and %s must be 1..%d and 1..%d", d->name,
                     config_key_of(d->per_min), config_key_of(d->burst), RATELIMIT_MAX_PER_MIN, RATELIMIT_MAX_BURST);
            goto fail;
        }
        limits[nlimits].decl = d;
        limits[nlimits].rl = rl;
        nlimits++;
        app_log(LOG_INFO, "http", "msg=\"rate limit\" name=%s per_min=%lld burst=%lld failures_only=%d",
                d->name, (long long)per_min, (long long)burst, d->failures_only ? 1 : 0);
    }
    return 0;
fail:
    route_limits_cleanup();
    return -1;
}

void route_limits_cleanup(void)
{
    for (int i = 0; i < nlimits; i++) {
        ratelimit_free(limits[i].rl);
        limits[i].rl = NULL;
        limits[i].decl = NULL;
    }
    nlimits = 0;
}

int route_limits_admit(app_req *r)
{
    const app_rate_limit *d = r->route ? r->route->limit : NULL;
    ratelimit *rl = d ? table_of(d) : NULL;
    char key[80], secs[16];
    int retry = 1, rc;

    if (rl == NULL)
        return 0;
    ratelimit_addr_key(r->peer, key, sizeof key);
    if (d->failures_only)
        rc = ratelimit_peek(rl, key, ratelimit_now_ns(), &retry);
    else
        rc = ratelimit_take(rl, key, ratelimit_now_ns(), &retry);
    if (rc == 0)
        return 0;
    snprintf(secs, sizeof secs, "%d", retry);
    app_add_header(r, "Retry-After", secs);
    req_set_problem(r, 429, "rate_limited", "Too many requests",
                    d->failures_only ? "Too many failed requests from this address; retry later."
                                     : "Too many requests from this address; retry later.",
                    NULL, json_pack("{si}", "retry_after_s", retry));
    return -1;
}

void app_rate_charge(app_req *r)
{
    const app_rate_limit *d = r->route ? r->route->limit : NULL;
    ratelimit *rl = d ? table_of(d) : NULL;
    char key[80];

    if (rl == NULL)
        return;
    ratelimit_addr_key(r->peer, key, sizeof key);
    ratelimit_charge(rl, key, ratelimit_now_ns());
}
