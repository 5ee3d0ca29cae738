/* fuzz_plate_vin: the plate and VIN rules of registration.h. A byte picks
 * max_letters; the rest is the text. A valid VIN's check digit is the one
 * registration_vin_expected_check computes; a valid plate formats into the
 * documented size. */
#include "tests/fuzz/fuzz_util.h"

#include "modules/registration/registration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, out[REGISTRATION_PLATE_FORMAT_SIZE], small[5];
    const char *why = NULL;
    int max_letters;

    if (size < 1)
        return 0;
    max_letters = (int)(int8_t)data[0]; /* below 0 and above 5 included */
    s = fuzz_str(data + 1, size - 1);

    if (registration_vin_check(s, &why) == 0) {
        FUZZ_ASSERT(strlen(s) == REGISTRATION_VIN_LEN);
        FUZZ_ASSERT(registration_vin_expected_check(s) == s[REGISTRATION_VIN_CHECK_POS - 1]);
    } else {
        FUZZ_ASSERT(why != NULL);
    }
    (void)registration_vin_expected_check(s);

    why = NULL;
    if (registration_plate_number_check(s, max_letters, &why) == 0)
        FUZZ_ASSERT(strlen(s) == REGISTRATION_PLATE_NUMBER_LEN);
    else
        FUZZ_ASSERT(why != NULL);

    /* "prefix|number": the prefix check and the formatter on both parts */
    {
        char *bar = strchr(s, '|');
        const char *prefix = s, *number = "12345";
        if (bar) {
            *bar = '\0';
            number = bar + 1;
        }
        why = NULL;
        if (registration_plate_prefix_check(prefix, &why) == 0) {
            FUZZ_ASSERT(strlen(prefix) == REGISTRATION_PLATE_PREFIX_BYTES);
            if (registration_plate_number_check(number, 5, NULL) == 0) {
                registration_plate_format(prefix, number, out, sizeof out);
                FUZZ_ASSERT(out[0] != '\0');
            }
        }
        registration_plate_format(prefix, number, out, sizeof out);
        FUZZ_ASSERT(memchr(out, '\0', sizeof out) != NULL);
        registration_plate_format(prefix, number, small, sizeof small);
        FUZZ_ASSERT(memchr(small, '\0', sizeof small) != NULL);
    }
    free(s);
    return 0;
}
