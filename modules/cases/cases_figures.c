/* cases_figures.c - see cases_figures.h. */
#include "modules/cases/cases_figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cases_fig_add(cases_fig *acc, const cases_fig *x)
{
    acc->completed += x->completed;
    acc->one_trip += x->one_trip;
    acc->zero_trip += x->zero_trip;
    acc->online += x->online;
    acc->on_time += x->on_time;
    acc->offline += x->offline;
    acc->at_partner += x->at_partner;
    acc->rated += x->rated;
    acc->satisfied += x->satisfied;
}

int cases_rate_str(int64_t num, int64_t den, char out[16])
{
    int64_t bp;
    out[0] = '\0';
    /* num <= den also keeps num * 20000 far from overflow for any count a
     * bureau can have (den < 4.6e14). */
    if (den <= 0 || num < 0 || num > den || den > INT64_MAX / 20000)
        return -1;
    bp = (num * 20000 + den) / (2 * den); /* basis points, half up */
    /* 0 <= bp <= 10000 here: the rate is between 0.0000 and 1.0000. */
    snprintf(out, 16, "%d.%04d", (int)(bp / 10000) % 10, (int)(bp % 10000));
    return 0;
}

static void put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (*len + n + 1 > c)
            c *= 2;
        *buf = realloc(*buf, c);
        if (*buf == NULL)
            abort();
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

void cases_csv_raw(char **buf, size_t *len, size_t *cap, const char *s)
{
    put(buf, len, cap, s, strlen(s));
}

void cases_csv_field(char **buf, size_t *len, size_t *cap, const char *s)
{
    bool formula, quote;
    if (s == NULL)
        s = "";
    formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    quote = strpbrk(s, ",\"\r\n") != NULL;
    put(buf, len, cap, "", 0); /* an empty field still yields a buffer */
    if (quote)
        put(buf, len, cap, "\"", 1);
    if (formula)
        put(buf, len, cap, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            put(buf, len, cap, "\"\"", 2);
        else
            put(buf, len, cap, p, 1);
    }
    if (quote)
        put(buf, len, cap, "\"", 1);
}
