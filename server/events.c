/* events.c - the event outbox and its consumer thread (see events.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/rows.h"
#include "server/events.h"
#include "server/log.h"
#include "server/modules.h"

static const char SQL_EMIT[] =
    "INSERT INTO app_events (type, subject_kind, subject_id, actor_kind, actor_id, outlet_id, "
    "payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
/* SKIP LOCKED: another instance serving this consumer now is not waited for. */
static const char SQL_CURSOR_TAKE[] =
    "SELECT last_id FROM app_event_cursors WHERE consumer = ? FOR UPDATE SKIP LOCKED";
static const char SQL_CURSOR_NEW[] =
    "INSERT IGNORE INTO app_event_cursors (consumer, last_id, updated_at) "
    "VALUES (?, 0, UTC_TIMESTAMP(3))";
static const char SQL_CURSOR_MOVE[] =
    "UPDATE app_event_cursors SET last_id = ?, updated_at = UTC_TIMESTAMP(3) WHERE consumer = ?";
static const char SQL_BATCH[] =
    "SELECT id, type, subject_kind, subject_id, actor_kind, actor_id, outlet_id, payload, "
    "created_at FROM app_events WHERE id > ? ORDER BY id LIMIT 100";

typedef struct cursor_row {
    int64_t last_id;
} cursor_row;
static const db_col CURSOR_COLS[] = {DBR_I64(cursor_row, last_id)};
static const db_row_spec CURSOR_ROW = DB_ROW_SPEC(cursor_row, CURSOR_COLS);

static const db_col EVENT_COLS[] = {
    DBR_I64(app_event, id),          DBR_CHARS(app_event, type),
    DBR_CHARS(app_event, subject_kind), DBR_I64(app_event, subject_id),
    DBR_CHARS(app_event, actor_kind), DBR_I64(app_event, actor_id),
    DBR_I64(app_event, outlet_id),   DBR_STR(app_event, payload),
    DBR_UTC(app_event, created_at),
};
static const db_row_spec EVENT_ROW = DB_ROW_SPEC(app_event, EVENT_COLS);

static const char *actor_kind(const app_principal *who)
{
    static const char *const names[] = {"anonymous", "citizen", "operator", "partner", "system"};
    if (who == NULL || (int)who->kind < 0 || (int)who->kind >= APP_LEN(names))
        return "system";
    return names[who->kind];
}

int app_event_emit(db_conn *c, const app_principal *who, const char *type,
                   const char *subject_kind, int64_t subject_id, json_t *payload)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    int rc;

    rc = db_exec(c, SQL_EMIT,
                 DBP(DB_STR(type), DB_STR(subject_kind), DB_I64(subject_id), DB_STR(actor_kind(who)),
                     DB_I64(who ? who->id : 0), DB_I64(who ? who->outlet_id : 0),
                     DB_STR(text ? text : "{}")),
                 NULL, NULL);
    free(text);
    json_decref(payload);
    return rc;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Per consumer, in this process: the gap being waited for and the retry
 * backoff after a failure. Not durable: a restart waits for a gap afresh. */
#define MAX_CONSUMERS 64
typedef struct consumer_state {
    const char *name;
    int64_t gap_id, gap_since_ms;
    int64_t retry_at_ms, backoff_ms;
} consumer_state;
static consumer_state states[MAX_CONSUMERS];
static int nstates;
static pthread_mutex_t states_mu = PTHREAD_MUTEX_INITIALIZER;

static consumer_state *state_of(const char *name)
{
    consumer_state *s = NULL;
    pthread_mutex_lock(&states_mu);
    for (int i = 0; i < nstates; i++)
        if (strcmp(states[i].name, name) == 0)
            s = &states[i];
    if (s == NULL && nstates < MAX_CONSUMERS) {
        s = &states[nstates++];
        memset(s, 0, sizeof *s);
        s->name = name;
    }
    pthread_mutex_unlock(&states_mu);
    return s;
}

typedef struct batch_arg {
    const app_consumer *k;
    consumer_state *st;
    int64_t handled;
    bool skipped; /* the cursor row is served by another instance */
} batch_arg;

