/* bench_select.c - the read path's baseline for ops/bench: the citizen
 * violation list's SELECT issued straight to MariaDB with a prepared
 * statement, one connection per thread, as many threads as the HTTP run has
 * connections, for a fixed time. Prints the figures as one JSON line.
 *
 *   bench_select SOCKET USER PASSWORD DB THREADS SECONDS PAIRS_FILE
 *
 * PAIRS_FILE: "citizen_id licence_id" per line (licence_id 0 = none), the
 * same citizens the HTTP run's tokens name. The statement is a copy of
 * SQL_LIST_CITIZEN in modules/violations/violations_sql.c: keep them in
 * step, or the ratio compares different work. */
#include <mysql.h>
#include <pthread.h>

#include "bench_common.h"

static const char SQL[] =
    "SELECT v.id, v.decision_no, v.plate, v.vehicle_type, v.vehicle_id, v.licence_id, v.citizen_id, "
    "v.occurred_at, v.place, v.code, v.description, v.fine_fen, v.points, v.agency, v.source, "
    "DATEDIFF(v.served_date, '1970-01-01') AS served_date, v.state, v.handled_at, v.paid_at, "
    "v.case_id, v.version, ELT(u.r, 'owner', 'bound', 'licence') AS relation, "
    "(SELECT poi.fine_fen + poi.late_fee_fen FROM payment_order_items poi "
    " JOIN payment_orders po ON po.id = poi.order_id "
    " WHERE poi.open_violation_id = v.id AND po.state = 'awaiting_confirmation') AS pending_fen "
    "FROM (SELECT s.id, MIN(s.r) AS r FROM ("
    "SELECT vo.id, 1 AS r FROM vehicles o JOIN violations vo ON vo.plate = o.plate "
    "WHERE o.owner_citizen_id = ? "
    "UNION ALL SELECT vb.id, 2 FROM violation_bindings b JOIN vehicles bv ON bv.id = b.vehicle_id "
    "JOIN violations vb ON vb.plate = bv.plate WHERE b.holder_citizen_id = ? "
    "AND b.state = 'active' AND bv.owner_citizen_id = b.owner_citizen_id "
    "UNION ALL SELECT vl.id, 3 FROM violations vl WHERE vl.licence_id = ?"
    ") s GROUP BY s.id) u JOIN violations v ON v.id = u.id "
    "ORDER BY v.occurred_at DESC, v.id DESC LIMIT 500";

static const char *sock, *user, *pass, *dbname;
static int64_t *pairs;
static size_t npairs;
static int64_t end_us;

typedef struct worker {
    pthread_t t;
    int idx;
    bench_lat lat;
    long errors;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    MYSQL *m = mysql_init(NULL);
    MYSQL_STMT *st = NULL;
    MYSQL_BIND b[3];
    long long cid = 0, cid2 = 0, lid = 0;
    my_bool lid_null = 0;
    size_t k = (size_t)w->idx * 7919;

    if (m == NULL || mysql_real_connect(m, NULL, user, pass, dbname, 0, sock, 0) == NULL ||
        (st = mysql_stmt_init(m)) == NULL || mysql_stmt_prepare(st, SQL, sizeof SQL - 1) != 0) {
        fprintf(stderr, "bench_select: %s\n", m ? mysql_error(m) : "out of memory");
        w->errors = -1;
        goto done;
    }
    memset(b, 0, sizeof b);
    b[0].buffer_type = b[1].buffer_type = b[2].buffer_type = MYSQL_TYPE_LONGLONG;
    b[0].buffer = &cid;
    b[1].buffer = &cid2;
    b[2].buffer = &lid;
    b[2].is_null = &lid_null;
    if (mysql_stmt_bind_param(st, b) != 0) {
        w->errors = -1;
        goto done;
    }
    while (bench_now_us() < end_us) {
        int64_t t0 = bench_now_us();

        k = (k + 1) % npairs;
        cid = cid2 = pairs[2 * k];
        lid = pairs[2 * k + 1];
        lid_null = lid == 0;
        /* All rows cross the wire, as they do to onetripd. */
        if (mysql_stmt_execute(st) != 0 || mysql_stmt_store_result(st) != 0) {
            w->errors++;
            continue;
        }
        mysql_stmt_free_result(st);
        bench_lat_add(&w->lat, bench_now_us() - t0);
    }
done:
    if (st != NULL)
        mysql_stmt_close(st);
    if (m != NULL)
        mysql_close(m);
    mysql_thread_end();
    return NULL;
}

int main(int argc, char **argv)
{
    FILE *f = NULL;
    int threads = 0;
    double secs = 0;
    long long a = 0, b = 0;
    size_t cap = 0;
    worker *ws = NULL;
    bench_lat all = {0};
    long errors = 0;
    int64_t t0 = 0;

    if (argc != 8) {
        fprintf(stderr, "usage: bench_select SOCKET USER PASSWORD DB THREADS SECONDS PAIRS_FILE\n");
        return 2;
    }
    sock = argv[1], user = argv[2], pass = argv[3], dbname = argv[4];
    threads = atoi(argv[5]);
    secs = atof(argv[6]);
    if ((f = fopen(argv[7], "r")) == NULL) {
        perror(argv[7]);
        return 2;
    }
    while (fscanf(f, "%lld %lld", &a, &b) == 2) {
        if (npairs == cap) {
            cap = cap ? cap * 2 : 1024;
            pairs = realloc(pairs, cap * 2 * sizeof *pairs);
            if (pairs == NULL)
                return 1;
        }
        pairs[2 * npairs] = a;
        pairs[2 * npairs + 1] = b;
        npairs++;
    }
    fclose(f);
    if (threads < 1 || secs <= 0 || npairs == 0) {
        fprintf(stderr, "bench_select: nothing to do\n");
        return 2;
    }
    mysql_library_init(0, NULL, NULL);
    ws = calloc((size_t)threads, sizeof *ws);
    t0 = bench_now_us();
    end_us = t0 + (int64_t)(secs * 1e6);
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
