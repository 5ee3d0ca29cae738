/* payments_sql.h - every statement of the payments module, one function
 * each. All run on the caller's connection (inside its transaction when it
 * has one) and block. Return 0, or -1 with the error left in c. Rows are
 * structs the caller owns (free each kind as its comment says); a lookup of
 * one row reports a missing row through *found. */
#ifndef ONETRIP_PAYMENTS_SQL_H
#define ONETRIP_PAYMENTS_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* ---- orders -------------------------------------------------------------- */

/* Text fields sized for what the module writes there: generated numbers and
 * codes, channel names, enum values (ASCII). */
#define PAY_NO_SIZE 33     /* order_no, out_refund_no, receipt number */
#define PAY_CHANNEL_SIZE 17
#define PAY_STATE_SIZE 24  /* enum values: order, refund, payment kind, violation */
#define PAY_TRADE_SIZE 65  /* trade numbers (cleaned to printable ASCII) */

/* A violation the citizen may pay (handled by them, on their licence or on a
 * vehicle they own), locked. *found false when absent or foreign. */
typedef struct pay_payable {
    int64_t id, fine_fen;
    char served_date[11]; /* YYYY-MM-DD */
    char state[PAY_STATE_SIZE];
} pay_payable;
/* Locks one violation row by primary key (nothing when absent). */
int pay_sql_violation_lock(db_conn *c, int64_t vid);
/* The violation if the citizen may pay it; a plain read (lock it first). */
int pay_sql_violation_for_payer(db_conn *c, int64_t vid, int64_t citizen, pay_payable *out,
                                bool *found);
/* The live (open/awaiting) order item of a violation, locked. */
typedef struct pay_live {
    int64_t order_id;
    char state[PAY_STATE_SIZE]; /* the order's */
    bool past_expiry;           /* open and past expires_at */
} pay_live;
int pay_sql_live_item(db_conn *c, int64_t vid, pay_live *out, bool *found);
/* The same, not locked: no gap lock on uq_payment_items_open when absent. */
int pay_sql_live_item_read(db_conn *c, int64_t vid, pay_live *out, bool *found);
/* An order's current state, its row locked by primary key. */
int pay_sql_order_state_lock(db_conn *c, int64_t id, char state[PAY_STATE_SIZE], bool *found);
int pay_sql_order_insert(db_conn *c, const char *order_no, int64_t citizen, int64_t amount,
                         int64_t fine, int64_t fee, const char *channel, int64_t ttl_s,
                         uint64_t *id);
/* open = the item holds the violation (open_violation_id set). */
int pay_sql_item_insert(db_conn *c, int64_t order_id, int64_t vid, int64_t fine, int64_t fee);
/* An order. Times are the database's text, "YYYY-MM-DD HH:MM:SS.fff" UTC;
 * pointers are owned by the row (NULL for SQL NULL): free with
 * pay_order_clear. */
typedef struct pay_order {
    int64_t id;
    char order_no[PAY_NO_SIZE];
    int64_t citizen_id, amount_fen, fine_fen, late_fee_fen;
    char state[PAY_STATE_SIZE];
    char channel[PAY_CHANNEL_SIZE];
    char *channel_trade_no, *state_reason;
    char *expires_at, *paid_at, *created_at, *returned_at;
    int64_t returned_age_s; /* seconds since returned_at; 0 when not returned */
    bool has_returned_age_s;
} pay_order;
void pay_order_clear(pay_order *o);
int pay_sql_order_by_no(db_conn *c, const char *order_no, bool for_update, pay_order *out,
                        bool *found);
int pay_sql_order_by_id(db_conn *c, int64_t id, bool for_update, pay_order *out, bool *found);
/* An order's items with their violations' decision numbers, by violation
 * id; free with free(). */
typedef struct pay_order_item {
    int64_t violation_id, fine_fen, late_fee_fen;
    char decision_no[33];
} pay_order_item;
int pay_sql_order_items(db_conn *c, int64_t order_id, pay_order_item **rows, int *n);
/* Locks the order's violations, by id; free with free(). */
typedef struct pay_order_violation {
    int64_t id;
    char state[PAY_STATE_SIZE];
} pay_order_violation;
int pay_sql_order_violations_lock(db_conn *c, int64_t order_id, pay_order_violation **rows,
                                  int *n);
