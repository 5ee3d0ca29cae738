/* payments_sql.h - every statement of the payments module, one function
 * each. All run on the caller's connection (inside its transaction when it
 * has one) and block. Return 0, or -1 with the error left in c. Row sets
 * are owned by the caller (db_rows_free); their columns are listed at each
 * function. */
#ifndef ONETRIP_PAYMENTS_SQL_H
#define ONETRIP_PAYMENTS_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* ---- orders -------------------------------------------------------------- */

/* A violation the citizen may pay (handled by them, on their licence or on a
 * vehicle they own), locked. Columns: id, fine_fen, served_date, state,
 * decision_no. 0 rows when absent or foreign. */
int pay_sql_violation_for_payer(db_conn *c, int64_t vid, int64_t citizen, db_rows **out);
/* The live (open/awaiting) order item of a violation, locked. Columns:
 * order_id, state, past_expiry (0/1). */
int pay_sql_live_item(db_conn *c, int64_t vid, db_rows **out);
int pay_sql_order_insert(db_conn *c, const char *order_no, int64_t citizen, int64_t amount,
                         int64_t fine, int64_t fee, const char *channel, int64_t ttl_s,
                         uint64_t *id);
/* open = the item holds the violation (open_violation_id set). */
int pay_sql_item_insert(db_conn *c, int64_t order_id, int64_t vid, int64_t fine, int64_t fee);
/* Columns: 0 id, 1 order_no, 2 citizen_id, 3 amount_fen, 4 fine_fen,
 * 5 late_fee_fen, 6 state, 7 channel, 8 channel_trade_no, 9 expires_at,
 * 10 paid_at, 11 created_at, 12 state_reason, 13 returned_at,
 * 14 TIMESTAMPDIFF(SECOND, returned_at, now). */
int pay_sql_order_by_no(db_conn *c, const char *order_no, bool for_update, db_rows **out);
int pay_sql_order_by_id(db_conn *c, int64_t id, bool for_update, db_rows **out);
/* Columns: violation_id, fine_fen, late_fee_fen, decision_no, violation state. */
int pay_sql_order_items(db_conn *c, int64_t order_id, db_rows **out);
/* Locks the order's violations. Columns: id, state. */
int pay_sql_order_violations_lock(db_conn *c, int64_t order_id, db_rows **out);
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
/* Citizen's display name. Columns: name. */
int pay_sql_citizen_name(db_conn *c, int64_t citizen, db_rows **out);

/* ---- payments and notifications ----------------------------------------- */

/* The payment an operator refund of the order is drawn from: the applied
 * one, else the first (a duplicate), locked. 0 or 1 row. Columns: id,
 * trade_no, kind, amount_fen. */
int pay_sql_payment_by_order(db_conn *c, int64_t order_id, db_rows **out);
/* Every payment of the order (applied and surplus), locked, oldest first.
 * Columns: id, trade_no, kind, amount_fen. */
int pay_sql_payments_of_order(db_conn *c, int64_t order_id, db_rows **out);
/* Columns: id, order_id. */
int pay_sql_payment_by_trade(db_conn *c, const char *channel, const char *trade_no, db_rows **out);
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
/* Columns: number, verify_code, payer_name_masked, items, amount_fen,
 * channel, trade_no, issued_at, order_no. */
int pay_sql_receipt_by_number(db_conn *c, const char *number, db_rows **out);
int pay_sql_receipt_by_order(db_conn *c, int64_t order_id, db_rows **out);

/* ---- refunds --------------------------------------------------------------- */

int pay_sql_refund_insert(db_conn *c, const char *out_no, int64_t order_id, int64_t payment_id,
                          const char *channel, int64_t amount, const char *reason,
                          const char *kind, const char *state, int64_t requested_by,
                          uint64_t *id);
/* Sum of the refunds drawn from one payment that are not failed.
 * Columns: total. */
int pay_sql_refund_total(db_conn *c, int64_t payment_id, db_rows **out);
/* Columns: 0 id, 1 out_refund_no, 2 order_no, 3 channel, 4 amount_fen,
 * 5 reason, 6 kind, 7 state, 8 requested_by, 9 approved_by,
 * 10 channel_refund_no, 11 failure_reason, 12 created_at, 13 approved_at,
 * 14 finished_at, 15 trade_no, 16 attempts, 17 last_error. */
int pay_sql_refund_get(db_conn *c, int64_t id, bool for_update, db_rows **out);
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
 * far, next_attempt_at passed). Columns: id. */
int pay_sql_refunds_to_send(db_conn *c, int64_t max_attempts, db_rows **out);

/* ---- jobs --------------------------------------------------------------- */

/* Open orders past expiry. Columns: id, order_no. */
int pay_sql_orders_expired(db_conn *c, db_rows **out);
/* Orders awaiting confirmation. Columns: id, order_no, channel. */
int pay_sql_orders_awaiting(db_conn *c, db_rows **out);
int pay_sql_order_queried(db_conn *c, int64_t id);

/* ---- reconciliation ----------------------------------------------------- */

/* Payments of a channel received on a bureau day (Asia/Shanghai).
 * Columns: trade_no, order_no, amount_fen, kind (applied|duplicate). */
int pay_sql_ledger_payments(db_conn *c, const char *channel, const char *date, db_rows **out);
/* Refunds that succeeded on that day. Columns: channel_refund_no, order_no,
 * amount_fen, kind (operator|duplicate_payment). */
int pay_sql_ledger_refunds(db_conn *c, const char *channel, const char *date, db_rows **out);
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
/* Columns: 0 id, 1 channel, 2 stmt_date, 3 matched, 4 not_recorded,
 * 5 not_in_statement, 6 amount_mismatch, 7 statement_total_fen,
 * 8 ledger_total_fen, 9 created_at, 10 malformed, 11 statement_lines.
 * Newest first (id descending), ids below before (0 = from the newest),
 * at most limit rows; date/channel NULL = any. */
int pay_sql_reports(db_conn *c, const char *date, const char *channel, int64_t before, int limit,
                    db_rows **out);
int pay_sql_report_by_id(db_conn *c, int64_t id, db_rows **out);
/* Columns: 0 kind, 1 entry_type, 2 order_no, 3 trade_no, 4 ledger_fen,
 * 5 statement_fen, 6 line_no, 7 reason, 8 raw_line. */
int pay_sql_report_lines(db_conn *c, int64_t report_id, db_rows **out);

/* ---- alerts -------------------------------------------------------------- */

/* Columns: 0 id, 1 kind, 2 channel, 3 order_no, 4 ref_id, 5 detail,
 * 6 created_at. Newest first (id descending), ids below before (0 = from
 * the newest), at most limit rows; date is a bureau day (Asia/Shanghai) of
 * created_at; NULL filters match any. */
int pay_sql_alerts(db_conn *c, const char *date, const char *channel, const char *kind,
                   int64_t before, int limit, db_rows **out);
int pay_sql_alert_by_id(db_conn *c, int64_t id, db_rows **out);

#endif
