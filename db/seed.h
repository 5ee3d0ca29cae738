/* seed.h - the demo-city generator behind `onetripd seed`.
 *
 * Deterministic: the same seed and sizes always make the same city (people,
 * licences, vehicles with plates like 浙A12345 (shown 浙A·12345) under the configured
 * prefix, outlets). Idempotent: a run that finds the demo data already
 * present (same seed marker) loads nothing twice. Bulk inserts through
 * multi-row prepared statements; a million vehicles in minutes. Progress
 * (rows, rate, time left) on stderr when it is a terminal. Blocks. */
#ifndef ONETRIP_DB_SEED_H
#define ONETRIP_DB_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db/db.h"

typedef struct seed_opts {
    int64_t people;          /* citizens (each with a licence); default 1000 */
    int64_t vehicles;        /* default: people * 6 / 5 */
    uint64_t seed;           /* default 1 */
    const char *plate_prefix;/* default "浙A" */
    bool progress;           /* show progress on stderr */
} seed_opts;

/* Returns 0 (also when the data was already there; *loaded = 0), -1 with
 * a reason in err. PII is sealed with the process keyring (server/pii.h). */
int seed_run(db_conn *c, const seed_opts *o, int64_t *loaded, char *err, size_t errlen);

#endif