static int run_batch(db_conn *c, void *p)
{
    batch_arg *b = p;
    cursor_row cur = {0};
    app_event *evs = NULL;
    int n = 0, rc = -1;
    bool found = false;
    int64_t expect, last;
    uint64_t affected = 0;

    b->handled = 0;
    b->skipped = false;
    if (db_query_one(c, SQL_CURSOR_TAKE, DBP(DB_STR(b->k->name)), &CURSOR_ROW, &cur, &found) != 0)
        goto done;
    if (!found) {
        /* New consumer, or locked by another instance (then this inserts nothing). */
        if (db_exec(c, SQL_CURSOR_NEW, DBP(DB_STR(b->k->name)), &affected, NULL) != 0)
            goto done;
        if (affected != 1) {
            b->skipped = true;
            rc = 0;
            goto done;
        }
        cur.last_id = 0;
    }
    {
        void *all = NULL;
        if (db_query_all(c, SQL_BATCH, DBP(DB_I64(cur.last_id)), &EVENT_ROW, &all, &n) != 0)
            goto done;
        evs = all;
    }
    last = cur.last_id;
    for (int i = 0; i < n; i++) {
        expect = last + 1;
        if (evs[i].id != expect) {
            /* A gap: an uncommitted (or rolled-back) transaction's ids. */
            int64_t now = mono_ms();
            if (b->st->gap_id != expect) {
                b->st->gap_id = expect;
                b->st->gap_since_ms = now;
                break;
            }
            if (now - b->st->gap_since_ms < EVENTS_GAP_WAIT_MS)
                break;
            app_log(LOG_WARN, "events", "consumer=%s msg=\"skipped missing event ids\" from=%lld to=%lld",
                    b->k->name, (long long)expect, (long long)evs[i].id - 1);
        }
        if (b->k->fn(c, &evs[i]) != 0) {
            app_log(LOG_WARN, "events", "consumer=%s event_id=%lld type=%s msg=\"consumer failed\" "
                    "db_errno=%u", b->k->name, (long long)evs[i].id, evs[i].type, db_errno(c));
            goto done;
        }
        last = evs[i].id;
        b->handled++;
    }
    if (last != cur.last_id &&
        db_exec(c, SQL_CURSOR_MOVE, DBP(DB_I64(last), DB_STR(b->k->name)), NULL, NULL) != 0)
        goto done;
    rc = 0;
done:
    db_row_array_free(&EVENT_ROW, evs, n);
    return rc;
}

int events_run_once(db_conn *c, const app_consumer *const *consumers, int n, int64_t *handled)
{
    int rc = 0;
    if (handled)
        *handled = 0;
    for (int i = 0; i < n; i++) {
        batch_arg b = {.k = consumers[i], .st = state_of(consumers[i]->name)};
        int64_t now = mono_ms();
        if (b.st == NULL)
            continue;
        if (now < b.st->retry_at_ms)
            continue;
        if (db_tx(c, run_batch, &b, 3, NULL) != 0) {
            /* Rolled back with its cursor: retried after a growing pause. */
            b.st->backoff_ms = b.st->backoff_ms ? b.st->backoff_ms * 2 : 200;
            if (b.st->backoff_ms > 30000)
                b.st->backoff_ms = 30000;
            b.st->retry_at_ms = mono_ms() + b.st->backoff_ms;
            db_error_clear(c);
            rc = -1;
            continue;
        }
        b.st->backoff_ms = 0;
        b.st->retry_at_ms = 0;
        if (handled)
            *handled += b.handled;
    }
    return rc;
}

/* ---- the thread ------------------------------------------------------ */

static struct {
    pthread_t thread;
    atomic_int stop;
    db_config cfg;
    bool running;
    const app_consumer **all;
    int n;
} ev;

static void *events_main(void *arg)
{
    db_conn *c;
    (void)arg;
    db_thread_init();
    c = db_conn_new(&ev.cfg);
    while (!atomic_load(&ev.stop)) {
        int64_t handled = 0;
        if (db_conn_ensure(c) == 0)
            events_run_once(c, ev.all, ev.n, &handled);
        if (handled > 0)
            continue; /* more may be waiting */
        for (int k = 0; k < EVENTS_POLL_MS / 50 && !atomic_load(&ev.stop); k++)
            usleep(50 * 1000);
    }
    db_conn_free(c);
    db_thread_end();
    return NULL;
}

int events_start(const db_config *dbc)
{
    int n = 0;
    for (int i = 0; i < modules_count; i++)
        n += modules_all[i]->nconsumers;
    if (n == 0)
        return 0;
    ev.all = app_calloc((size_t)n, sizeof *ev.all);
    ev.n = 0;
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nconsumers; j++)
            ev.all[ev.n++] = &modules_all[i]->consumers[j];
    ev.cfg = *dbc;
    atomic_store(&ev.stop, 0);
    if (pthread_create(&ev.thread, NULL, events_main, NULL) != 0) {
        free(ev.all);
        ev.all = NULL;
        return -1;
    }
    ev.running = true;
    return 0;
}

void events_stop(void)
{
    if (!ev.running)
        return;
    atomic_store(&ev.stop, 1);
    pthread_join(ev.thread, NULL);
    ev.running = false;
    free(ev.all);
    ev.all = NULL;
}
