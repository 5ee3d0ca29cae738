/* seed.c - the machinery behind `onetripd seed` (see seed.h); the demo
 * city's rows are made by the modules' generators (people_seed.c ...).
 *
 * Every row is a pure function of (seed, table, row index): a splitmix64
 * stream keyed by those three drives all random choices, and the unique
 * columns come from bijections of the index, never from random draws with
 * retries. So the same seed and sizes give the same rows on any machine, a
 * crashed run can be re-run (it regenerates the same rows and INSERT IGNORE
 * skips those that are already there), and a million plates cannot collide.
 *
 * Dates are relative to a fixed "today" (SEED_TODAY), not the clock: rows
 * must not depend on the day the demo was loaded. Bump it when the demo city
 * looks stale (inspections and medical checks overdue).
 *
 * Order of work in seed_run:
 *   1. every module checks the options (sizes, prefix, keys);
 *   2. take the named lock 'onetrip_seed' (two concurrent seeders would
 *      interleave ids);
 *   3. any demo_seed row -> the demo city is already there: load nothing;
 *   4. each module in turn finds where its tables continue (seed_find_offset)
 *      and loads them in batches of SEED_BATCH rows, one transaction per
 *      batch (seed_load);
 *   5. the demo_seed marker, once every module has loaded: a run that dies
 *      midway leaves no marker and the next run completes it.
 */
#include "db/seed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/date.h"

/* Rows per multi-row INSERT and per transaction. A power of two because a
 * short last batch is sent as one statement per set bit of its size (see
 * stmt_get), so at most SEED_BATCH_LOG2 + 1 statement texts per table. */
#define SEED_BATCH_LOG2 10
#define SEED_BATCH (1 << SEED_BATCH_LOG2)
#define SEED_TX_ATTEMPTS 5

#define SEED_TODAY_Y 2026
#define SEED_TODAY_M 11
#define SEED_TODAY_D 1

static const char SQL_LOCK[] = "SELECT GET_LOCK('onetrip_seed', 0)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('onetrip_seed')";
static const char SQL_MARKER_ANY[] = "SELECT seed FROM demo_seed LIMIT 1";
static const char SQL_MARKER_ADD[] =
    "INSERT INTO demo_seed (seed, people, vehicles, loaded_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))";

/* ---- random numbers ------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Vigna's splitmix64: tiny, fast, passes BigCrush, and any 64-bit state is
 * a good starting point, which is what per-row streams need. */
uint64_t seed_splitmix64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    return mix64(*state);
}

uint64_t seed_rng_row(uint64_t seed, uint64_t stream, uint64_t idx)
{
    return mix64(mix64(seed) ^ (stream << 56) ^ idx);
}

uint64_t seed_below(uint64_t *s, uint64_t n)
{
    return seed_splitmix64(s) % n;
}

bool seed_chance(uint64_t *s, unsigned per_mille)
{
    return seed_below(s, 1000) < per_mille;
}

/* ---- bijections of the index ---------------------------------------------- */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;

        a = b;
        b = t;
    }
    return a;
}

void seed_perm_init(seed_perm *p, uint64_t n, uint64_t seed, uint64_t stream)
{
    uint64_t s = seed_rng_row(seed, stream, 0);

    p->n = n;
    /* Multipliers near 0 or n would map neighbours to neighbours. */
    p->a = n / 3 + seed_below(&s, n / 3);
    while (gcd64(p->a, n) != 1)
        p->a++;
    p->b = seed_below(&s, n);
}

uint64_t seed_perm_apply(const seed_perm *p, uint64_t i)
{
    return (p->a * (i % p->n) + p->b) % p->n;
}

/* ---- dates --------------------------------------------------------------- */

int32_t seed_ymd(int y, int m, int d)
{
    int32_t v = 0;

    if (date_from_ymd(y, m, d, &v) != 0)
        date_from_ymd(y, m, 28, &v);
    return v;
}

int32_t seed_today(void)
{
    return seed_ymd(SEED_TODAY_Y, SEED_TODAY_M, SEED_TODAY_D);
}

int32_t seed_add_years(int32_t day, int n)
{
    int y = 0, m = 0, d = 0;

    date_to_ymd(day, &y, &m, &d);
    return seed_ymd(y + n, m, d);
}

/* "YYYY-MM-DD HH:MM:SS.mmm" (UTC, as DATETIME(3) columns hold). */
static void fmt_datetime(int32_t day, unsigned sec, unsigned ms, char out[32])
{
    char d[DATE_STR_SIZE];

    date_format(day, d);
    snprintf(out, 32, "%s %02u:%02u:%02u.%03u", d, (sec / 3600) % 24, (sec / 60) % 60, sec % 60,
             ms % 1000);
}

