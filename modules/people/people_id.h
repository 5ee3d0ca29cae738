/* people_id.h - checks of personal identifiers (pure, unit-tested). */
#ifndef ONETRIP_PEOPLE_ID_H
#define ONETRIP_PEOPLE_ID_H

#include <stdint.h>

#define PEOPLE_ID_LEN 18

/* GB 11643-1999 citizen ID number: 17 digits (6 region, 8 birth date
 * YYYYMMDD, 3 sequence) and an ISO 7064 MOD 11-2 check character (0-9 or
 * X; a lower-case x is accepted). On success writes the normalized number
 * (upper-case X) into norm and the birth date (days since 1970, see
 * server/date.h) into *birth (either may be NULL) and returns 0. Returns
 * -1 with *why = "id_number_format", "id_number_birth_date" or
 * "id_number_check_digit". */
int people_id_number_check(const char *id, char norm[PEOPLE_ID_LEN + 1], int32_t *birth,
                           const char **why);
/* The check character for the first 17 digits ('0'..'9' or 'X'); 0 if
 * they are not 17 digits. */
char people_id_check_char(const char *first17);
/* Mainland mobile number: 11 digits starting 13-19. 0 valid, -1 not. */
int people_phone_check(const char *phone);

#endif
