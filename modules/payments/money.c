/* money.c - see money.h for the accepted grammar and reasons. */
#include "modules/payments/money.h"

#include <stdbool.h>
#include <stdio.h>

/* ASCII only: isdigit() depends on the locale and is undefined for the
 * negative chars that UTF-8 bytes become. */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int reject(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

int money_parse_yuan(const char *s, int64_t *fen, const char **why)
{
    /* Accumulate in fen, saturating just above the limit: the value is only
     * judged once the whole string is known to be well formed. */
    const int64_t sat = MONEY_MAX_FEN + 1;
    int64_t yuan = 0, cents = 0, total;
    const char *p = s, *int_start;
    int frac_digits = 0;

    if (s == NULL || *s == '\0')
        return reject(why, "money_empty");
    if (*p == '+' || *p == '-')
        return reject(why, "money_sign");

    int_start = p;
    while (is_digit(*p)) {
        if (yuan < sat)
            yuan = yuan * 10 + (*p - '0');
        p++;
    }
    if (p == int_start)
        return reject(why, *p == '.' ? "money_integer" : "money_character");
    if (*int_start == '0' && p - int_start > 1)
        return reject(why, "money_leading_zero");

    if (*p == '.') {
        p++;
        while (is_digit(*p)) {
            if (frac_digits < 2)
                cents = cents * 10 + (*p - '0');
            frac_digits++;
            p++;
        }
        if (frac_digits == 0 || frac_digits > 2)
            return reject(why, "money_fraction");
        if (frac_digits == 1)
            cents *= 10; /* "100.1" is 100 yuan 10 fen */
    }
    if (*p != '\0')
        return reject(why, "money_character");

    /* Saturation keeps yuan below 10 * sat + 10, so yuan * 100 below cannot
     * overflow; the first test already rejects any saturated value. */
    if (yuan > MONEY_MAX_FEN / 100)
        return reject(why, "money_range");
    total = yuan * 100 + cents;
    if (total > MONEY_MAX_FEN)
        return reject(why, "money_range");
    if (fen)
        *fen = total;
    return 0;
}

void money_format_yuan(int64_t fen, char out[MONEY_STR_SIZE])
{
    /* -INT64_MIN does not fit in int64_t: negate fen + 1 (always
     * representable) and add the one back in unsigned arithmetic. */
    uint64_t mag = fen < 0 ? (uint64_t)(-(fen + 1)) + 1u : (uint64_t)fen;

    snprintf(out, MONEY_STR_SIZE, "%s%llu.%02u", fen < 0 ? "-" : "",
             (unsigned long long)(mag / 100), (unsigned)(mag % 100));
}
