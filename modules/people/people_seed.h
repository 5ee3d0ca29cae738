/* people_seed.h - the people module's demo data (people_seed.c). */
#ifndef ONETRIP_PEOPLE_SEED_H
#define ONETRIP_PEOPLE_SEED_H

#include <stdint.h>

#include "server/app.h"

/* Outlets, citizens, licences and vehicles for `onetripd seed`. */
extern const app_seeder people_seeder;

/* The unique identifiers of row idx for a seed, for tests (pure): 0, or -1
 * when idx is beyond the number space. */
int people_seed_id_number(uint64_t seed, uint64_t idx, char out[19]);
int people_seed_file_no(uint64_t seed, uint64_t idx, char out[13]);
int people_seed_plate_number(uint64_t seed, uint64_t idx, char out[6]);
int people_seed_vin(uint64_t seed, int64_t people, uint64_t idx, char out[18]);

#endif