/* Live (open/awaiting) -> to ('expired','closed','failed'); releases
 * nothing by itself. *affected 0 when the order was not live. */
int pay_sql_order_end(db_conn *c, int64_t id, const char *to, const char *reason,
                      bool only_past_expiry, uint64_t *affected);
int pay_sql_items_release(db_conn *c, int64_t order_id);
int pay_sql_order_returned(db_conn *c, int64_t id, const char *trade_no, uint64_t *affected);
/* Any state but paid -> paid. */
int pay_sql_order_paid(db_conn *c, int64_t id, const char *trade_no, uint64_t *affected);
/* Any non-paid state -> closed with a reason (duplicate payments). */
int pay_sql_order_close_any(db_conn *c, int64_t id, const char *reason);
/* Citizen's display name ("" when there is no such citizen). */
#define PAY_NAME_SIZE 257 /* VARCHAR(64) in utf8mb4 */
int pay_sql_citizen_name(db_conn *c, int64_t citizen, char name[PAY_NAME_SIZE]);

/* ---- payments and notifications ----------------------------------------- */

typedef struct pay_payment {
    int64_t id;
    char trade_no[PAY_TRADE_SIZE];
    char kind[PAY_STATE_SIZE]; /* applied | duplicate */
    int64_t amount_fen;
} pay_payment;
/* The payment an operator refund of the order is drawn from: the applied
 * one, else the first (a duplicate), locked. */
int pay_sql_payment_by_order(db_conn *c, int64_t order_id, pay_payment *out, bool *found);
/* Every payment of the order (applied and surplus), oldest first; free
 * with free(). Not a locking read: every insert into payments for an order
 * holds that order's row lock, which the caller takes first (a locking read
 * of the usually empty ix_payments_order range took a gap lock that the
 * next insert of a concurrent notification deadlocked on, issue 12). */
int pay_sql_payments_of_order(db_conn *c, int64_t order_id, pay_payment **rows, int *n);
/* Whether a trade of the channel is recorded (for any order). */
int pay_sql_payment_by_trade(db_conn *c, const char *channel, const char *trade_no, bool *found);
int pay_sql_payment_insert(db_conn *c, int64_t order_id, const char *channel, const char *trade_no,
                           int64_t amount, const char *notify_id, const char *kind, uint64_t *id);
typedef struct pay_notif_row {
    const char *channel, *source, *peer, *notify_id, *order_no, *trade_no, *trade_status;
    int64_t amount_fen; /* < 0 = NULL */
    bool verified;
    const char *outcome, *reason, *headers;
    const char *raw;       /* what is kept: the whole body, or its first bytes */
    size_t raw_len;
    int64_t body_size;     /* size of the whole body as received */
    const char *body_sha256; /* hex SHA-256 of the whole body */
} pay_notif_row;
int pay_sql_notification_insert(db_conn *c, const pay_notif_row *n);
int pay_sql_alert_insert(db_conn *c, const char *kind, const char *channel, const char *order_no,
                         int64_t ref_id, const char *detail);
/* Adds one occurrence to the alert named fold_key, creating it (count 1)
 * when absent; detail replaces the previous one. Concurrent callers fold
 * into the same row (unique key). */
typedef struct pay_alert_folded {
    int64_t id;
    int64_t occurrences; /* including this one; 1 = just created */
} pay_alert_folded;
int pay_sql_alert_fold(db_conn *c, const char *kind, const char *channel, const char *source,
                       const char *fold_key, const char *detail, pay_alert_folded *out);

/* ---- receipts -------------------------------------------------------------- */

int pay_sql_receipt_insert(db_conn *c, const char *number, const char *code, int64_t order_id,
                           int64_t citizen, const char *payer_masked, const char *items_json,
                           int64_t amount, const char *channel, const char *trade_no);
