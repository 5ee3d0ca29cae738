/* identity_jobs.h - the identity module's jobs. */
#ifndef ONETRIP_IDENTITY_JOBS_H
#define ONETRIP_IDENTITY_JOBS_H

#include "server/app.h"

/* Deletes expired jwt_seen, partner_nonces, rotated refresh tokens and
 * sessions ended more than a day ago. */
int identity_job_prune(app_job_ctx *ctx, int64_t *count);

#endif
