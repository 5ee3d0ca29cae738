/* identity_jobs.c - pruning the replay caches, ended sessions and
 * forgotten login sources. Each
 * table is emptied of expired rows 1000 at a time (short statements keep
 * row locks brief while requests insert). */
#include "modules/identity/identity_jobs.h"
#include "modules/identity/identity_sql.h"

typedef int (*prune_fn)(db_conn *c, uint64_t *n);

int identity_job_prune(app_job_ctx *ctx, int64_t *count)
{
    static const prune_fn fns[] = {identity_prune_jwt_seen, identity_prune_nonces,
                                   identity_prune_refresh_used, identity_prune_sessions,
                                   identity_prune_login_sources};
    *count = 0;
    for (int i = 0; i < APP_LEN(fns); i++) {
        uint64_t n = 0;
        do {
            if (fns[i](ctx->db, &n) != 0)
                return -1;
            *count += (int64_t)n;
        } while (n == 1000);
    }
    return 0;
}
