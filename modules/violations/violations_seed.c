/* violations_seed.c - `onetripd seed --violations N` (machinery in
 * db/seed.h): N violations spread over every seeded vehicle, the five
 * issuing agencies, two years and a few common offences; most handled on
 * the owner's licence and paid, the rest still open. For populations of
 * millions (ops/bench), so MariaDB makes the rows itself (seed_load_sql):
 * row k is a pure function of (seed, k) through CRC32 hashes, its decision
 * number "S<seed>-<k>" is unique, and a re-run after a crash skips the rows
 * already there (INSERT IGNORE on uq_violations_decision). Handled rows get
 * no violation_handlings row: these are history, not handlings to audit.
 * With the default of 0 nothing is loaded (the demo city is unchanged). */
#include "modules/violations/violations_seed.h"

#include <stdio.h>

#include "db/seed.h"

typedef struct viol_gen {
    uint64_t seed;
    int64_t vlo, vcount; /* vehicles: ids vlo .. vlo + vcount - 1 */
} viol_gen;

/* Offences: code, description, fine (fen), points; picked by h DIV 5 % 6. */
#define OFFENCES(X)                                                                          \
    X("1345", "机动车违反禁止标线指示的", 20000, 3)                                          \
    X("1625", "驾驶机动车违反道路交通信号灯通行的", 20000, 6)                                \
    X("1039", "机动车违反规定停放、临时停车且驾驶人不在现场，妨碍其他车辆、行人通行的", 15000, 0) \
    X("1352", "驾驶机动车超过规定时速10%未达20%的", 20000, 3)                              \
    X("1101", "驾驶机动车在高速公路上不按规定使用安全带的", 5000, 2)                         \
    X("1042", "机动车不按规定车道行驶的", 10000, 3)
#define CODE_OF(c, d, f, p) "'" c "',"
#define DESC_OF(c, d, f, p) "'" d "',"
#define FINE_OF(c, d, f, p) "'" #f "',"
#define POINTS_OF(c, d, f, p) "'" #p "',"

/* x: the row index k, hashes h (place, offence, agency, source) and h2
 * (vehicle), the time and st; ve: the vehicle; l: its owner's licence, if
 * any. S is the state: 1 paid (70%), 2 handled (10%), 3 recorded (20%, and
 * whenever the owner holds no licence). */
#define S "IF(l.id IS NULL OR x.st >= 8, 3, IF(x.st < 7, 1, 2))"
static const char SQL_ADD[] =
    "INSERT IGNORE INTO violations (decision_no, plate, vehicle_type, vehicle_id, licence_id,"
    " citizen_id, occurred_at, place, code, description, fine_fen, points, agency, source,"
    " served_date, state, handled_at, handled_channel, paid_at, created_at) "
    "SELECT CONCAT('S', ?, '-', x.k), ve.plate, ve.vehicle_type, ve.id,"
    " IF(" S " < 3, l.id, NULL), IF(" S " < 3, ve.owner_citizen_id, NULL), x.at,"
    " ELT(1 + x.h % 8, '文三路与学院路交叉口', '天目山路古荡段', '沪杭甬高速杭州段K158',"
    "  '萧山机场航站楼前道路', '杭州东站东广场', '延安路武林广场段', '钱江路与新业路交叉口',"
    "  '古墩路三墩段'),"
    " ELT(1 + x.o, " OFFENCES(CODE_OF) "''),"
    " ELT(1 + x.o, " OFFENCES(DESC_OF) "''),"
    " ELT(1 + x.o, " OFFENCES(FINE_OF) "'0') + 0,"
    " ELT(1 + x.o, " OFFENCES(POINTS_OF) "'0') + 0,"
    " ELT(1 + (x.h DIV 8) % 5, 'traffic', 'highway', 'airport', 'railway', 'urban'),"
    " IF((x.h DIV 40) % 10 < 8, 'camera', 'officer'),"
    " DATE(x.at + INTERVAL 5 DAY),"
    " ELT(" S ", 'paid', 'handled', 'recorded'),"
    " IF(" S " < 3, x.at + INTERVAL 12 DAY, NULL), IF(" S " < 3, 'app', NULL),"
    " IF(" S " = 1, x.at + INTERVAL 12 DAY + INTERVAL 5 MINUTE, NULL),"
    " x.at + INTERVAL 1 DAY "
    "FROM (SELECT y.k, y.h, y.h2, (y.h DIV 400) % 6 AS o, (y.h3 DIV 63072000) % 10 AS st,"
    "  TIMESTAMP('2026-11-01 00:00:00') - INTERVAL (y.h3 % 63072000) SECOND AS at"
    " FROM (SELECT z.k, CRC32(CONCAT(?, '/', z.k)) AS h, CRC32(CONCAT(z.k, '/', ?)) AS h2,"
    "  CRC32(CONCAT('t', z.k, '/', ?)) AS h3"
    "  FROM (SELECT ? + s.seq AS k FROM " SEED_SQL_ROWS " s WHERE s.seq < ?) z) y) x "
    "JOIN vehicles ve ON ve.id = ? + x.h2 % ? "
    "LEFT JOIN licences l ON l.citizen_id = ve.owner_citizen_id "
    "ORDER BY x.k";
#undef S

static const char SQL_VEHICLES[] = "SELECT COALESCE(MIN(id), 0), COUNT(*) FROM vehicles";

static void bind_chunk(const void *arg, int64_t start, int64_t n, db_val *v)
{
    const viol_gen *g = arg;

    v[0] = DB_I64((int64_t)g->seed);
    v[1] = DB_I64((int64_t)g->seed);
    v[2] = DB_I64((int64_t)g->seed);
    v[3] = DB_I64((int64_t)g->seed);
    v[4] = DB_I64(start);
    v[5] = DB_I64(n);
    v[6] = DB_I64(g->vlo);
    v[7] = DB_I64(g->vcount);
}

static int violations_seed_check(const seed_ctx *ctx, char *err, size_t errlen)
{
    if (ctx->o.violations > 0 && ctx->o.vehicles < 1) {
        snprintf(err, errlen, "violations: need at least one vehicle to fine");
        return -1;
    }
    return 0;
}

static int violations_seed_load(db_conn *c, const seed_ctx *ctx, int64_t *loaded, char *err,
                                size_t errlen)
{
    viol_gen g = {.seed = ctx->o.seed};
    seed_sql_table t = {"violations", SQL_ADD, 8, bind_chunk, &g};

    if (ctx->o.violations <= 0)
        return 0;
    /* The seeded vehicles' ids are consecutive (people_seed.c). */
    if (seed_id_range(c, SQL_VEHICLES, &g.vlo, &g.vcount) != 0) {
        snprintf(err, errlen, "violations: %s", db_errmsg(c));
        return -1;
    }
    if (g.vcount < 1) {
        snprintf(err, errlen, "violations: no vehicles to fine");
        return -1;
    }
    return seed_load_sql(c, ctx, &t, ctx->o.violations, loaded, err, errlen);
}

const app_seeder violations_seeder = {violations_seed_check, violations_seed_load};
