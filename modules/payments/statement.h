/* statement.h - parsing a channel's daily statement for reconciliation.
 *
 * A statement is CSV text: an optional header line "type,order_no,..."
 * (line 1 only), then one entry per line "type,order_no,trade_no,amount"
 * with type payment|refund and the amount in yuan ("100.10", Alipay) or in
 * fen ("10010", the others). Lines end in LF or CRLF; empty lines are
 * skipped.
 *
 * A malformed line never spoils the others: every well-formed line is kept
 * and every bad one is reported with its line number (1-based, counting
 * the header and empty lines, as an editor shows them) and a reason, so the
 * rest of the day can still be reconciled.
 *
 * Pure: no I/O, no globals, thread-safe; aborts when out of memory. */
#ifndef ONETRIP_PAYMENTS_STATEMENT_H
#define ONETRIP_PAYMENTS_STATEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line accepted (bytes, without the line end); longer is malformed. */
#define PAY_STMT_MAX_LINE 512
/* Bad lines kept with their text; more are only counted (a garbage file of
 * a million lines must not become a million report rows). */
#define PAY_STMT_MAX_BAD 1000

typedef struct pay_stmt_line {
    int line_no;
    char type[8];         /* "payment" | "refund" */
    char order_no[65];    /* printable ASCII (pay_clean_ascii), may be "" */
    char trade_no[65];    /* printable ASCII, never "" */
    int64_t amount;       /* fen, 0..MONEY_MAX_FEN */
    bool used;            /* for the matcher */
} pay_stmt_line;

typedef struct pay_stmt_bad {
    int line_no;
    const char *reason;   /* static: field_count, unknown_type, missing_trade_no,
                             bad_amount, line_too_long, bad_byte */
    char text[121];       /* the line's first bytes, printable ASCII */
} pay_stmt_bad;

typedef struct pay_stmt {
    pay_stmt_line *lines; /* owned */
    int n;
    pay_stmt_bad *bad;    /* owned; the first PAY_STMT_MAX_BAD bad lines */
    int nbad;             /* entries in bad */
    int nbad_total;       /* every bad line, kept or not */
} pay_stmt;

/* Parses body (len bytes, may hold NULs) into out (overwritten; free with
 * pay_stmt_free). yuan: amounts are yuan strings. Never fails. */
void pay_stmt_parse(const char *body, size_t len, bool yuan, pay_stmt *out);
void pay_stmt_free(pay_stmt *s);

/* The gateways' own daily bills (amounts in yuan):
 *   PAY_BILL_WECHAT  GET /v3/bill/tradebill?bill_type=ALL: a title line, then
 *                    one line per trade, every field prefixed with '`'
 *                    (交易状态 SUCCESS = payment, REFUND with 退款状态
 *                    SUCCESS = refund, numbered by 微信退款单号), then the
 *                    summary lines, which are not entries.
 *   PAY_BILL_ALIPAY  the detail CSV of the trade bill: '#' comment lines,
 *                    a title line, one line per trade (业务类型 交易 or 退款,
 *                    in GBK or UTF-8; refunds numbered by 退款批次号/请求号,
 *                    their amounts negative). Column titles are not read
 *                    (GBK); columns are taken by position. */
typedef enum pay_stmt_bill { PAY_BILL_WECHAT = 1, PAY_BILL_ALIPAY } pay_stmt_bill;
#define PAY_STMT_MAX_BILL_LINE 4096
void pay_stmt_parse_bill(const char *body, size_t len, pay_stmt_bill kind, pay_stmt *out);

#endif
