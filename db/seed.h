/* seed.h - the machinery behind `onetripd seed` (the demo city).
 *
 * The generators live in the modules that own the data (a module's
 * app_module.seed, server/app.h); this layer only runs them: the options,
 * deterministic random streams, a fixed "today", batched multi-row inserts
 * with progress on stderr, and the demo_seed marker.
 *
 * Deterministic: the same seed and sizes always make the same city, so every
 * generated row must be a pure function of (seed, table, row index) - use
 * seed_rng_row streams and seed_perm bijections, never the clock or rand().
 * Idempotent: a run that finds the demo_seed marker loads nothing; a run that
 * died midway left no marker, and the next one regenerates the same rows
 * (INSERT IGNORE skips those already there). Everything here blocks. */
#ifndef ONETRIP_DB_SEED_H
#define ONETRIP_DB_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db/db.h"

/* The command's options, already defaulted and bounded by `onetripd seed`. */
typedef struct seed_opts {
    int64_t people;          /* citizens (each adult with a licence); default 1000 */
    int64_t vehicles;        /* default: people * 6 / 5 */
    uint64_t seed;           /* default 1 */
    const char *plate_prefix;/* default "浙A" (NULL or "": people's default) */
    int64_t violations;      /* violations over the seeded vehicles; default 0 */
    int64_t cases;           /* completed cases of the seeded citizens; default 0 */
    bool progress;           /* show progress on stderr */
} seed_opts;

/* What a module's seed hooks see: the options (people and vehicles
 * defaulted; plate_prefix may be NULL or "" for the owner's default). */
typedef struct seed_ctx {
    seed_opts o;
} seed_ctx;

/* A module's generator. check runs first, for every module, before anything
 * is locked or written: it refuses options it cannot honour (0, or -1 with a
 * reason in err). load writes the module's rows (through seed_load) and adds
 * what it inserted to *loaded; 0, or -1 with a reason in err. Either may be
 * NULL. */
typedef struct seed_hook {
    int (*check)(const seed_ctx *ctx, char *err, size_t errlen);
    int (*load)(db_conn *c, const seed_ctx *ctx, int64_t *loaded, char *err, size_t errlen);
} seed_hook;

/* Runs the hooks in the order given (a module's data before the data that
 * refers to it): every check, then under the named lock 'onetrip_seed' and
 * only if no demo_seed marker exists, every load, then the marker.
 * Returns 0 (also when the data was already there; *loaded = 0), -1 with a
 * reason in err. */
int seed_run(db_conn *c, const seed_opts *o, const seed_hook *const *hooks, int nhooks,
             int64_t *loaded, char *err, size_t errlen);

/* ---- random numbers: pure, thread-safe ---------------------------------- */

/* Vigna's splitmix64 step. */
uint64_t seed_splitmix64(uint64_t *state);
/* The state of an independent stream for one row (stream: a per-module
 * constant below 256, one per table or bijection; idx: the row index), so
 * rows can be generated in any order, or again after a crash. */
uint64_t seed_rng_row(uint64_t seed, uint64_t stream, uint64_t idx);
/* Uniform enough in [0, n) for demo data (modulo bias < 2^-30); n > 0. */
uint64_t seed_below(uint64_t *s, uint64_t n);
/* True with probability per_mille/1000. */
bool seed_chance(uint64_t *s, unsigned per_mille);

/* i -> (a*i + b) mod n with gcd(a, n) = 1: a permutation of [0, n), for
 * unique columns (a unique output per index, no retries). n < 2^32. */
typedef struct seed_perm {
    uint64_t n, a, b;
} seed_perm;
void seed_perm_init(seed_perm *p, uint64_t n, uint64_t seed, uint64_t stream);
uint64_t seed_perm_apply(const seed_perm *p, uint64_t i);

/* ---- dates of the demo city ------------------------------------------------ */

/* "Today" of the demo city (days since 1970, server/date.h): fixed, not the
 * clock, so rows do not depend on the day the demo was loaded. */
int32_t seed_today(void);

/* A calendar day; 29 February of a non-leap year becomes the 28th (that is
 * how anniversaries of leap-day dates are kept). */
