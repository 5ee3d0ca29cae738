/* cases_seed.h - the cases module's demo data (cases_seed.c). */
#ifndef ONETRIP_CASES_SEED_H
#define ONETRIP_CASES_SEED_H

#include "server/app.h"

/* `onetripd seed --cases N`: N completed cases of the seeded citizens. */
extern const app_seeder cases_seeder;

#endif