/* Draws are sequenced one per statement throughout the generators: two
 * draws as arguments of one call would run in an unspecified order, and
 * another compiler could then make another city from the same seed. */
void seed_office_datetime(uint64_t *s, int32_t day, char out[32])
{
    unsigned sec = 30 * 60 + (unsigned)seed_below(s, 9 * 3600);
    unsigned ms = (unsigned)seed_below(s, 1000);

    fmt_datetime(day, sec, ms, out);
}

/* ---- statements ------------------------------------------------------------ */

/* Statement texts, one per table head and per row count 2^k, built on first
 * use and never freed: db.c caches prepared statements by the text's
 * ADDRESS, so a text must keep its address (and content) for the life of
 * the process - freeing one could let a later allocation reuse the address
 * for another statement and hit the wrong cached statement. Keyed by the
 * address of the table's static head. */
typedef struct stmt_set {
    const char *head;
    char *text[SEED_BATCH_LOG2 + 1];
    struct stmt_set *next;
} stmt_set;

static stmt_set *stmt_sets;
static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *stmt_get(const char *head, int cols, int k)
{
    stmt_set *set = NULL;
    char *t = NULL;

    pthread_mutex_lock(&stmt_lock);
    for (set = stmt_sets; set != NULL && set->head != head; set = set->next)
        ;
    if (set == NULL) {
        set = calloc(1, sizeof *set);
        if (set == NULL)
            abort();
        set->head = head;
        set->next = stmt_sets;
        stmt_sets = set;
    }
    t = set->text[k];
    if (t == NULL) {
        size_t rows = (size_t)1 << k, ncols = (size_t)cols;
        size_t hlen = strlen(head), tuple = 2 * ncols + 2; /* "(?,?)," */
        char *p = NULL;

        t = malloc(hlen + rows * tuple + 1);
        if (t == NULL)
            abort();
        memcpy(t, head, hlen);
        p = t + hlen;
        for (size_t r = 0; r < rows; r++) {
            *p++ = r ? ',' : '(';
            if (r)
                *p++ = '(';
            for (size_t c = 0; c < ncols; c++) {
                *p++ = '?';
                *p++ = c + 1 < ncols ? ',' : ')';
            }
        }
        *p = '\0';
        set->text[k] = t;
    }
    pthread_mutex_unlock(&stmt_lock);
    return t;
}

/* ---- progress ---------------------------------------------------------------- */

typedef struct progress {
    bool on;
    const char *table;
    int64_t total, done;
    int64_t t0_ms, last_ms;
    int width;
} progress;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line per table, rewritten in place ("\r") at most 4 times a second;
 * the final call ends it with a newline. */
static void progress_show(progress *p, int final)
{
    int64_t t = 0, el = 0;
    double rate = 0;
    long left = 0;
    int w = 0;

    if (!p->on)
        return;
    t = now_ms();
    if (!final && t - p->last_ms < 250)
        return;
    p->last_ms = t;
    el = t - p->t0_ms;
    rate = el > 0 ? (double)p->done * 1000.0 / (double)el : 0.0;
    left = rate > 0 ? (long)((double)(p->total - p->done) / rate + 0.5) : 0;
    if (final)
        w = fprintf(stderr, "\r%-8s %lld/%lld rows  %.0f rows/s  done in %.1f s", p->table,
                    (long long)p->done, (long long)p->total, rate, (double)el / 1000.0);
    else
        w = fprintf(stderr, "\r%-8s %lld/%lld rows  %.0f rows/s  %ld:%02ld left", p->table,
                    (long long)p->done, (long long)p->total, rate, left / 60, left % 60);
    /* Blank out the rest of a longer previous line. */
    if (w < p->width)
        fprintf(stderr, "%*s", p->width - w, "");
    p->width = w;
    if (final) {
        fputc('\n', stderr);
        p->width = 0;
    }
    fflush(stderr);
}

/* ---- loading ------------------------------------------------------------------ */

typedef struct batch_arg {
    const seed_table *t;
    int nrows;
    const db_val *vals;
    bool strict;
    int64_t affected;
    const char *why;
} batch_arg;

/* One transaction: the batch as one statement per set bit of nrows (a full
 * batch is a single statement). */