int32_t seed_ymd(int y, int m, int d);
int32_t seed_add_years(int32_t day, int n);
/* A random moment of office hours on day, 08:30-17:30 in Hangzhou (UTC+8),
 * written as UTC "YYYY-MM-DD HH:MM:SS.mmm" (DATETIME(3)); two draws. */
void seed_office_datetime(uint64_t *s, int32_t day, char out[32]);

/* ---- loading ------------------------------------------------------------ */

/* One table's rows. gen fills the parameters of row i (cols values) into
 * vals, using row (row_size bytes of scratch that lives until the batch is
 * sent) for the bytes they point at; returns 1 for a row, 0 when index i
 * makes no row, -1 on failure (drop still runs on that row). */
typedef struct seed_table {
    const char *name;       /* for progress and errors */
    const char *head;       /* static "INSERT IGNORE INTO t (a, b) VALUES " */
    int cols;               /* at most SEED_MAX_COLS */
    size_t row_size;
    int (*gen)(const void *arg, int64_t i, void *row, db_val *vals);
    void (*drop)(void *row); /* optional: frees what gen allocated */
    const char *gen_error;  /* what a failed gen means, for err */
    const void *arg;
} seed_table;

#define SEED_MAX_COLS 16

/* Generates rows 0..total-1 and inserts them in batches, one transaction
 * each. strict: every row must be new (a table that was not resumed), so a
 * row that INSERT IGNORE skipped is an error. Adds the inserted rows to
 * *loaded. Returns 0, or -1 with a reason in err. */
int seed_load(db_conn *c, const seed_ctx *ctx, const seed_table *t, int64_t total, bool strict,
              int64_t *loaded, char *err, size_t errlen);

/* Rows made by MariaDB itself, for tables of millions of rows (the
 * violations and cases of `ops/bench`): sql is a static INSERT ... SELECT
 * over SEED_SQL_ROWS (the numbers 0..SEED_SQL_CHUNK-1 as column seq, made
 * without the sequence engine, whose tables the application user may not
 * read) whose rows are pure functions of the seed and the row index
 * (hashes such as CRC32(CONCAT(seed, '/', k)), never RAND()). bind fills
 * its nparams parameters for rows start..start+n-1 into vals. One chunk per
 * transaction, progress as seed_load shows it; adds the inserted rows to
 * *loaded. Returns 0, or -1 with a reason in err. */
#define SEED_SQL_CHUNK 65536
#define SEED_SQL_HEX                                                                        \
    "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL "      \
    "SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 "   \
    "UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 "        \
    "UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15)"
#define SEED_SQL_ROWS                                                                       \
    "(SELECT h0.d + 16 * h1.d + 256 * h2.d + 4096 * h3.d AS seq FROM " SEED_SQL_HEX " h0, "  \
    SEED_SQL_HEX " h1, " SEED_SQL_HEX " h2, " SEED_SQL_HEX " h3)"
typedef struct seed_sql_table {
    const char *name;
    const char *sql;
    int nparams; /* at most SEED_MAX_COLS */
    void (*bind)(const void *arg, int64_t start, int64_t n, db_val *vals);
    const void *arg;
} seed_sql_table;

int seed_load_sql(db_conn *c, const seed_ctx *ctx, const seed_sql_table *t, int64_t total,
                  int64_t *loaded, char *err, size_t errlen);

/* Where a table's rows start (id = *off + index + 1): if its row of index
 * first is already there (find_sql, one parameter key, returns its id), a
 * previous run of this seed died midway and the rows continue at the same
 * ids (*resumed = true); otherwise after max_sql's largest id. Returns 0, or
 * -1 with a reason in err. */
int seed_find_offset(db_conn *c, const char *table, const char *find_sql, db_val key,
                     const char *max_sql, int64_t first, int64_t *off, bool *resumed,
                     char *err, size_t errlen);

/* A table's ids for a generator that draws from them: sql returns one row
 * of two integers, the lowest id and how many rows (e.g. "SELECT
 * COALESCE(MIN(id), 0), COUNT(*) FROM t"). Returns 0, or -1 (the error in
 * the connection). */
int seed_id_range(db_conn *c, const char *sql, int64_t *lo, int64_t *count);

#endif
