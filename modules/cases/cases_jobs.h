/* cases_jobs.h - jobs and commands of the cases module. */
#ifndef ONETRIP_CASES_JOBS_H
#define ONETRIP_CASES_JOBS_H

#include "server/app.h"

int cases_job_time_limits(app_job_ctx *ctx, int64_t *count);
int cases_job_supply(app_job_ctx *ctx, int64_t *count);
int cases_job_rollup(app_job_ctx *ctx, int64_t *count);
/* Recomputes one day of the rollup in its own transaction. */
int cases_rollup_day(db_conn *c, int32_t day);
int cases_cmd_rollup(db_conn *c, int argc, char **argv);
int cases_cmd_file(db_conn *c, int argc, char **argv);

#endif