static int batch_tx(db_conn *c, void *arg)
{
    batch_arg *a = arg;
    int cols = a->t->cols, pos = 0;

    a->affected = 0;
    a->why = NULL;
    for (int k = SEED_BATCH_LOG2; k >= 0; k--) {
        uint64_t aff = 0;
        int n = 1 << k;

        if (!(a->nrows & n))
            continue;
        if (db_exec(c, stmt_get(a->t->head, cols, k), a->vals + (size_t)pos * cols, n * cols,
                    &aff, NULL) != 0)
            return -1;
        a->affected += (int64_t)aff;
        pos += n;
    }
    /* INSERT IGNORE also skips a row that collides with data not made by
     * this run: on a table we did not resume, that is a bug or foreign data,
     * never something to pass over silently. */
    if (a->strict && a->affected != a->nrows) {
        a->why = "rows collided with existing data (duplicate key)";
        return -1;
    }
    return 0;
}

int seed_load(db_conn *c, const seed_ctx *ctx, const seed_table *t, int64_t total, bool strict,
              int64_t *loaded, char *err, size_t errlen)
{
    unsigned char *rows = NULL;
    db_val *vals = NULL;
    progress pr = {.on = ctx->o.progress, .table = t->name, .total = total, .t0_ms = now_ms()};
    int rc = -1;

    if (t->cols < 1 || t->cols > SEED_MAX_COLS) {
        snprintf(err, errlen, "%s: %d columns (1 to %d)", t->name, t->cols, SEED_MAX_COLS);
        return -1;
    }
    rows = calloc(SEED_BATCH, t->row_size);
    vals = calloc((size_t)SEED_BATCH * (size_t)t->cols, sizeof *vals);
    if (rows == NULL || vals == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int64_t start = 0; start < total; start += SEED_BATCH) {
        int64_t end = start + SEED_BATCH < total ? start + SEED_BATCH : total;
        int nrows = 0, brc = -1;
        batch_arg a = {.t = t, .vals = vals, .strict = strict};

        for (int64_t i = start; i < end; i++) {
            int r = t->gen(t->arg, i, rows + (size_t)nrows * t->row_size,
                           vals + (size_t)nrows * (size_t)t->cols);

            if (r < 0) {
                nrows++; /* its half-made values still need freeing */
                snprintf(err, errlen, "%s: %s", t->name,
                         t->gen_error != NULL ? t->gen_error : "cannot generate a row");
                goto drop;
            }
            nrows += r;
        }
        a.nrows = nrows;
        if (nrows == 0) {
            brc = 0;
        } else if (db_tx(c, batch_tx, &a, SEED_TX_ATTEMPTS, NULL) == 0) {
            *loaded += a.affected;
            brc = 0;
        } else if (db_error(c) == DB_OK && a.why != NULL) {
            snprintf(err, errlen, "%s: rows %lld-%lld: %s", t->name, (long long)start + 1,
                     (long long)end, a.why);
        } else {
            snprintf(err, errlen, "%s: %s", t->name, db_errmsg(c));
        }
drop:
        if (t->drop != NULL)
            for (int k = 0; k < nrows; k++)
                t->drop(rows + (size_t)k * t->row_size);
        if (brc != 0) {
            if (pr.on)
                fputc('\n', stderr);
            goto done;
        }
        pr.done = end;
        progress_show(&pr, end == total);
    }
    rc = 0;
done:
    free(rows);
    free(vals);
    return rc;
}

typedef struct sql_chunk_arg {
    const seed_sql_table *t;
    const db_val *vals;
    int64_t affected;
} sql_chunk_arg;

static int sql_chunk_tx(db_conn *c, void *arg)
{
    sql_chunk_arg *a = arg;
    uint64_t aff = 0;

    if (db_exec(c, a->t->sql, a->vals, a->t->nparams, &aff, NULL) != 0)
        return -1;
    a->affected = (int64_t)aff;
    return 0;
}

int seed_load_sql(db_conn *c, const seed_ctx *ctx, const seed_sql_table *t, int64_t total,
                  int64_t *loaded, char *err, size_t errlen)
{
    db_val vals[SEED_MAX_COLS];
    progress pr = {.on = ctx->o.progress, .table = t->name, .total = total, .t0_ms = now_ms()};

    if (t->nparams < 0 || t->nparams > SEED_MAX_COLS) {
        snprintf(err, errlen, "%s: %d parameters (at most %d)", t->name, t->nparams, SEED_MAX_COLS);
        return -1;
    }
    for (int64_t start = 0; start < total; start += SEED_SQL_CHUNK) {
        int64_t n = total - start < SEED_SQL_CHUNK ? total - start : SEED_SQL_CHUNK;
        sql_chunk_arg a = {.t = t, .vals = vals};

        t->bind(t->arg, start, n, vals);
        if (db_tx(c, sql_chunk_tx, &a, SEED_TX_ATTEMPTS, NULL) != 0) {
            if (pr.on)
                fputc('\n', stderr);
            snprintf(err, errlen, "%s: %s", t->name, db_errmsg(c));
            return -1;
        }
        *loaded += a.affected;
        pr.done = start + n;
        progress_show(&pr, start + n == total);
    }
    return 0;
}

