/* workers.c - a bounded pool of worker threads, one database connection
 * each. The queue is a fixed ring: when it is full, workers_submit fails
 * at once and the loop answers 503 instead of queuing forever. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "server/http_internal.h"
#include "server/log.h"

typedef struct worker {
    pthread_t thread;
    db_conn *db;
    int index;
} worker;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    app_req **ring;
    int cap, head, count;
    bool stopping;
    worker *w;
    int n;
    atomic_int busy;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *worker_main(void *arg)
{
    worker *w = arg;

    db_thread_init();
    for (;;) {
        app_req *r;
        pthread_mutex_lock(&pool.mu);
        while (pool.count == 0 && !pool.stopping)
            pthread_cond_wait(&pool.cv, &pool.mu);
        if (pool.count == 0 && pool.stopping) {
            pthread_mutex_unlock(&pool.mu);
            break;
        }
        r = pool.ring[pool.head];
        pool.head = (pool.head + 1) % pool.cap;
        pool.count--;
        pthread_mutex_unlock(&pool.mu);

        atomic_fetch_add(&pool.busy, 1);
        r->db = w->db;
        dispatch_run(r);
        r->db = NULL;
        atomic_fetch_sub(&pool.busy, 1);
        http_complete(r); /* r now belongs to its loop again */
    }
    db_thread_end();
    return NULL;
}

int workers_start(int n, int queue_cap, const db_config *dbc)
{
    pool.ring = app_calloc((size_t)queue_cap, sizeof(app_req *));
    pool.cap = queue_cap;
    pool.w = app_calloc((size_t)n, sizeof(worker));
    pool.n = n;
    pool.stopping = false;
    for (int i = 0; i < n; i++) {
        pool.w[i].index = i;
        pool.w[i].db = db_conn_new(dbc);
        db_conn_set_slot(pool.w[i].db, i); /* its audit shard: workers do not share one */
        if (pthread_create(&pool.w[i].thread, NULL, worker_main, &pool.w[i]) != 0) {
            app_log(LOG_ERROR, "workers", "msg=\"cannot start worker thread\"");
            return -1;
        }
    }
    return 0;
}

int workers_submit(app_req *r)
{
    int rc = -1;
    pthread_mutex_lock(&pool.mu);
    if (!pool.stopping && pool.count < pool.cap) {
        pool.ring[(pool.head + pool.count) % pool.cap] = r;
        pool.count++;
        pthread_cond_signal(&pool.cv);
        rc = 0;
    }
    pthread_mutex_unlock(&pool.mu);
    return rc;
}

/* Finishes queued work, then joins every worker. */
void workers_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.n; i++) {
        pthread_join(pool.w[i].thread, NULL);
        db_conn_free(pool.w[i].db);
    }
    free(pool.w);
    free(pool.ring);
    pool.w = NULL;
    pool.ring = NULL;
    pool.n = 0;
}

int workers_queue_depth(void)
{
    int n;
    pthread_mutex_lock(&pool.mu);
    n = pool.count;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

int workers_busy(void)
{
    return atomic_load(&pool.busy);
}

int workers_total(void)
{
    return pool.n;
}
