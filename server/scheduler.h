/* scheduler.h - runs every module's jobs on their intervals. Runtime
 * machinery beside the worker pool (workers.c); the jobs themselves live in
 * their modules (app_job rows in each <name>_module.c).
 *
 * One scheduler thread per process, with its own database connection. A
 * job runs on one instance of the cluster at a time: before running, the
 * instance takes the job's lease row (conditional UPDATE with an
 * affected-rows check; not GET_LOCK, which is node-local under Galera).
 * Each run is recorded in job_runs and counted in /metrics. */
#ifndef ONETRIP_SCHEDULER_H
#define ONETRIP_SCHEDULER_H

#include "db/db.h"
#include "server/app.h"

int scheduler_start(const db_config *dbc);
/* Asks the thread to stop after the current job and joins it. */
void scheduler_stop(void);
/* Runs one job now (CLI `onetripd job run NAME`), honouring the lease.
 * Returns 0 ok, -1 failed, 1 lease held elsewhere. */
int scheduler_run_once(db_conn *c, const app_job *job, const char *owner, int64_t *count);

#endif
