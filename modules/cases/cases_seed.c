/* cases_seed.c - `onetripd seed --cases N` (machinery in db/seed.h): N
 * closed (completed) cases of the seeded citizens over the catalogue's
 * items, channels and the last 720 days, the history a bureau carries. For
 * populations of millions (ops/bench), so MariaDB makes the rows itself
 * (seed_load_sql): row k is a pure function of (seed, k) through CRC32
 * hashes, its number ("C0" and k in 14 digits: no real number has year 0)
 * is unique, and a re-run after a crash skips the rows already there
 * (INSERT IGNORE on uq_cases_number). No trips, events or rollup rows: run `cases-rollup`
 * for figures. With the default of 0 nothing is loaded. */
#include "modules/cases/cases_seed.h"

#include <stdio.h>

#include "db/seed.h"

typedef struct case_gen {
    uint64_t seed;
    int64_t clo, ccount; /* citizens: ids clo .. clo + ccount - 1 */
    int64_t vlo, vcount; /* catalogue versions */
} case_gen;

/* x: the index k and hashes h (channel, days, trips) and h2 (applicant);
 * cv: a catalogue version; submitted d days before the demo's today. */
static const char SQL_ADD[] =
    "INSERT IGNORE INTO cases (number, query_code, item_code, catalog_version_id, category,"
    " applicant_id, channel, state, submitted_at, submitted_day, promised_days, deadline,"
    " accepted_at, completed_at, completed_day, trips, updated_at) "
    "SELECT CONCAT('C0', LPAD(x.k, 14, '0')), LPAD(HEX(x.h2 ^ ?), 8, '0'), cv.item_code, cv.id, cv.category,"
    " ? + x.h2 % ?, ELT(1 + x.h % 5, 'app', 'window', 'post', 'dealer', 'insurer'), 'completed',"
    " x.at, DATE(x.at), cv.promised_days, DATE(x.at) + INTERVAL (cv.promised_days + 2) DAY,"
    " x.at + INTERVAL 1 HOUR, x.at + INTERVAL x.took DAY, DATE(x.at + INTERVAL x.took DAY),"
    " IF((x.h DIV 5) % 3 = 0, 1, 0), x.at + INTERVAL x.took DAY "
    "FROM (SELECT y.k, y.h, y.h2, (y.h DIV 15) % 4 AS took,"
    "  TIMESTAMP('2026-11-01 00:30:00') - INTERVAL (y.h3 % 62208000) SECOND AS at"
    " FROM (SELECT z.k, CRC32(CONCAT(?, '/c/', z.k)) AS h, CRC32(CONCAT(z.k, '/c/', ?)) AS h2,"
    "  CRC32(CONCAT('ct', z.k, '/', ?)) AS h3"
    "  FROM (SELECT ? + s.seq AS k FROM " SEED_SQL_ROWS " s WHERE s.seq < ?) z) y) x "
    "JOIN catalog_versions cv ON cv.id = ? + x.h % ? "
    "ORDER BY x.k";

static const char SQL_CITIZENS[] = "SELECT COALESCE(MIN(id), 0), COUNT(*) FROM citizens";
static const char SQL_VERSIONS[] = "SELECT COALESCE(MIN(id), 0), COUNT(*) FROM catalog_versions";

static void bind_chunk(const void *arg, int64_t start, int64_t n, db_val *v)
{
    const case_gen *g = arg;

    v[0] = DB_I64((int64_t)(g->seed & 0x7fffffff));
    v[1] = DB_I64(g->clo);
    v[2] = DB_I64(g->ccount);
    v[3] = DB_I64((int64_t)g->seed);
    v[4] = DB_I64((int64_t)g->seed);
    v[5] = DB_I64((int64_t)g->seed);
    v[6] = DB_I64(start);
    v[7] = DB_I64(n);
    v[8] = DB_I64(g->vlo);
    v[9] = DB_I64(g->vcount);
}

static int cases_seed_load(db_conn *c, const seed_ctx *ctx, int64_t *loaded, char *err,
                           size_t errlen)
{
    case_gen g = {.seed = ctx->o.seed};
    seed_sql_table t = {"cases", SQL_ADD, 10, bind_chunk, &g};

    if (ctx->o.cases <= 0)
        return 0;
    /* The seeded citizens' ids are consecutive (people_seed.c). */
    if (seed_id_range(c, SQL_CITIZENS, &g.clo, &g.ccount) != 0 ||
        seed_id_range(c, SQL_VERSIONS, &g.vlo, &g.vcount) != 0) {
        snprintf(err, errlen, "cases: %s", db_errmsg(c));
        return -1;
    }
    if (g.ccount < 1 || g.vcount < 1) {
        snprintf(err, errlen, "cases: no citizens or no catalogue to make cases of");
        return -1;
    }
    return seed_load_sql(c, ctx, &t, ctx->o.cases, loaded, err, errlen);
}

const app_seeder cases_seeder = {NULL, cases_seed_load};
