/* statement.c - see statement.h. */
#include "modules/payments/statement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/payments/money.h"
#include "modules/payments/payments_internal.h"

static void *grow(void *p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = *cap ? *cap * 2 : 64;
    p = realloc(p, (size_t)*cap * size);
    if (p == NULL)
        abort(); /* out of memory: nothing sensible to do */
    return p;
}

static void add_bad(pay_stmt *s, int *cap, int line_no, const char *reason, const char *text,
                    size_t len)
{
    char buf[121];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;

    s->nbad_total++;
    if (s->nbad >= PAY_STMT_MAX_BAD)
        return;
    s->bad = grow(s->bad, cap, s->nbad + 1, sizeof *s->bad);
    /* The text reaches the report, its CSV and alerts: printable ASCII
     * only, like every other string taken from a statement. */
    memcpy(buf, text, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = '?';
    s->bad[s->nbad].line_no = line_no;
    s->bad[s->nbad].reason = reason;
    pay_clean_ascii(buf, s->bad[s->nbad].text, sizeof s->bad[s->nbad].text);
    s->nbad++;
}

/* Whole fen: ASCII digits only (no sign, blank or exponent), in range. */
static int parse_fen(const char *a, int64_t *out)
{
    int64_t v = 0;

    if (a[0] == '\0' || strlen(a) > 14)
        return -1;
    for (const char *p = a; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v > MONEY_MAX_FEN)
        return -1;
    *out = v;
    return 0;
}

/* One entry line (NUL-terminated copy, no line end): 0 and *e filled, or
 * the reason it is malformed. Fields are split on every comma: an empty
 * field is a field, a fifth one is an error (not silently dropped). */
static const char *parse_entry(char *line, bool yuan, pay_stmt_line *e)
{
    char *f[4];
    int nf = 0;
    char *p = line;

    for (;;) {
        char *c = strchr(p, ',');
        if (nf == 4)
            return "field_count";
        f[nf++] = p;
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    if (nf != 4)
        return "field_count";
    if (strcmp(f[0], "payment") != 0 && strcmp(f[0], "refund") != 0)
        return "unknown_type";
    if (f[2][0] == '\0')
        return "missing_trade_no";
    if (yuan ? money_parse_yuan(f[3], &e->amount, NULL) != 0 : parse_fen(f[3], &e->amount) != 0)
        return "bad_amount";
    /* one of the two names checked above (a literal, so it fits e->type) */
    snprintf(e->type, sizeof e->type, "%s", f[0][0] == 'p' ? "payment" : "refund");
    pay_clean_ascii(f[1], e->order_no, sizeof e->order_no);
    pay_clean_ascii(f[2], e->trade_no, sizeof e->trade_no);
    e->used = false;
    return NULL;
}

void pay_stmt_parse(const char *body, size_t len, bool yuan, pay_stmt *out)
{
    int cap = 0, bcap = 0, line_no = 0;
    size_t pos = 0;

    memset(out, 0, sizeof *out);
    if (body == NULL)
        return;
    /* A UTF-8 byte order mark before the header is not part of it. */
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *s = body + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        char line[PAY_STMT_MAX_LINE + 1];
        const char *why;

        pos += n + (nl ? 1 : 0);
        line_no++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        if (n > PAY_STMT_MAX_LINE) {
            add_bad(out, &bcap, line_no, "line_too_long", s, n);
            continue;
        }
        if (memchr(s, '\0', n) != NULL) {
            add_bad(out, &bcap, line_no, "bad_byte", s, n);
            continue;
        }
        memcpy(line, s, n);
        line[n] = '\0';
        if (line_no == 1 && strncmp(line, "type,", 5) == 0)
            continue;
        out->lines = grow(out->lines, &cap, out->n + 1, sizeof *out->lines);
        memset(&out->lines[out->n], 0, sizeof out->lines[out->n]);
        why = parse_entry(line, yuan, &out->lines[out->n]);
        if (why != NULL) {
            add_bad(out, &bcap, line_no, why, s, n);
            continue;
        }
        out->lines[out->n].line_no = line_no;
        out->n++;
    }
}

void pay_stmt_free(pay_stmt *s)
{
    free(s->lines);
    free(s->bad);
    memset(s, 0, sizeof *s);
}
