/* csv.c - see csv.h. */
#include "modules/payments/csv.h"

#include <stdlib.h>
#include <string.h>

void pay_csv_init(pay_csv *b)
{
    memset(b, 0, sizeof *b);
}

static void put(pay_csv *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->buf = realloc(b->buf, cap);
        if (b->buf == NULL)
            abort(); /* out of memory: nothing sensible to do */
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void pay_csv_field(pay_csv *b, const char *s, bool text)
{
    bool guard, quote;

    if (s == NULL)
        s = "";
    if (b->in_row)
        put(b, ",", 1);
    else if (b->buf == NULL)
        put(b, "", 0); /* an empty first field still leaves a string */
    b->in_row = true;
    guard = text && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        put(b, "\"", 1);
    if (guard)
        put(b, "'", 1);
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "\"");
        put(b, p, n);
        p += n;
        if (*p == '"') {
            put(b, "\"\"", 2);
            p++;
        }
    }
    if (quote)
        put(b, "\"", 1);
}

void pay_csv_end_row(pay_csv *b)
{
    put(b, "\r\n", 2);
    b->in_row = false;
}

void pay_csv_free(pay_csv *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}
