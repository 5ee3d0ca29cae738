/* incarnation.c - this process's registration and heartbeat (see
 * incarnation.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/rows.h"
#include "server/config.h"
#include "server/crypto.h"
#include "server/incarnation.h"
#include "server/log.h"

static const char SQL_REGISTER[] =
    "INSERT INTO server_incarnations (id, host, boot_id, pid, proc_start, started_at, heartbeat_at) "
    "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
/* Live-looking incarnations of this host and boot, other than ours. */
static const char SQL_LOCAL[] =
    "SELECT id, pid, proc_start FROM server_incarnations "
    "WHERE host = ? AND boot_id = ? AND stopped_at IS NULL AND id <> ?";
static const char SQL_MARK_STOPPED[] =
    "UPDATE server_incarnations SET stopped_at = UTC_TIMESTAMP(3) WHERE id = ? AND stopped_at IS NULL";
/* Also revives our row should something have marked it stopped or pruned it
 * while the database was unreachable. */
static const char SQL_BEAT[] =
    "INSERT INTO server_incarnations (id, host, boot_id, pid, proc_start, started_at, heartbeat_at) "
    "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)) "
    "ON DUPLICATE KEY UPDATE heartbeat_at = UTC_TIMESTAMP(3), stopped_at = NULL";

typedef struct local_row {
    char id[129];
    int64_t pid;
    int64_t proc_start;
} local_row;
static const db_col LOCAL_COLS[] = {
    DBR_CHARS(local_row, id),
    DBR_I64(local_row, pid),
    DBR_I64(local_row, proc_start),
};
static const db_row_spec LOCAL_ROW = DB_ROW_SPEC(local_row, LOCAL_COLS);

static struct {
    char id[33];
    char host[65];
    char boot_id[37];
    int64_t pid, proc_start;
    bool registered;
    pthread_t thread;
    bool running;
    atomic_int stop;
    db_config cfg;
} inc;

/* Start time of pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or -1 when there is no such process. With the boot id
 * it tells a dead process from a new one that reused its pid. */
static int64_t proc_start_of(int64_t pid)
{
    char path[64], buf[1024], *p;
    size_t n;
    FILE *f;
    long long v = -1;

    snprintf(path, sizeof path, "/proc/%" PRId64 "/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip to the last ')'. */
    if ((p = strrchr(buf, ')')) == NULL)
        return -1;
    p++;
    /* Fields 3..21, then 22 = starttime. */
    for (int field = 3; field <= 22 && p; field++) {
        p += strspn(p, " ");
        if (field == 22) {
            v = strtoll(p, NULL, 10);
            break;
        }
        p = strchr(p, ' ');
    }
    return v;
}

static void read_boot_id(char out[37])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    size_t n = 0;
    if (f) {
        n = fread(out, 1, 36, f);
        fclose(f);
    }
    out[n] = '\0';
    if (n != 36)
        snprintf(out, 37, "unknown");
}

int incarnation_register(db_conn *c, char *err, size_t errlen)
{
    local_row *rows = NULL;
    int n = 0, rc = -1;

    if (crypto_random_hex(16, inc.id) != 0) {
        snprintf(err, errlen, "cannot make an incarnation id");
        return -1;
    }
    if (gethostname(inc.host, sizeof inc.host - 1) != 0)
        snprintf(inc.host, sizeof inc.host, "host");
    inc.host[sizeof inc.host - 1] = '\0';
    read_boot_id(inc.boot_id);
    inc.pid = (int64_t)getpid();
    inc.proc_start = proc_start_of(inc.pid);
    if (db_exec(c, SQL_REGISTER,
                DBP(DB_STR(inc.id), DB_STR(inc.host), DB_STR(inc.boot_id), DB_I64(inc.pid),
                    DB_I64(inc.proc_start)),
                NULL, NULL) != 0) {
        snprintf(err, errlen, "cannot register this process in server_incarnations: %s", db_errmsg(c));
        return -1;
    }
    inc.registered = true;
    /* Same host and boot: /proc tells whether each one's process still
     * runs. Without a boot id we cannot tell a pid of this boot from one of
     * an earlier boot: leave those to the heartbeat limit. */
    if (strcmp(inc.boot_id, "unknown") != 0) {
        if (db_query_all(c, SQL_LOCAL, DBP(DB_STR(inc.host), DB_STR(inc.boot_id), DB_STR(inc.id)),
                         &LOCAL_ROW, (void **)&rows, &n) != 0) {
            snprintf(err, errlen, "cannot list this host's incarnations: %s", db_errmsg(c));
            goto done;
        }
        for (int i = 0; i < n; i++) {
            if (proc_start_of(rows[i].pid) == rows[i].proc_start)
                continue; /* still running */
            if (db_exec(c, SQL_MARK_STOPPED, DBP(DB_STR(rows[i].id)), NULL, NULL) != 0) {
                snprintf(err, errlen, "cannot mark a dead incarnation: %s", db_errmsg(c));
                goto done;
            }
            app_log(LOG_INFO, "idempotency", "msg=\"earlier process on this host is gone\" incarnation=%s pid=%" PRId64,
                    rows[i].id, rows[i].pid);
        }
    }
    app_log(LOG_INFO, "idempotency", "incarnation=%s host=%s pid=%" PRId64, inc.id, inc.host, inc.pid);
    rc = 0;
done:
    db_row_array_free(&LOCAL_ROW, rows, n);
    return rc;
}

const char *incarnation_id(void)
{
    return inc.registered ? inc.id : NULL;
}

int64_t incarnation_beat_s(int64_t orphan_s)
{
    return orphan_s / 4 >= 1 ? orphan_s / 4 : 1;
}

static int beat(db_conn *c)
{
    if (db_conn_ensure(c) != 0)
        return -1;
    return db_exec(c, SQL_BEAT,
                   DBP(DB_STR(inc.id), DB_STR(inc.host), DB_STR(inc.boot_id), DB_I64(inc.pid),
                       DB_I64(inc.proc_start)),
                   NULL, NULL);
}

static void *beat_main(void *arg)
{
    db_conn *c;
    int64_t every_ms = incarnation_beat_s(server_conf.idempotency.orphan_s) * 1000;
    bool failing = false;
    (void)arg;
    db_thread_init();
    c = db_conn_new(&inc.cfg);
    while (!atomic_load(&inc.stop)) {
        int rc = beat(c);
        if (rc != 0 && !failing)
            app_log(LOG_WARN, "idempotency", "msg=\"cannot refresh the incarnation heartbeat\"");
        failing = rc != 0;
        db_error_clear(c);
        /* Sleep in small steps so stop is prompt. */
        for (int64_t t = 0; t < every_ms && !atomic_load(&inc.stop); t += 100)
            usleep(100 * 1000);
    }
    /* Graceful stop: our claims are all finished, none can be orphaned. */
    if (db_conn_ensure(c) == 0)
        db_exec(c, SQL_MARK_STOPPED, DBP(DB_STR(inc.id)), NULL, NULL);
    db_conn_free(c);
    db_thread_end();
    return NULL;
}

int incarnation_start(const db_config *cfg)
{
    if (!inc.registered)
        return -1;
    inc.cfg = *cfg;
    atomic_store(&inc.stop, 0);
    if (pthread_create(&inc.thread, NULL, beat_main, NULL) != 0)
        return -1;
    inc.running = true;
    return 0;
}

void incarnation_stop(void)
{
    if (!inc.running)
        return;
    atomic_store(&inc.stop, 1);
    pthread_join(inc.thread, NULL);
    inc.running = false;
}
