/* payments_jobs.h - jobs and CLI commands of the payments module. */
#ifndef ONETRIP_PAYMENTS_JOBS_H
#define ONETRIP_PAYMENTS_JOBS_H

#include "server/app.h"

int payments_job_expire(app_job_ctx *ctx, int64_t *count);
int payments_job_query(app_job_ctx *ctx, int64_t *count);
int payments_job_refunds(app_job_ctx *ctx, int64_t *count);
int payments_job_reconcile(app_job_ctx *ctx, int64_t *count);
int payments_cmd_reconcile(db_conn *db, int argc, char **argv);

#endif
