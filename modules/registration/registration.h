/* registration.h - what other modules may use of registration: the plate
 * and VIN rules (pure, see plate_rules.h and vin.h) and the generators of
 * valid plate numbers and VINs for demo data (registration_seed.c; people's
 * seed makes the vehicles). Pure functions, thread-safe. */
#ifndef ONETRIP_REGISTRATION_H
#define ONETRIP_REGISTRATION_H

#include <stdint.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/vin.h"

/* Plate numbers of one prefix with at most two letters (24 letters, no I or
 * O; 10 digits): 10^5 + 5 * 24 * 10^4 + 10 * 24^2 * 10^3. */
#define REGISTRATION_PLATE_SPACE 7060000ULL

/* The plate number of ordinal p < REGISTRATION_PLATE_SPACE: a bijection
 * (distinct ordinals, distinct numbers; each passes
 * registration_plate_number_check(number, 2, ...)). Returns 0, or -1 when p
 * is out of range. */
int registration_plate_number_at(uint64_t p, char out[REGISTRATION_PLATE_NUMBER_LEN + 1]);

/* Characters a VIN may hold (0-9, A-Z without I, O, Q): 33 of them. */
#define REGISTRATION_VIN_CHARS "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
#define REGISTRATION_VIN_NCHARS 33
/* Serial numbers registration_vin_compose can write (position 11 carries
 * the millions, positions 12-17 the rest). */
#define REGISTRATION_VIN_SERIALS (33ULL * 1000000)

/* A valid VIN from its parts: the manufacturer's WMI (3 characters), the
 * vehicle descriptor (5 characters of REGISTRATION_VIN_CHARS), the model
 * year (its code cycles every 30 years from 2001) and a serial below
 * REGISTRATION_VIN_SERIALS; the check digit is computed. Distinct serials
 * give distinct VINs. Returns 0, or -1 on a part out of range. */
int registration_vin_compose(const char *wmi, const char *vds, int year, uint64_t serial,
                             char out[REGISTRATION_VIN_LEN + 1]);

#endif