/* One BIGINT from a one-row query; *found = 0 when there is no row. */
static int query_i64(db_conn *c, const char *sql, const db_val *params, int n, int64_t *out,
                     int *found)
{
    db_rows *r = NULL;

    if (db_query(c, sql, params, n, &r) != 0)
        return -1;
    *found = r->nrows > 0 && db_cell(r, 0, 0) != NULL;
    *out = *found ? db_cell_i64(r, 0, 0) : 0;
    db_rows_free(r);
    return 0;
}

int seed_id_range(db_conn *c, const char *sql, int64_t *lo, int64_t *count)
{
    db_rows *r = NULL;

    *lo = *count = 0;
    if (db_query(c, sql, NULL, 0, &r) != 0)
        return -1;
    if (r->nrows > 0) {
        *lo = db_cell_i64(r, 0, 0);
        *count = db_cell_i64(r, 0, 1);
    }
    db_rows_free(r);
    return 0;
}

int seed_find_offset(db_conn *c, const char *table, const char *find_sql, db_val key,
                     const char *max_sql, int64_t first, int64_t *off, bool *resumed,
                     char *err, size_t errlen)
{
    int64_t v = 0;
    int found = 0;

    if (query_i64(c, find_sql, &key, 1, &v, &found) != 0)
        goto fail;
    if (found) {
        *off = v - 1 - first;
        *resumed = true;
        return 0;
    }
    if (query_i64(c, max_sql, NULL, 0, &v, &found) != 0)
        goto fail;
    *off = v;
    *resumed = false;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", table, db_errmsg(c));
    return -1;
}

int seed_run(db_conn *c, const seed_opts *o, const seed_hook *const *hooks, int nhooks,
             int64_t *loaded, char *err, size_t errlen)
{
    seed_ctx ctx = {.o = *o};
    int64_t v = 0, sum = 0;
    int found = 0, locked = 0, rc = -1;

    /* The command's defaults, for callers that leave an option unset. */
    if (ctx.o.people < 0)
        ctx.o.people = 1000;
    if (ctx.o.vehicles < 0)
        ctx.o.vehicles = ctx.o.people * 6 / 5;
    *loaded = 0;
    if (errlen > 0)
        err[0] = '\0';
    for (int i = 0; i < nhooks; i++)
        if (hooks[i]->check != NULL && hooks[i]->check(&ctx, err, errlen) != 0)
            return -1;
    if (db_conn_ensure(c) != 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(c));
        return -1;
    }
    if (query_i64(c, SQL_LOCK, NULL, 0, &v, &found) != 0) {
        snprintf(err, errlen, "lock: %s", db_errmsg(c));
        return -1;
    }
    if (v != 1) {
        snprintf(err, errlen, "another seed run holds the lock 'onetrip_seed'");
        return -1;
    }
    locked = 1;
    /* The demo city is loaded once: any marker, this seed's or another's. */
    if (query_i64(c, SQL_MARKER_ANY, NULL, 0, &v, &found) != 0) {
        snprintf(err, errlen, "demo_seed: %s", db_errmsg(c));
        goto done;
    }
    if (found) {
        rc = 0;
        goto done;
    }
    for (int i = 0; i < nhooks; i++)
        if (hooks[i]->load != NULL && hooks[i]->load(c, &ctx, &sum, err, errlen) != 0)
            goto done;
    if (db_exec(c, SQL_MARKER_ADD,
                DBP(DB_I64((int64_t)ctx.o.seed), DB_I64(ctx.o.people), DB_I64(ctx.o.vehicles)), NULL,
                NULL) != 0) {
        snprintf(err, errlen, "demo_seed: %s", db_errmsg(c));
        goto done;
    }
    *loaded = sum;
    rc = 0;
done:
    /* A failed unlock is ignored: the lock also ends with the session, and
     * the data (or the error) is what the caller needs to hear about. */
    if (locked)
        (void)query_i64(c, SQL_UNLOCK, NULL, 0, &v, &found);
    return rc;
}