/* A receipt with its order's number; free with pay_receipt_clear. */
typedef struct pay_receipt {
    char number[PAY_NO_SIZE];
    char verify_code[9];
    char *payer_name_masked;
    char *items; /* JSON array text */
    int64_t amount_fen;
    char channel[PAY_CHANNEL_SIZE];
    char trade_no[PAY_TRADE_SIZE];
    char issued_at[21]; /* "YYYY-MM-DDTHH:MM:SSZ" */
    char order_no[PAY_NO_SIZE];
} pay_receipt;
void pay_receipt_clear(pay_receipt *r);
int pay_sql_receipt_by_number(db_conn *c, const char *number, pay_receipt *out, bool *found);
int pay_sql_receipt_by_order(db_conn *c, int64_t order_id, pay_receipt *out, bool *found);

/* ---- refunds --------------------------------------------------------------- */

int pay_sql_refund_insert(db_conn *c, const char *out_no, int64_t order_id, int64_t payment_id,
                          const char *channel, int64_t amount, const char *reason,
                          const char *kind, const char *state, int64_t requested_by,
                          uint64_t *id);
/* Sum of the refunds drawn from one payment that are not failed. */
int pay_sql_refund_total(db_conn *c, int64_t payment_id, int64_t *total);
/* A refund with its order's number and its payment's trade number. Times
 * as in pay_order; pointers owned by the row (NULL for SQL NULL): free
 * with pay_refund_clear. */
typedef struct pay_refund {
    int64_t id;
    char out_refund_no[PAY_NO_SIZE];
    char order_no[PAY_NO_SIZE];
    char channel[PAY_CHANNEL_SIZE];
    int64_t amount_fen;
    char *reason;
    char kind[PAY_STATE_SIZE];
    char state[PAY_STATE_SIZE];
    int64_t requested_by, approved_by; /* 0 when NULL */
    bool has_requested_by, has_approved_by;
    char *channel_refund_no, *failure_reason;
    char *created_at, *approved_at, *finished_at;
    char trade_no[PAY_TRADE_SIZE];
    int64_t attempts;
    char *last_error;
    int64_t payment_fen;   /* the refunded trade's amount */
} pay_refund;
void pay_refund_clear(pay_refund *f);
int pay_sql_refund_get(db_conn *c, int64_t id, bool for_update, pay_refund *out, bool *found);
/* The refund numbered out_refund_no, locked (a channel's refund callback). */
int pay_sql_refund_by_out_no_lock(db_conn *c, const char *out_refund_no, pay_refund *out, bool *found);
int pay_sql_refund_approve(db_conn *c, int64_t id, int64_t approver, uint64_t *affected);
/* approved -> succeeded|failed (channel answer). */
int pay_sql_refund_finish(db_conn *c, int64_t id, const char *state, const char *channel_no,
                          const char *failure, uint64_t *affected);
/* One more attempt; the next one is due after min(base_s * 2^attempts,
 * max_s) seconds (attempts before this one). */
int pay_sql_refund_attempt(db_conn *c, int64_t id, int64_t base_s, int64_t max_s);
/* Why the last attempt of an approved refund got no answer. */
int pay_sql_refund_error(db_conn *c, int64_t id, const char *error);
/* Ids of approved refunds due for an attempt (fewer than max_attempts so
 * far, next_attempt_at passed); free with free(). */
typedef struct pay_id_row {
    int64_t id;
} pay_id_row;
int pay_sql_refunds_to_send(db_conn *c, int64_t max_attempts, pay_id_row **rows, int *n);

/* ---- jobs --------------------------------------------------------------- */

/* An order named for a job; free with free(). */
typedef struct pay_order_ref {
    int64_t id;
    char order_no[PAY_NO_SIZE];
    char channel[PAY_CHANNEL_SIZE];
} pay_order_ref;
/* Open orders past expiry. */
int pay_sql_orders_expired(db_conn *c, pay_order_ref **rows, int *n);
/* Orders awaiting confirmation. */
int pay_sql_orders_awaiting(db_conn *c, pay_order_ref **rows, int *n);
int pay_sql_order_queried(db_conn *c, int64_t id);

/* ---- reconciliation ----------------------------------------------------- */

/* One entry of our ledger for a channel and a day; free the array with
 * pay_ledger_array_free. */
