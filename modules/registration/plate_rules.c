/* plate_rules.c - see plate_rules.h for the rules. */
#include "modules/registration/plate_rules.h"

#include <string.h>

/* Province abbreviations, each a 3-byte UTF-8 sequence (all are in the
 * Basic Multilingual Plane's CJK block). Kept as one string so that the
 * list reads like the standard's. */
static const char provinces[] = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
#define PROVINCE_BYTES ((size_t)3)
#define PROVINCE_COUNT ((size_t)31)
_Static_assert(sizeof provinces - 1 == PROVINCE_BYTES * PROVINCE_COUNT,
               "every province abbreviation must be 3 bytes of UTF-8");

static const char middle_dot[] = "\xC2\xB7"; /* U+00B7 */

static int reject(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

/* Letters a plate may carry: A-Z without I and O. */
static int is_plate_letter(char c)
{
    return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O';
}

int registration_plate_number_check(const char *number, int max_letters, const char **why)
{
    int letters = 0, forbidden = 0;

    if (max_letters < 0)
        max_letters = 0;
    if (max_letters > REGISTRATION_PLATE_NUMBER_LEN)
        max_letters = REGISTRATION_PLATE_NUMBER_LEN;

    /* strnlen: a long string is "too long" without being scanned to its end. */
    if (number == NULL ||
        strnlen(number, REGISTRATION_PLATE_NUMBER_LEN + 1) != REGISTRATION_PLATE_NUMBER_LEN)
        return reject(why, "plate_length");
    /* Classify every character before judging, so a bad byte anywhere
     * outranks a forbidden letter, which outranks the letter count. */
    for (int i = 0; i < REGISTRATION_PLATE_NUMBER_LEN; i++) {
        char c = number[i];
        if (c >= '0' && c <= '9')
            continue;
        if (c < 'A' || c > 'Z')
            return reject(why, "plate_character");
        if (!is_plate_letter(c))
            forbidden = 1;
        letters++;
    }
    if (forbidden)
        return reject(why, "plate_forbidden_letter");
    if (letters > max_letters)
        return reject(why, "plate_too_many_letters");
    return 0;
}

int registration_plate_prefix_check(const char *prefix, const char **why)
{
    if (prefix == NULL ||
        strnlen(prefix, REGISTRATION_PLATE_PREFIX_BYTES + 1) != REGISTRATION_PLATE_PREFIX_BYTES)
        return reject(why, "plate_prefix");
    if (!is_plate_letter(prefix[PROVINCE_BYTES]))
        return reject(why, "plate_prefix");
    /* Compare whole 3-byte units only, so that bytes straddling two
     * neighbouring characters of the list can never match. */
    for (size_t i = 0; i < PROVINCE_COUNT; i++)
        if (memcmp(prefix, provinces + i * PROVINCE_BYTES, PROVINCE_BYTES) == 0)
            return 0;
    return reject(why, "plate_prefix");
}

void registration_plate_format(const char *prefix, const char *number, char *out, size_t cap)
{
    size_t lp, ld = sizeof middle_dot - 1, ln;

    if (out == NULL || cap == 0)
        return;
    if (prefix == NULL)
        prefix = "";
    if (number == NULL)
        number = "";
    lp = strlen(prefix);
    ln = strlen(number);
    /* Written as comparisons against what is left, so no sum can wrap. */
    if (lp >= cap || ld >= cap - lp || ln >= cap - lp - ld) {
        out[0] = '\0';
        return;
    }
    memcpy(out, prefix, lp);
    memcpy(out + lp, middle_dot, ld);
    memcpy(out + lp + ld, number, ln);
    out[lp + ld + ln] = '\0';
}
