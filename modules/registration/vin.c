/* vin.c - see vin.h for the rules. */
#include "modules/registration/vin.h"

#include <stddef.h>
#include <string.h>

static const int weights[REGISTRATION_VIN_LEN] = {8, 7, 6, 5, 4, 3, 2, 10, 0,
                                                  9, 8, 7, 6, 5, 4, 3, 2};

/* Transliteration value of c, or -1 for a character a VIN cannot hold
 * (I, O, Q and anything outside 0-9 / A-Z). A table indexed by letter keeps
 * the mapping checkable against the standard at a glance. */
static int vin_value(char c)
{
    /*                              A  B  C  D  E  F  G  H  I   J  K  L  M  N  O   P  Q   R */
    static const signed char letters[26] = {1, 2, 3, 4, 5, 6, 7, 8, -1, 1, 2, 3, 4, 5, -1, 7, -1, 9,
                                            /* S  T  U  V  W  X  Y  Z */
                                            2, 3, 4, 5, 6, 7, 8, 9};
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return letters[c - 'A'];
    return -1;
}

/* Length without running past a long or unterminated buffer: anything
 * longer than 17 is simply "too long". */
static size_t bounded_len(const char *s)
{
    return strnlen(s, REGISTRATION_VIN_LEN + 1);
}

char registration_vin_expected_check(const char *vin17)
{
    int sum = 0;

    if (vin17 == NULL || bounded_len(vin17) != REGISTRATION_VIN_LEN)
        return '\0';
    for (int i = 0; i < REGISTRATION_VIN_LEN; i++) {
        int v = vin_value(vin17[i]);
        if (v < 0)
            return '\0';
        sum += v * weights[i];
    }
    sum %= 11;
    return (char)(sum == 10 ? 'X' : '0' + sum);
}

static int reject(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

int registration_vin_check(const char *vin, const char **why)
{
    int forbidden = 0;

    if (vin == NULL || bounded_len(vin) != REGISTRATION_VIN_LEN)
        return reject(why, "vin_length");
    /* One pass for both classes, so that a bad character anywhere outranks
     * a forbidden letter earlier in the string: the reason then does not
     * depend on where the two happen to sit. */
    for (int i = 0; i < REGISTRATION_VIN_LEN; i++) {
        char c = vin[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
            return reject(why, "vin_character");
        if (c == 'I' || c == 'O' || c == 'Q')
            forbidden = 1;
    }
    if (forbidden)
        return reject(why, "vin_forbidden_letter");
    if (vin[REGISTRATION_VIN_CHECK_POS - 1] != registration_vin_expected_check(vin))
        return reject(why, "vin_check_digit");
    return 0;
}
