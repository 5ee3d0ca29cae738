/* violations_seed.h - the violations module's demo data (violations_seed.c). */
#ifndef ONETRIP_VIOLATIONS_SEED_H
#define ONETRIP_VIOLATIONS_SEED_H

#include "server/app.h"

/* `onetripd seed --violations N`: N violations over the seeded vehicles. */
extern const app_seeder violations_seeder;

#endif
