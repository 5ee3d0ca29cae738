/* scheduler.c - interval jobs with a lease row per job (see scheduler.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/audit.h"
#include "server/scheduler.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/modules.h"

static const char SQL_LEASE_ROW[] =
    "INSERT IGNORE INTO job_leases (name, owner, expires_at, next_run_at) VALUES (?, NULL, NULL, NULL)";
/* Take the lease if free, expired or already ours, and the job is due. */
static const char SQL_LEASE_TAKE[] =
    "UPDATE job_leases SET owner = ?, expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND "
    "WHERE name = ? AND (owner IS NULL OR expires_at < UTC_TIMESTAMP(3) OR owner = ?) "
    "AND (? = 1 OR next_run_at IS NULL OR next_run_at <= UTC_TIMESTAMP(3))";
static const char SQL_LEASE_DONE[] =
    "UPDATE job_leases SET owner = NULL, expires_at = NULL, "
    "next_run_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE name = ? AND owner = ?";
static const char SQL_RUN_START[] =
    "INSERT INTO job_runs (name, owner, started_at, outcome) VALUES (?, ?, UTC_TIMESTAMP(3), 'running')";
static const char SQL_RUN_END[] =
    "UPDATE job_runs SET finished_at = UTC_TIMESTAMP(3), outcome = ?, items = ?, message = ? WHERE id = ?";

#define MAX_SCHED_JOBS 256
/* A failed run is due again this soon (or after its interval, if shorter):
 * a daily job that hit a database blip must not wait a day. */
#define RETRY_FAILED_S 30

static struct {
    pthread_t thread;
    atomic_int stop;
    db_config cfg;
    char owner[128];
    bool running;
} sched;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* force = run even if not due (CLI). Returns 0 ok, -1 failed, 1 not taken. */
static int run_job(db_conn *c, const app_job *job, const char *owner, int force, int64_t *count)
{
    uint64_t affected = 0, run_id = 0;
    /* The lease outlives a stuck run for a while, then another node may take it. */
    int64_t lease_s = job->interval_s > 300 ? job->interval_s : 300;
    app_job_ctx ctx = {.db = c, .name = job->name, .now_unix = (int64_t)time(NULL)};
    int64_t t0, dur, next_s;
    int rc;

    *count = 0;
    if (db_exec(c, SQL_LEASE_ROW, DBP(DB_STR(job->name)), NULL, NULL) != 0)
        return -1;
    if (db_exec(c, SQL_LEASE_TAKE,
                DBP(DB_STR(owner), DB_I64(lease_s), DB_STR(job->name), DB_STR(owner), DB_I64(force)),
                &affected, NULL) != 0)
        return -1;
    if (affected != 1)
        return 1;
    if (db_exec(c, SQL_RUN_START, DBP(DB_STR(job->name), DB_STR(owner)), NULL, &run_id) != 0) {
        /* Give the lease back (best effort) rather than hold it until it
         * expires: the job is due again soon. */
        db_exec(c, SQL_LEASE_DONE,
                DBP(DB_I64(job->interval_s < RETRY_FAILED_S ? job->interval_s : RETRY_FAILED_S),
                    DB_STR(job->name), DB_STR(owner)),
                NULL, NULL);
        return -1;
    }
    t0 = mono_ms();
    rc = job->fn(&ctx, count);
    dur = mono_ms() - t0;
    if (rc != 0)
        metrics_db_error();
    metrics_job_run(job->name, rc == 0, *count, dur);
    app_log(rc == 0 ? LOG_INFO : LOG_WARN, "jobs", "job=%s outcome=%s items=%lld duration_ms=%lld",
            job->name, rc == 0 ? "ok" : "failed", (long long)*count, (long long)dur);
    db_error_clear(c);
    next_s = rc == 0 || job->interval_s < RETRY_FAILED_S ? job->interval_s : RETRY_FAILED_S;
    if (db_conn_ensure(c) == 0) {
        db_exec(c, SQL_RUN_END,
                DBP(DB_STR(rc == 0 ? "ok" : "failed"), DB_I64(*count),
                    DB_STR(rc == 0 ? NULL : "job reported failure"), DB_I64(run_id)),
                NULL, NULL);
        db_exec(c, SQL_LEASE_DONE, DBP(DB_I64(next_s), DB_STR(job->name), DB_STR(owner)), NULL,
                NULL);
    }
    return rc == 0 ? 0 : -1;
}

int scheduler_run_once(db_conn *c, const app_job *job, const char *owner, int64_t *count)
{
    return run_job(c, job, owner, 1, count);
}

static void *sched_main(void *arg)
{
    db_conn *c;
    db_thread_init();
    c = db_conn_new(&sched.cfg);
    /* Jobs write audit records in the last shard, away from the first
     * workers' (slot i writes shard i). */
    db_conn_set_slot(c, AUDIT_SHARDS - 1);
    /* When to ask the database about each job again: a job that just ran
     * waits its interval; one that was not due (or held by another node) is
     * asked again within 5 s, a failed one within RETRY_FAILED_S (when the
     * lease says it is due again). Saves a round trip
     * per job per second when idle. */
    int64_t next_check[MAX_SCHED_JOBS] = {0};

    while (!atomic_load(&sched.stop)) {
        if (db_conn_ensure(c) == 0) {
            int k = 0;
            for (int i = 0; i < modules_count && !atomic_load(&sched.stop); i++) {
                for (int j = 0; j < modules_all[i]->njobs && !atomic_load(&sched.stop); j++, k++) {
                    const app_job *job = &modules_all[i]->jobs[j];
                    int64_t n = 0, now = mono_ms(), again;
                    int rc;
                    if (k < MAX_SCHED_JOBS && now < next_check[k])
                        continue;
                    rc = run_job(c, job, sched.owner, 0, &n);
                    again = rc == 0 ? job->interval_s : rc == 1 ? 5 : RETRY_FAILED_S;
                    if (again > job->interval_s)
                        again = job->interval_s;
                    if (k < MAX_SCHED_JOBS)
                        next_check[k] = mono_ms() + again * 1000;
                }
            }
        }
        /* Sleep a second in small steps so stop is prompt. */
        for (int k = 0; k < 10 && !atomic_load(&sched.stop); k++)
            usleep(100 * 1000);
    }
    db_conn_free(c);
    db_thread_end();
    return NULL;
}

int scheduler_start(const db_config *dbc)
{
    char host[64] = "host";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(sched.owner, sizeof sched.owner, "%s:%d", host, (int)getpid());
    sched.cfg = *dbc;
    atomic_store(&sched.stop, 0);
    if (pthread_create(&sched.thread, NULL, sched_main, NULL) != 0)
        return -1;
    sched.running = true;
    return 0;
}

void scheduler_stop(void)
{
    if (!sched.running)
        return;
    atomic_store(&sched.stop, 1);
    pthread_join(sched.thread, NULL);
    sched.running = false;
}
