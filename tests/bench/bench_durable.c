/* bench_durable.c - the payment path's baseline for ops/bench: durable
 * transactions issued straight to MariaDB, each with the same number of
 * INSERT and UPDATE statements as one applied payment notification
 * (suite.bench.mjs counts them in the general log), prepared once per
 * connection; THREADS connections share TOTAL transactions. What is left
 * of the payment path's cost above it is onetripd's (HTTP, signature,
 * reads, JSON), so the ratio shows how close the path is to the
 * durable-commit ceiling of this disk. Rows go to two scratch tables it
 * makes (bench_durable_rows, bench_durable_counters). Prints one JSON line.
 *
 *   bench_durable SOCKET USER PASSWORD DB THREADS TOTAL INSERTS UPDATES */
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench_common.h"

static const char SQL_INSERT[] =
    "INSERT INTO bench_durable_rows (k, a, b, t) VALUES (?, ?, 'a row the size of a receipt or "
    "an audit record, with some text in it to carry', UTC_TIMESTAMP(3))";
static const char SQL_UPDATE[] = "UPDATE bench_durable_counters SET n = n + 1 WHERE id = ?";

static const char *sock, *user, *pass, *dbname;
static int inserts, updates;
static atomic_long left;

typedef struct worker {
    pthread_t t;
    int idx;
    bench_lat lat;
    long errors;
} worker;

static MYSQL *connect_db(void)
{
    MYSQL *m = mysql_init(NULL);

    if (m != NULL && mysql_real_connect(m, NULL, user, pass, dbname, 0, sock, 0) == NULL) {
        fprintf(stderr, "bench_durable: %s\n", mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

static void *run(void *arg)
{
    worker *w = arg;
    MYSQL *m = connect_db();
    MYSQL_STMT *ins = NULL, *upd = NULL;
    MYSQL_BIND bi[2], bu[1];
    char key[64];
    unsigned long keylen = 0;
    long long a = 0, id = 0, seq = 0;

    if (m == NULL || (ins = mysql_stmt_init(m)) == NULL || (upd = mysql_stmt_init(m)) == NULL ||
        mysql_stmt_prepare(ins, SQL_INSERT, sizeof SQL_INSERT - 1) != 0 ||
        mysql_stmt_prepare(upd, SQL_UPDATE, sizeof SQL_UPDATE - 1) != 0) {
        fprintf(stderr, "bench_durable: %s\n", m ? mysql_error(m) : "cannot connect");
        w->errors = -1;
        goto done;
    }
    memset(bi, 0, sizeof bi);
    bi[0].buffer_type = MYSQL_TYPE_STRING;
    bi[0].buffer = key;
    bi[0].length = &keylen;
    bi[1].buffer_type = MYSQL_TYPE_LONGLONG;
    bi[1].buffer = &a;
    memset(bu, 0, sizeof bu);
    bu[0].buffer_type = MYSQL_TYPE_LONGLONG;
    bu[0].buffer = &id;
    mysql_stmt_bind_param(ins, bi);
    mysql_stmt_bind_param(upd, bu);
    while (atomic_fetch_sub(&left, 1) > 0) {
        int64_t t0 = bench_now_us();
        int ok = mysql_query(m, "BEGIN") == 0;

        for (int i = 0; ok && i < inserts; i++) {
            keylen = (unsigned long)snprintf(key, sizeof key, "t%d-%lld-%d-%lld", w->idx, seq, i,
                                             (long long)t0);
            a = seq;
            ok = mysql_stmt_execute(ins) == 0;
        }
        /* Each thread updates rows of its own: no lock waits, as unrelated payments. */
        for (int i = 0; ok && i < updates; i++) {
            id = (long long)w->idx * 64 + i % 64 + 1;
            ok = mysql_stmt_execute(upd) == 0;
        }
        if (ok && mysql_commit(m) == 0) {
            bench_lat_add(&w->lat, bench_now_us() - t0);
        } else {
            w->errors++;
            mysql_rollback(m);
        }
        seq++;
    }
done:
    if (ins != NULL)
        mysql_stmt_close(ins);
    if (upd != NULL)
        mysql_stmt_close(upd);
    if (m != NULL)
        mysql_close(m);
    mysql_thread_end();
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 0;
    worker *ws = NULL;
    bench_lat all = {0};
    long errors = 0;
    int64_t t0 = 0;
    MYSQL *m = NULL;
    char q[256];

    if (argc != 9) {
        fprintf(stderr, "usage: bench_durable SOCKET USER PASSWORD DB THREADS TOTAL INSERTS UPDATES\n");
        return 2;
    }
    sock = argv[1], user = argv[2], pass = argv[3], dbname = argv[4];
    threads = atoi(argv[5]);
    atomic_store(&left, atol(argv[6]));
    inserts = atoi(argv[7]);
    updates = atoi(argv[8]);
    if (threads < 1 || threads > 1024 || inserts < 0 || updates < 0) {
        fprintf(stderr, "bench_durable: bad arguments\n");
        return 2;
    }
    mysql_library_init(0, NULL, NULL);
    if ((m = connect_db()) == NULL)
        return 1;
    snprintf(q, sizeof q, "INSERT IGNORE INTO bench_durable_counters (id, n) SELECT seq, 0 FROM seq_1_to_%d",
             threads * 64);
    if (mysql_query(m, "CREATE TABLE IF NOT EXISTS bench_durable_rows (id BIGINT NOT NULL "
                       "AUTO_INCREMENT PRIMARY KEY, k VARCHAR(64) NOT NULL, a BIGINT NOT NULL, "
                       "b VARCHAR(255) NOT NULL, t DATETIME(3) NOT NULL, UNIQUE KEY uq_k (k), "
                       "KEY ix_a (a)) ENGINE=InnoDB") != 0 ||
        mysql_query(m, "CREATE TABLE IF NOT EXISTS bench_durable_counters (id INT NOT NULL "
                       "PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB") != 0 ||
        mysql_query(m, q) != 0) {
        fprintf(stderr, "bench_durable: %s\n", mysql_error(m));
        return 1;
    }
    mysql_close(m);
    ws = calloc((size_t)threads, sizeof *ws);
    t0 = bench_now_us();
    for (int i = 0; i < threads; i++) {
        ws[i].idx = i;
        pthread_create(&ws[i].t, NULL, run, &ws[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(ws[i].t, NULL);
        if (ws[i].errors < 0)
            return 1;
        errors += ws[i].errors;
        bench_lat_merge(&all, &ws[i].lat);
    }
    bench_print_json(&all, errors, (double)(bench_now_us() - t0) / 1e6);
    mysql_library_end();
    return 0;
}
