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

/* ---- the gateways' own bills ------------------------------------------- */

#define BILL_MAX_FIELDS 40

/* Splits line on commas into at most BILL_MAX_FIELDS fields, each with the
 * WeChat '`' prefix and surrounding blanks/tabs removed. Returns the count. */
static int bill_fields(char *line, char **f)
{
    int nf = 0;
    char *p = line;

    for (;;) {
        char *c = strchr(p, ','), *e;
        if (c)
            *c = '\0';
        while (*p == ' ' || *p == '\t' || *p == '`')
            p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (nf < BILL_MAX_FIELDS)
            f[nf++] = p;
        if (c == NULL)
            break;
        p = c + 1;
    }
    return nf;
}

/* A yuan amount with an optional '-' (Alipay writes refunds negative). */
static int bill_yuan(const char *a, int64_t *fen)
{
    return money_parse_yuan(a[0] == '-' ? a + 1 : a, fen, NULL);
}

/* Alipay's business types, in GBK (the bill's encoding) and UTF-8. */
static bool is_word(const char *f, const char *gbk, const char *utf8)
{
    return strcmp(f, gbk) == 0 || strcmp(f, utf8) == 0;
}

/* One bill line: 1 = entry, 0 = not an entry (header, status we ignore),
 * or -1 with *why. */
static int bill_entry(pay_stmt_bill kind, char **f, int nf, pay_stmt_line *e, const char **why)
{
    const char *no, *order, *amt, *type;

    if (kind == PAY_BILL_WECHAT) {
        /* 交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,
         * 交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,
         * 商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,... */
        if (nf < 20) {
            *why = "field_count";
            return -1;
        }
        if (strcmp(f[9], "SUCCESS") == 0) {
            type = "payment", no = f[5], order = f[6], amt = f[12];
        } else if (strcmp(f[9], "REFUND") == 0) {
            if (strcmp(f[19], "SUCCESS") != 0)
                return 0;
            type = "refund", no = f[14], order = f[6], amt = f[16];
        } else {
            return 0; /* REVOKED, NOTPAY...: no money moved */
        }
        if (strcmp(f[11], "CNY") != 0) {
            *why = "currency";
            return -1;
        }
    } else {
        /* 支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,
         * 操作员,终端号,对方账户,订单金额（元）,商家实收（元）,...,退款批次号/请求号(21),... */
        if (nf < 22) {
            *why = "field_count";
            return -1;
        }
        if (is_word(f[2], "\xBD\xBB\xD2\xD7", "交易"))
            type = "payment", no = f[0], order = f[1], amt = f[11];
        else if (is_word(f[2], "\xCD\xCB\xBF\xEE", "退款"))
            type = "refund", no = f[21], order = f[1], amt = f[11];
        else {
            *why = "unknown_type";
            return -1;
        }
    }
    if (no[0] == '\0') {
        *why = "missing_trade_no";
        return -1;
    }
    if (bill_yuan(amt, &e->amount) != 0) {
        *why = "bad_amount";
        return -1;
    }
    snprintf(e->type, sizeof e->type, "%s", type);
    pay_clean_ascii(order, e->order_no, sizeof e->order_no);
    pay_clean_ascii(no, e->trade_no, sizeof e->trade_no);
    return 1;
}

void pay_stmt_parse_bill(const char *body, size_t len, pay_stmt_bill kind, pay_stmt *out)
{
    int cap = 0, bcap = 0, line_no = 0;
    size_t pos = 0;
    bool header = false, done = false;

    memset(out, 0, sizeof *out);
    if (body == NULL)
        return;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len && !done) {
        const char *s = body + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        char line[PAY_STMT_MAX_BILL_LINE + 1], *f[BILL_MAX_FIELDS];
        const char *why = NULL;
        int nf, rc;

        pos += n + (nl ? 1 : 0);
        line_no++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == '#')
            continue; /* Alipay's comment lines: titles, account, totals */
        if (n > PAY_STMT_MAX_BILL_LINE) {
            add_bad(out, &bcap, line_no, "line_too_long", s, n);
            continue;
        }
        if (memchr(s, '\0', n) != NULL) {
            add_bad(out, &bcap, line_no, "bad_byte", s, n);
            continue;
        }
        if (!header) { /* the column titles */
            header = true;
            continue;
        }
        /* WeChat: the summary ("总交易单数,...") and its values end the detail. */
        if (kind == PAY_BILL_WECHAT && s[0] != '`') {
            done = true;
            continue;
        }
        memcpy(line, s, n);
        line[n] = '\0';
        nf = bill_fields(line, f);
        out->lines = grow(out->lines, &cap, out->n + 1, sizeof *out->lines);
        memset(&out->lines[out->n], 0, sizeof out->lines[out->n]);
        rc = bill_entry(kind, f, nf, &out->lines[out->n], &why);
        if (rc < 0)
            add_bad(out, &bcap, line_no, why, s, n);
        if (rc <= 0)
            continue;
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
