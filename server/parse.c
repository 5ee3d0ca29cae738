/* parse.c - see parse.h. */
#include "server/parse.h"

#include <limits.h>
#include <stddef.h>

int app_parse_digits(const char *s, long long min, long long max, long long *out)
{
    long long v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (LLONG_MAX - (*s - '0')) / 10)
            return -1; /* overflow: out of every range */
        v = v * 10 + (*s - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