typedef struct pay_ledger_entry {
    char *trade_no;            /* the channel's number; NULL when unknown */
    char order_no[PAY_NO_SIZE];
    int64_t amount_fen;
    char kind[PAY_STATE_SIZE]; /* payments: applied|duplicate; refunds: operator|duplicate_payment */
} pay_ledger_entry;
void pay_ledger_array_free(pay_ledger_entry *rows, int n);
/* Payments of a channel received on a bureau day (Asia/Shanghai). */
int pay_sql_ledger_payments(db_conn *c, const char *channel, const char *date,
                            pay_ledger_entry **rows, int *n);
/* Refunds that succeeded on that day (trade_no = channel_refund_no). */
int pay_sql_ledger_refunds(db_conn *c, const char *channel, const char *date,
                           pay_ledger_entry **rows, int *n);
int pay_sql_report_delete(db_conn *c, const char *channel, const char *date);
int pay_sql_report_insert(db_conn *c, const char *channel, const char *date, uint64_t *id);
typedef struct pay_report_totals {
    int matched, not_recorded, not_in_statement, amount_mismatch, malformed, statement_lines;
    int64_t statement_total_fen, ledger_total_fen;
} pay_report_totals;
int pay_sql_report_totals(db_conn *c, int64_t id, const pay_report_totals *t);
/* One report line; NULL / negative members are stored as NULL. */
typedef struct pay_line_row {
    const char *kind, *entry_type, *order_no, *trade_no, *reason, *raw_line;
    int line_no;           /* statement line number, <= 0 = none */
    int64_t ledger_fen, statement_fen;
} pay_line_row;
int pay_sql_line_insert(db_conn *c, int64_t report_id, const pay_line_row *l);
/* A reconciliation report; free with pay_report_clear (or
 * pay_report_array_free for a list). */
typedef struct pay_report {
    int64_t id;
    char channel[PAY_CHANNEL_SIZE];
    char stmt_date[11]; /* YYYY-MM-DD */
    int32_t matched, not_recorded, not_in_statement, amount_mismatch, malformed, statement_lines;
    int64_t statement_total_fen, ledger_total_fen;
    char *created_at;
} pay_report;
void pay_report_clear(pay_report *r);
void pay_report_array_free(pay_report *rows, int n);
/* Newest first (id descending), ids below before (0 = from the newest), at
 * most limit rows; date/channel NULL = any. */
int pay_sql_reports(db_conn *c, const char *date, const char *channel, int64_t before, int limit,
                    pay_report **rows, int *n);
int pay_sql_report_by_id(db_conn *c, int64_t id, pay_report *out, bool *found);
/* A report's lines in the order written; free with pay_report_line_array_free. */
typedef struct pay_report_line {
    char kind[PAY_STATE_SIZE];
    char *entry_type, *order_no, *trade_no, *reason, *raw_line; /* NULL for SQL NULL */
    int64_t ledger_fen, statement_fen, line_no;
    bool has_ledger_fen, has_statement_fen, has_line_no;
} pay_report_line;
void pay_report_line_array_free(pay_report_line *rows, int n);
int pay_sql_report_lines(db_conn *c, int64_t report_id, pay_report_line **rows, int *n);

/* ---- alerts -------------------------------------------------------------- */

/* A payment alert; free with pay_alert_clear (or pay_alert_array_free). */
typedef struct pay_alert {
    int64_t id;
    char *kind, *channel, *order_no; /* channel, order_no: NULL for SQL NULL */
    int64_t ref_id;
    bool has_ref_id;
    char *detail, *created_at;
} pay_alert;
void pay_alert_clear(pay_alert *a);
void pay_alert_array_free(pay_alert *rows, int n);
/* Newest first (id descending), ids below before (0 = from the newest), at
 * most limit rows; date is a bureau day (Asia/Shanghai) of created_at; NULL
 * filters match any. */
int pay_sql_alerts(db_conn *c, const char *date, const char *channel, const char *kind,
                   int64_t before, int limit, pay_alert **rows, int *n);
int pay_sql_alert_by_id(db_conn *c, int64_t id, pay_alert *out, bool *found);

#endif
