/* registration_seed.c - valid plate numbers and VINs for demo data (see
 * registration.h): the identifier rules live here, beside their checks, so
 * the demo city cannot drift from what registration accepts. */
#include <stdio.h>
#include <string.h>

#include "modules/registration/registration.h"

/* Letters allowed on plates (no I, O). */
static const char plate_letters[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
/* VIN model-year codes (position 10) for 2001..2030. */
static const char vin_years[] = "123456789ABCDEFGHJKLMNPRSTVWXY";

/* The space is laid out as 16 letter patterns (no letter; one letter at
 * each of 5 positions; two letters at each of 10 position pairs), each a
 * block of 24^letters * 10^digits numbers read in mixed radix. */
int registration_plate_number_at(uint64_t p, char out[REGISTRATION_PLATE_NUMBER_LEN + 1])
{
    unsigned mask = 0;

    if (p >= REGISTRATION_PLATE_SPACE)
        return -1;
    for (unsigned m = 0; m < 32; m++) {
        int letters = __builtin_popcount(m);
        uint64_t size = 1;

        if (letters > 2)
            continue;
        for (int k = 0; k < 5; k++)
            size *= (m >> k) & 1 ? 24 : 10;
        if (p < size) {
            mask = m;
            break;
        }
        p -= size;
    }
    for (int k = 4; k >= 0; k--) {
        if ((mask >> k) & 1) {
            out[k] = plate_letters[p % 24];
            p /= 24;
        } else {
            out[k] = (char)('0' + p % 10);
            p /= 10;
        }
    }
    out[5] = '\0';
    return 0;
}

int registration_vin_compose(const char *wmi, const char *vds, int year, uint64_t serial,
                             char out[REGISTRATION_VIN_LEN + 1])
{
    static const char chars[] = REGISTRATION_VIN_CHARS;

    if (wmi == NULL || vds == NULL || strlen(wmi) != 3 || strlen(vds) != 5 || year < 2001 ||
        serial >= REGISTRATION_VIN_SERIALS)
        return -1;
    memcpy(out, wmi, 3);
    memcpy(out + 3, vds, 5);
    out[8] = '0';
    out[9] = vin_years[(unsigned)(year - 2001) % (sizeof vin_years - 1)];
    out[10] = chars[(serial / 1000000) % (sizeof chars - 1)];
    snprintf(out + 11, 7, "%06u", (unsigned)(serial % 1000000));
    out[17] = '\0';
    out[8] = registration_vin_expected_check(out);
    return out[8] != '\0' ? 0 : -1;
}
