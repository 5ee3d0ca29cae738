/* payments_sql.c - see payments_sql.h. */
#include "modules/payments/payments_sql.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "db/rows.h"

/* One id column (refunds due, the trade lookup). */
static const db_col ID_COLS[] = {DBR_I64(pay_id_row, id)};
static const db_row_spec ID_ROW = DB_ROW_SPEC(pay_id_row, ID_COLS);

/* ---- orders -------------------------------------------------------------- */

/* Locks the violation row by its primary key only. A locking read with the
 * ownership subqueries below would also take next-key locks on the ranges
 * of licences and vehicles it reads (blocking registrations of unrelated
 * vehicles); a locking read on an index range followed by an insert into
 * that range is how concurrent orders deadlocked (issue 12). */
static const char SQL_VIOLATION_LOCK[] = "SELECT id FROM violations WHERE id = ? FOR UPDATE";

int pay_sql_violation_lock(db_conn *c, int64_t vid)
{
    pay_id_row row;
    bool found = false;

    return db_query_one(c, SQL_VIOLATION_LOCK, DBP(DB_I64(vid)), &ID_ROW, &row, &found);
}

/* Not a locking read: run after pay_sql_violation_lock on the same id. */
static const char SQL_VIOLATION_FOR_PAYER[] =
    "SELECT v.id, v.fine_fen, v.served_date, v.state "
    "FROM violations v WHERE v.id = ? AND (v.citizen_id = ? "
    "OR v.licence_id IN (SELECT l.id FROM licences l WHERE l.citizen_id = ?) "
    "OR v.vehicle_id IN (SELECT h.id FROM vehicles h WHERE h.owner_citizen_id = ?))";

static const db_col PAYABLE_COLS[] = {
    DBR_I64(pay_payable, id),
    DBR_I64(pay_payable, fine_fen),
    DBR_CHARS(pay_payable, served_date),
    DBR_CHARS(pay_payable, state),
};
static const db_row_spec PAYABLE_ROW = DB_ROW_SPEC(pay_payable, PAYABLE_COLS);

int pay_sql_violation_for_payer(db_conn *c, int64_t vid, int64_t citizen, pay_payable *out,
                                bool *found)
{
    return db_query_one(c, SQL_VIOLATION_FOR_PAYER,
                        DBP(DB_I64(vid), DB_I64(citizen), DB_I64(citizen), DB_I64(citizen)),
                        &PAYABLE_ROW, out, found);
}

#define LIVE_ITEM_SQL                                                  \
    "SELECT o.id AS order_id, o.state, "                               \
    "o.state = 'open' AND o.expires_at < UTC_TIMESTAMP(3) AS past_expiry " \
    "FROM payment_order_items i JOIN payment_orders o ON o.id = i.order_id " \
    "WHERE i.open_violation_id = ?"
static const char SQL_LIVE_ITEM[] = LIVE_ITEM_SQL " FOR UPDATE";
static const char SQL_LIVE_ITEM_READ[] = LIVE_ITEM_SQL;
static const db_col LIVE_COLS[] = {
    DBR_I64(pay_live, order_id),
    DBR_CHARS(pay_live, state),
    DBR_BOOL(pay_live, past_expiry),
};
static const db_row_spec LIVE_ROW = DB_ROW_SPEC(pay_live, LIVE_COLS);

int pay_sql_live_item(db_conn *c, int64_t vid, pay_live *out, bool *found)
{
    return db_query_one(c, SQL_LIVE_ITEM, DBP(DB_I64(vid)), &LIVE_ROW, out, found);
}

int pay_sql_live_item_read(db_conn *c, int64_t vid, pay_live *out, bool *found)
{
    return db_query_one(c, SQL_LIVE_ITEM_READ, DBP(DB_I64(vid)), &LIVE_ROW, out, found);
}

static const char SQL_ORDER_STATE_LOCK[] = "SELECT state FROM payment_orders WHERE id = ? FOR UPDATE";

typedef struct state_row {
    char state[PAY_STATE_SIZE];
} state_row;
static const db_col STATE_COLS[] = {DBR_CHARS(state_row, state)};
static const db_row_spec STATE_ROW = DB_ROW_SPEC(state_row, STATE_COLS);

int pay_sql_order_state_lock(db_conn *c, int64_t id, char state[PAY_STATE_SIZE], bool *found)
{
    state_row row;
    int rc = db_query_one(c, SQL_ORDER_STATE_LOCK, DBP(DB_I64(id)), &STATE_ROW, &row, found);

    memcpy(state, row.state, PAY_STATE_SIZE); /* "" when absent or on error (zeroed) */
    return rc;
}

static const char SQL_ORDER_INSERT[] =
    "INSERT INTO payment_orders (order_no, citizen_id, amount_fen, fine_fen, late_fee_fen, state, "
    "channel, expires_at, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?, "
    "UTC_TIMESTAMP(3) + INTERVAL ? SECOND, UTC_TIMESTAMP(3))";

int pay_sql_order_insert(db_conn *c, const char *order_no, int64_t citizen, int64_t amount,
                         int64_t fine, int64_t fee, const char *channel, int64_t ttl_s, uint64_t *id)
{
    return db_exec(c, SQL_ORDER_INSERT,
                   DBP(DB_STR(order_no), DB_I64(citizen), DB_I64(amount), DB_I64(fine), DB_I64(fee),
                       DB_STR(channel), DB_I64(ttl_s)),
                   NULL, id);
}

static const char SQL_ITEM_INSERT[] =
    "INSERT INTO payment_order_items (order_id, violation_id, fine_fen, late_fee_fen, "
    "open_violation_id) VALUES (?, ?, ?, ?, ?)";

int pay_sql_item_insert(db_conn *c, int64_t order_id, int64_t vid, int64_t fine, int64_t fee)
{
    return db_exec(c, SQL_ITEM_INSERT,
                   DBP(DB_I64(order_id), DB_I64(vid), DB_I64(fine), DB_I64(fee), DB_I64(vid)), NULL,
                   NULL);
}

#define ORDER_COLS                                                                          \
    "SELECT id, order_no, citizen_id, amount_fen, fine_fen, late_fee_fen, state, channel, " \
    "channel_trade_no, state_reason, expires_at, paid_at, created_at, returned_at, "        \
    "TIMESTAMPDIFF(SECOND, returned_at, UTC_TIMESTAMP(3)) AS returned_age_s "               \
    "FROM payment_orders "
static const db_col ORDER_ROW_COLS[] = {
    DBR_I64(pay_order, id),
    DBR_CHARS(pay_order, order_no),
    DBR_I64(pay_order, citizen_id),
    DBR_I64(pay_order, amount_fen),
    DBR_I64(pay_order, fine_fen),
    DBR_I64(pay_order, late_fee_fen),
    DBR_CHARS(pay_order, state),
    DBR_CHARS(pay_order, channel),
    DBR_STR_NULL(pay_order, channel_trade_no),
    DBR_STR_NULL(pay_order, state_reason),
    DBR_STR(pay_order, expires_at),
    DBR_STR_NULL(pay_order, paid_at),
    DBR_STR(pay_order, created_at),
    DBR_STR_NULL(pay_order, returned_at),
    DBR_I64_NULL(pay_order, returned_age_s, has_returned_age_s),
};
static const db_row_spec ORDER_ROW = DB_ROW_SPEC(pay_order, ORDER_ROW_COLS);

static const char SQL_ORDER_BY_NO[] = ORDER_COLS "WHERE order_no = ?";
static const char SQL_ORDER_BY_NO_LOCK[] = ORDER_COLS "WHERE order_no = ? FOR UPDATE";
static const char SQL_ORDER_BY_ID[] = ORDER_COLS "WHERE id = ?";
static const char SQL_ORDER_BY_ID_LOCK[] = ORDER_COLS "WHERE id = ? FOR UPDATE";

DB_ROW_CLEAR_FN(pay_order_clear, pay_order, &ORDER_ROW)

int pay_sql_order_by_no(db_conn *c, const char *order_no, bool for_update, pay_order *out,
                        bool *found)
{
    return db_query_one(c, for_update ? SQL_ORDER_BY_NO_LOCK : SQL_ORDER_BY_NO,
                        DBP(DB_STR(order_no)), &ORDER_ROW, out, found);
}

int pay_sql_order_by_id(db_conn *c, int64_t id, bool for_update, pay_order *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_ORDER_BY_ID_LOCK : SQL_ORDER_BY_ID, DBP(DB_I64(id)),
                        &ORDER_ROW, out, found);
}

static const char SQL_ORDER_ITEMS[] =
    "SELECT i.violation_id, i.fine_fen, i.late_fee_fen, v.decision_no "
    "FROM payment_order_items i JOIN violations v ON v.id = i.violation_id "
    "WHERE i.order_id = ? ORDER BY i.violation_id";
static const db_col ITEM_COLS[] = {
    DBR_I64(pay_order_item, violation_id),
    DBR_I64(pay_order_item, fine_fen),
    DBR_I64(pay_order_item, late_fee_fen),
    DBR_CHARS(pay_order_item, decision_no),
};
static const db_row_spec ITEM_ROW = DB_ROW_SPEC(pay_order_item, ITEM_COLS);

int pay_sql_order_items(db_conn *c, int64_t order_id, pay_order_item **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_ORDER_ITEMS, DBP(DB_I64(order_id)), &ITEM_ROW, rows, n);
}

/* The order's items are read without a lock (they never change but for
 * open_violation_id) and their violations are then locked one by one by
 * primary key, in id order: a locking join would take next-key locks on the
 * end of uq_payment_items_order_violation, where every new order's items
 * are inserted, and make order creation wait for notifications. */
static const char SQL_ORDER_VIOLATION_IDS[] =
    "SELECT violation_id AS id FROM payment_order_items WHERE order_id = ? ORDER BY violation_id";
static const char SQL_VIOLATION_STATE_LOCK[] = "SELECT id, state FROM violations WHERE id = ? FOR UPDATE";
static const db_col ORDER_VIOL_COLS[] = {
    DBR_I64(pay_order_violation, id),
    DBR_CHARS(pay_order_violation, state),
};
static const db_row_spec ORDER_VIOL_ROW = DB_ROW_SPEC(pay_order_violation, ORDER_VIOL_COLS);

int pay_sql_order_violations_lock(db_conn *c, int64_t order_id, pay_order_violation **rows,
                                  int *n)
{
    pay_id_row *ids = NULL;
    void *all = NULL;
    int nids = 0, rc = -1;

    *rows = NULL;
    *n = 0;
    rc = db_query_all(c, SQL_ORDER_VIOLATION_IDS, DBP(DB_I64(order_id)), &ID_ROW, &all, &nids);
    ids = all;
    if (rc != 0)
        goto fail;
    rc = -1;
    if (nids > 0 && (*rows = calloc((size_t)nids, sizeof **rows)) == NULL)
        abort();
    for (int i = 0; i < nids; i++) {
        bool found = false;
        if (db_query_one(c, SQL_VIOLATION_STATE_LOCK, DBP(DB_I64(ids[i].id)), &ORDER_VIOL_ROW, &(*rows)[*n],
                         &found) != 0)
            goto fail;
        if (found)
            (*n)++;
    }
    rc = 0;
fail:
    if (rc != 0) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    free(ids);
    return rc;
}

static const char SQL_ORDER_END[] =
    "UPDATE payment_orders SET state = ?, state_reason = ?, closed_at = UTC_TIMESTAMP(3), "
    "version = version + 1 WHERE id = ? AND state IN ('open', 'awaiting_confirmation')";
static const char SQL_ORDER_END_EXPIRED[] =
    "UPDATE payment_orders SET state = ?, state_reason = ?, closed_at = UTC_TIMESTAMP(3), "
    "version = version + 1 WHERE id = ? AND state = 'open' AND expires_at < UTC_TIMESTAMP(3)";

int pay_sql_order_end(db_conn *c, int64_t id, const char *to, const char *reason,
                      bool only_past_expiry, uint64_t *affected)
{
    return db_exec(c, only_past_expiry ? SQL_ORDER_END_EXPIRED : SQL_ORDER_END,
                   DBP(DB_STR(to), DB_STR(reason), DB_I64(id)), affected, NULL);
}

/* Item by item through the primary key: an UPDATE ... WHERE order_id = ?
 * takes next-key locks up to the next entry of the (order_id, violation_id)
 * key, for the newest order the end of the index, where every new order's
 * items go: order creation then waited for each notification (issue 12).
 * An order's items are all inserted with it, so a plain read finds them. */
static const char SQL_ITEM_IDS[] = "SELECT id FROM payment_order_items WHERE order_id = ?";
static const char SQL_ITEM_RELEASE[] =
    "UPDATE payment_order_items SET open_violation_id = NULL WHERE id = ? AND order_id = ?";

int pay_sql_items_release(db_conn *c, int64_t order_id)
{
    void *all = NULL;
    pay_id_row *ids;
    int n = 0, rc = db_query_all(c, SQL_ITEM_IDS, DBP(DB_I64(order_id)), &ID_ROW, &all, &n);

    ids = all;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = db_exec(c, SQL_ITEM_RELEASE, DBP(DB_I64(ids[i].id), DB_I64(order_id)), NULL, NULL);
    free(ids);
    return rc;
}

static const char SQL_ORDER_RETURNED[] =
    "UPDATE payment_orders SET state = 'awaiting_confirmation', returned_at = UTC_TIMESTAMP(3), "
    "channel_trade_no = COALESCE(?, channel_trade_no), version = version + 1 "
    "WHERE id = ? AND state = 'open'";

int pay_sql_order_returned(db_conn *c, int64_t id, const char *trade_no, uint64_t *affected)
{
    return db_exec(c, SQL_ORDER_RETURNED, DBP(DB_STR(trade_no), DB_I64(id)), affected, NULL);
}

static const char SQL_ORDER_PAID[] =
    "UPDATE payment_orders SET state = 'paid', state_reason = NULL, paid_at = UTC_TIMESTAMP(3), "
    "channel_trade_no = ?, version = version + 1 WHERE id = ? AND state <> 'paid'";

int pay_sql_order_paid(db_conn *c, int64_t id, const char *trade_no, uint64_t *affected)
{
    return db_exec(c, SQL_ORDER_PAID, DBP(DB_STR(trade_no), DB_I64(id)), affected, NULL);
}

static const char SQL_ORDER_CLOSE_ANY[] =
    "UPDATE payment_orders SET state = 'closed', state_reason = ?, "
    "closed_at = COALESCE(closed_at, UTC_TIMESTAMP(3)), version = version + 1 "
    "WHERE id = ? AND state <> 'paid'";

int pay_sql_order_close_any(db_conn *c, int64_t id, const char *reason)
{
    return db_exec(c, SQL_ORDER_CLOSE_ANY, DBP(DB_STR(reason), DB_I64(id)), NULL, NULL);
}

static const char SQL_CITIZEN_NAME[] = "SELECT name FROM citizens WHERE id = ?";

typedef struct name_row {
    char name[PAY_NAME_SIZE];
} name_row;
static const db_col NAME_COLS[] = {DBR_CHARS(name_row, name)};
static const db_row_spec NAME_ROW = DB_ROW_SPEC(name_row, NAME_COLS);

int pay_sql_citizen_name(db_conn *c, int64_t citizen, char name[PAY_NAME_SIZE])
{
    name_row row;
    bool found = false;
    int rc = db_query_one(c, SQL_CITIZEN_NAME, DBP(DB_I64(citizen)), &NAME_ROW, &row, &found);

    memcpy(name, row.name, PAY_NAME_SIZE); /* "" when absent or on error (zeroed) */
    return rc;
}

/* ---- payments and notifications ----------------------------------------- */

static const char SQL_PAYMENT_BY_ORDER[] =
    "SELECT id, trade_no, kind, amount_fen FROM payments WHERE order_id = ? "
    "ORDER BY kind = 'applied' DESC, id LIMIT 1 FOR UPDATE";

static const db_col PAYMENT_COLS[] = {
    DBR_I64(pay_payment, id),
    DBR_CHARS(pay_payment, trade_no),
    DBR_CHARS(pay_payment, kind),
    DBR_I64(pay_payment, amount_fen),
};
static const db_row_spec PAYMENT_ROW = DB_ROW_SPEC(pay_payment, PAYMENT_COLS);

int pay_sql_payment_by_order(db_conn *c, int64_t order_id, pay_payment *out, bool *found)
{
    return db_query_one(c, SQL_PAYMENT_BY_ORDER, DBP(DB_I64(order_id)), &PAYMENT_ROW, out, found);
}

static const char SQL_PAYMENTS_OF_ORDER[] =
    "SELECT id, trade_no, kind, amount_fen FROM payments WHERE order_id = ? ORDER BY id";

int pay_sql_payments_of_order(db_conn *c, int64_t order_id, pay_payment **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_PAYMENTS_OF_ORDER, DBP(DB_I64(order_id)), &PAYMENT_ROW, rows, n);
}

/* (channel, trade_no) is unique: at most one row. */
static const char SQL_PAYMENT_BY_TRADE[] = "SELECT id FROM payments WHERE channel = ? AND trade_no = ?";

int pay_sql_payment_by_trade(db_conn *c, const char *channel, const char *trade_no, bool *found)
{
    pay_id_row row;

    return db_query_one(c, SQL_PAYMENT_BY_TRADE, DBP(DB_STR(channel), DB_STR(trade_no)), &ID_ROW,
                        &row, found);
}

static const char SQL_PAYMENT_INSERT[] =
    "INSERT INTO payments (order_id, channel, trade_no, amount_fen, notify_id, kind, paid_at, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";

int pay_sql_payment_insert(db_conn *c, int64_t order_id, const char *channel, const char *trade_no,
                           int64_t amount, const char *notify_id, const char *kind, uint64_t *id)
{
    return db_exec(c, SQL_PAYMENT_INSERT,
                   DBP(DB_I64(order_id), DB_STR(channel), DB_STR(trade_no), DB_I64(amount),
                       DB_STR(notify_id && notify_id[0] ? notify_id : NULL), DB_STR(kind)),
                   NULL, id);
}

static const char SQL_NOTIFICATION_INSERT[] =
    "INSERT INTO payment_notifications (channel, source, received_at, peer, notify_id, order_no, "
    "trade_no, amount_fen, trade_status, verified, outcome, reason, headers, raw_body, body_size, "
    "body_sha256) VALUES (?, ?, UTC_TIMESTAMP(3), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static db_val opt_str(const char *s)
{
    return DB_STR(s && s[0] ? s : NULL);
}

int pay_sql_notification_insert(db_conn *c, const pay_notif_row *n)
{
    return db_exec(c, SQL_NOTIFICATION_INSERT,
                   DBP(DB_STR(n->channel), DB_STR(n->source), DB_STR(n->peer ? n->peer : ""),
                       opt_str(n->notify_id), opt_str(n->order_no), opt_str(n->trade_no),
                       n->amount_fen < 0 ? DB_NULL : DB_I64(n->amount_fen), opt_str(n->trade_status),
                       DB_I64(n->verified ? 1 : 0), DB_STR(n->outcome), opt_str(n->reason),
                       opt_str(n->headers), DB_BLOB(n->raw ? n->raw : "", n->raw ? n->raw_len : 0),
                       DB_I64(n->body_size), DB_STR(n->body_sha256)),
                   NULL, NULL);
}

static const char SQL_ALERT_INSERT[] =
    "INSERT INTO payment_alerts (kind, channel, order_no, ref_id, detail, created_at) "
    "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";

int pay_sql_alert_insert(db_conn *c, const char *kind, const char *channel, const char *order_no,
                         int64_t ref_id, const char *detail)
{
    return db_exec(c, SQL_ALERT_INSERT,
                   DBP(DB_STR(kind), opt_str(channel), opt_str(order_no),
                       ref_id > 0 ? DB_I64(ref_id) : DB_NULL, DB_STR(detail ? detail : "")),
                   NULL, NULL);
}

static const char SQL_ALERT_FOLD[] =
    "INSERT INTO payment_alerts (kind, channel, source, detail, occurrences, created_at, "
    "last_seen_at, fold_key) VALUES (?, ?, ?, ?, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), ?) "
    "ON DUPLICATE KEY UPDATE occurrences = occurrences + 1, last_seen_at = UTC_TIMESTAMP(3), "
    "detail = VALUES(detail)";
static const char SQL_ALERT_BY_FOLD[] =
    "SELECT id, occurrences FROM payment_alerts WHERE fold_key = ?";
static const db_col FOLDED_COLS[] = {
    DBR_I64(pay_alert_folded, id),
    DBR_I64(pay_alert_folded, occurrences),
};
static const db_row_spec FOLDED_ROW = DB_ROW_SPEC(pay_alert_folded, FOLDED_COLS);

int pay_sql_alert_fold(db_conn *c, const char *kind, const char *channel, const char *source,
                       const char *fold_key, const char *detail, pay_alert_folded *out)
{
    memset(out, 0, sizeof *out);
    if (db_exec(c, SQL_ALERT_FOLD,
                DBP(DB_STR(kind), opt_str(channel), DB_STR(source), DB_STR(detail), DB_STR(fold_key)),
                NULL, NULL) != 0)
        return -1;
    /* The upsert locked the row: this read sees our own count (no row is
     * an error). */
    return db_query_one(c, SQL_ALERT_BY_FOLD, DBP(DB_STR(fold_key)), &FOLDED_ROW, out, NULL);
}

/* ---- receipts -------------------------------------------------------------- */

static const char SQL_RECEIPT_INSERT[] =
    "INSERT INTO receipts (number, verify_code, order_id, citizen_id, payer_name_masked, items, "
    "amount_fen, channel, trade_no, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";

int pay_sql_receipt_insert(db_conn *c, const char *number, const char *code, int64_t order_id,
                           int64_t citizen, const char *payer_masked, const char *items_json,
                           int64_t amount, const char *channel, const char *trade_no)
{
    return db_exec(c, SQL_RECEIPT_INSERT,
                   DBP(DB_STR(number), DB_STR(code), DB_I64(order_id), DB_I64(citizen),
                       DB_STR(payer_masked), DB_STR(items_json), DB_I64(amount), DB_STR(channel),
                       DB_STR(trade_no)),
                   NULL, NULL);
}

#define RECEIPT_COLS                                                                            \
    "SELECT r.number, r.verify_code, r.payer_name_masked, r.items, r.amount_fen, r.channel, "   \
    "r.trade_no, r.issued_at, o.order_no FROM receipts r JOIN payment_orders o ON o.id = r.order_id "
static const db_col RECEIPT_ROW_COLS[] = {
    DBR_CHARS(pay_receipt, number),
    DBR_CHARS(pay_receipt, verify_code),
    DBR_STR(pay_receipt, payer_name_masked),
    DBR_STR(pay_receipt, items),
    DBR_I64(pay_receipt, amount_fen),
    DBR_CHARS(pay_receipt, channel),
    DBR_CHARS(pay_receipt, trade_no),
    DBR_UTC(pay_receipt, issued_at),
    DBR_CHARS(pay_receipt, order_no),
};
static const db_row_spec RECEIPT_ROW = DB_ROW_SPEC(pay_receipt, RECEIPT_ROW_COLS);

static const char SQL_RECEIPT_BY_NUMBER[] = RECEIPT_COLS "WHERE r.number = ?";
static const char SQL_RECEIPT_BY_ORDER[] = RECEIPT_COLS "WHERE r.order_id = ?";

DB_ROW_CLEAR_FN(pay_receipt_clear, pay_receipt, &RECEIPT_ROW)

int pay_sql_receipt_by_number(db_conn *c, const char *number, pay_receipt *out, bool *found)
{
    return db_query_one(c, SQL_RECEIPT_BY_NUMBER, DBP(DB_STR(number)), &RECEIPT_ROW, out, found);
}

int pay_sql_receipt_by_order(db_conn *c, int64_t order_id, pay_receipt *out, bool *found)
{
    return db_query_one(c, SQL_RECEIPT_BY_ORDER, DBP(DB_I64(order_id)), &RECEIPT_ROW, out, found);
}

/* ---- refunds --------------------------------------------------------------- */

static const char SQL_REFUND_INSERT[] =
    "INSERT INTO refunds (out_refund_no, order_id, payment_id, channel, amount_fen, reason, kind, "
    "state, requested_by, approved_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "IF(? = 'approved', UTC_TIMESTAMP(3), NULL), UTC_TIMESTAMP(3))";

int pay_sql_refund_insert(db_conn *c, const char *out_no, int64_t order_id, int64_t payment_id,
                          const char *channel, int64_t amount, const char *reason, const char *kind,
                          const char *state, int64_t requested_by, uint64_t *id)
{
    return db_exec(c, SQL_REFUND_INSERT,
                   DBP(DB_STR(out_no), DB_I64(order_id), DB_I64(payment_id), DB_STR(channel),
                       DB_I64(amount), DB_STR(reason), DB_STR(kind), DB_STR(state),
                       requested_by > 0 ? DB_I64(requested_by) : DB_NULL, DB_STR(state)),
                   NULL, id);
}

/* Per payment, not per order: an order paid twice holds an applied payment
 * and a surplus one whose automatic refund must not eat into what an
 * operator may still refund of the applied one. */
static const char SQL_REFUND_TOTAL[] =
    "SELECT COALESCE(SUM(amount_fen), 0) AS total FROM refunds WHERE payment_id = ? "
    "AND state <> 'failed'";
typedef struct total_row {
    int64_t total;
} total_row;
static const db_col TOTAL_COLS[] = {DBR_I64(total_row, total)};
static const db_row_spec TOTAL_ROW = DB_ROW_SPEC(total_row, TOTAL_COLS);

int pay_sql_refund_total(db_conn *c, int64_t payment_id, int64_t *total)
{
    total_row row;
    int rc = db_query_one(c, SQL_REFUND_TOTAL, DBP(DB_I64(payment_id)), &TOTAL_ROW, &row, NULL);

    *total = row.total;
    return rc;
}

#define REFUND_COLS                                                                             \
    "SELECT f.id, f.out_refund_no, o.order_no, f.channel, f.amount_fen, f.reason, f.kind, "     \
    "f.state, f.requested_by, f.approved_by, f.channel_refund_no, f.failure_reason, "           \
    "f.created_at, f.approved_at, f.finished_at, p.trade_no, f.attempts, f.last_error, "        \
    "p.amount_fen AS payment_fen "                                                              \
    "FROM refunds f JOIN payment_orders o ON o.id = f.order_id "                                \
    "JOIN payments p ON p.id = f.payment_id "
static const db_col REFUND_ROW_COLS[] = {
    DBR_I64(pay_refund, id),
    DBR_CHARS(pay_refund, out_refund_no),
    DBR_CHARS(pay_refund, order_no),
    DBR_CHARS(pay_refund, channel),
    DBR_I64(pay_refund, amount_fen),
    DBR_STR(pay_refund, reason),
    DBR_CHARS(pay_refund, kind),
    DBR_CHARS(pay_refund, state),
    DBR_I64_NULL(pay_refund, requested_by, has_requested_by),
    DBR_I64_NULL(pay_refund, approved_by, has_approved_by),
    DBR_STR_NULL(pay_refund, channel_refund_no),
    DBR_STR_NULL(pay_refund, failure_reason),
    DBR_STR(pay_refund, created_at),
    DBR_STR_NULL(pay_refund, approved_at),
    DBR_STR_NULL(pay_refund, finished_at),
    DBR_CHARS(pay_refund, trade_no),
    DBR_I64(pay_refund, attempts),
    DBR_STR_NULL(pay_refund, last_error),
    DBR_I64(pay_refund, payment_fen),
};
static const db_row_spec REFUND_ROW = DB_ROW_SPEC(pay_refund, REFUND_ROW_COLS);

static const char SQL_REFUND_GET[] = REFUND_COLS "WHERE f.id = ?";
static const char SQL_REFUND_GET_LOCK[] = REFUND_COLS "WHERE f.id = ? FOR UPDATE";

DB_ROW_CLEAR_FN(pay_refund_clear, pay_refund, &REFUND_ROW)

int pay_sql_refund_get(db_conn *c, int64_t id, bool for_update, pay_refund *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_REFUND_GET_LOCK : SQL_REFUND_GET, DBP(DB_I64(id)),
                        &REFUND_ROW, out, found);
}

static const char SQL_REFUND_BY_OUT_NO_LOCK[] = REFUND_COLS "WHERE f.out_refund_no = ? FOR UPDATE";

int pay_sql_refund_by_out_no_lock(db_conn *c, const char *out_refund_no, pay_refund *out, bool *found)
{
    return db_query_one(c, SQL_REFUND_BY_OUT_NO_LOCK, DBP(DB_STR(out_refund_no)), &REFUND_ROW, out, found);
}

static const char SQL_REFUND_APPROVE[] =
    "UPDATE refunds SET state = 'approved', approved_by = ?, approved_at = UTC_TIMESTAMP(3), "
    "version = version + 1 WHERE id = ? AND state = 'requested' "
    "AND (requested_by IS NULL OR requested_by <> ?)";

int pay_sql_refund_approve(db_conn *c, int64_t id, int64_t approver, uint64_t *affected)
{
    return db_exec(c, SQL_REFUND_APPROVE, DBP(DB_I64(approver), DB_I64(id), DB_I64(approver)),
                   affected, NULL);
}

static const char SQL_REFUND_FINISH[] =
    "UPDATE refunds SET state = ?, channel_refund_no = ?, failure_reason = ?, "
    "sent_at = COALESCE(sent_at, UTC_TIMESTAMP(3)), finished_at = UTC_TIMESTAMP(3), "
    "version = version + 1 WHERE id = ? AND state IN ('approved', 'sent')";

int pay_sql_refund_finish(db_conn *c, int64_t id, const char *state, const char *channel_no,
                          const char *failure, uint64_t *affected)
{
    return db_exec(c, SQL_REFUND_FINISH,
                   DBP(DB_STR(state), opt_str(channel_no), opt_str(failure), DB_I64(id)), affected,
                   NULL);
}

/* MariaDB assigns left to right: next_attempt_at sees attempts before the
 * increment (the shift is capped so it cannot overflow). */
static const char SQL_REFUND_ATTEMPT[] =
    "UPDATE refunds SET next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL LEAST(?, ? << LEAST(attempts, 20)) SECOND, "
    "attempts = attempts + 1 WHERE id = ?";

int pay_sql_refund_attempt(db_conn *c, int64_t id, int64_t base_s, int64_t max_s)
{
    return db_exec(c, SQL_REFUND_ATTEMPT, DBP(DB_I64(max_s), DB_I64(base_s), DB_I64(id)), NULL, NULL);
}

static const char SQL_REFUND_ERROR[] =
    "UPDATE refunds SET last_error = ? WHERE id = ? AND state = 'approved'";

int pay_sql_refund_error(db_conn *c, int64_t id, const char *error)
{
    return db_exec(c, SQL_REFUND_ERROR, DBP(DB_STR(error), DB_I64(id)), NULL, NULL);
}

static const char SQL_REFUNDS_TO_SEND[] =
    "SELECT id FROM refunds WHERE state = 'approved' AND attempts < ? "
    "AND (next_attempt_at IS NULL OR next_attempt_at <= UTC_TIMESTAMP(3)) ORDER BY id LIMIT 100";

int pay_sql_refunds_to_send(db_conn *c, int64_t max_attempts, pay_id_row **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_REFUNDS_TO_SEND, DBP(DB_I64(max_attempts)), &ID_ROW, rows, n);
}

/* ---- jobs --------------------------------------------------------------- */

static const db_col ORDER_REF_COLS[] = {
    DBR_I64(pay_order_ref, id),
    DBR_CHARS(pay_order_ref, order_no),
    DBR_CHARS(pay_order_ref, channel),
};
static const db_row_spec ORDER_REF_ROW = DB_ROW_SPEC(pay_order_ref, ORDER_REF_COLS);

static const char SQL_ORDERS_EXPIRED[] =
    "SELECT id, order_no, channel FROM payment_orders WHERE state = 'open' "
    "AND expires_at < UTC_TIMESTAMP(3) ORDER BY expires_at LIMIT 500";

int pay_sql_orders_expired(db_conn *c, pay_order_ref **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_ORDERS_EXPIRED, DBP0, &ORDER_REF_ROW, rows, n);
}

static const char SQL_ORDERS_AWAITING[] =
    "SELECT id, order_no, channel FROM payment_orders WHERE state = 'awaiting_confirmation' "
    "ORDER BY last_query_at IS NOT NULL, last_query_at LIMIT 100";

int pay_sql_orders_awaiting(db_conn *c, pay_order_ref **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_ORDERS_AWAITING, DBP0, &ORDER_REF_ROW, rows, n);
}

static const char SQL_ORDER_QUERIED[] =
    "UPDATE payment_orders SET last_query_at = UTC_TIMESTAMP(3), query_count = query_count + 1 "
    "WHERE id = ?";

int pay_sql_order_queried(db_conn *c, int64_t id)
{
    return db_exec(c, SQL_ORDER_QUERIED, DBP(DB_I64(id)), NULL, NULL);
}

/* ---- reconciliation ----------------------------------------------------- */

static const db_col LEDGER_COLS[] = {
    DBR_STR_NULL(pay_ledger_entry, trade_no),
    DBR_CHARS(pay_ledger_entry, order_no),
    DBR_I64(pay_ledger_entry, amount_fen),
    DBR_CHARS(pay_ledger_entry, kind),
};
static const db_row_spec LEDGER_ROW = DB_ROW_SPEC(pay_ledger_entry, LEDGER_COLS);

DB_ROW_ARRAY_FREE_FN(pay_ledger_array_free, pay_ledger_entry, &LEDGER_ROW)

static const char SQL_LEDGER_PAYMENTS[] =
    "SELECT p.trade_no, o.order_no, p.amount_fen, p.kind FROM payments p "
    "JOIN payment_orders o ON o.id = p.order_id WHERE p.channel = ? "
    "AND p.paid_at >= CAST(? AS DATETIME) - INTERVAL 8 HOUR "
    "AND p.paid_at < CAST(? AS DATETIME) - INTERVAL 8 HOUR + INTERVAL 1 DAY ORDER BY p.id";

int pay_sql_ledger_payments(db_conn *c, const char *channel, const char *date,
                            pay_ledger_entry **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_LEDGER_PAYMENTS, DBP(DB_STR(channel), DB_STR(date), DB_STR(date)), &LEDGER_ROW,
              rows, n);
}

static const char SQL_LEDGER_REFUNDS[] =
    "SELECT f.channel_refund_no AS trade_no, o.order_no, f.amount_fen, f.kind FROM refunds f "
    "JOIN payment_orders o ON o.id = f.order_id WHERE f.channel = ? AND f.state = 'succeeded' "
    "AND f.finished_at >= CAST(? AS DATETIME) - INTERVAL 8 HOUR "
    "AND f.finished_at < CAST(? AS DATETIME) - INTERVAL 8 HOUR + INTERVAL 1 DAY ORDER BY f.id";

int pay_sql_ledger_refunds(db_conn *c, const char *channel, const char *date,
                           pay_ledger_entry **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_LEDGER_REFUNDS, DBP(DB_STR(channel), DB_STR(date), DB_STR(date)), &LEDGER_ROW,
              rows, n);
}

static const char SQL_LINES_DELETE[] =
    "DELETE l FROM reconciliation_lines l JOIN reconciliation_reports r ON r.id = l.report_id "
    "WHERE r.channel = ? AND r.stmt_date = ?";
static const char SQL_REPORT_DELETE[] =
    "DELETE FROM reconciliation_reports WHERE channel = ? AND stmt_date = ?";

int pay_sql_report_delete(db_conn *c, const char *channel, const char *date)
{
    if (db_exec(c, SQL_LINES_DELETE, DBP(DB_STR(channel), DB_STR(date)), NULL, NULL) != 0)
        return -1;
    return db_exec(c, SQL_REPORT_DELETE, DBP(DB_STR(channel), DB_STR(date)), NULL, NULL);
}

static const char SQL_REPORT_INSERT[] =
    "INSERT INTO reconciliation_reports (channel, stmt_date, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))";

int pay_sql_report_insert(db_conn *c, const char *channel, const char *date, uint64_t *id)
{
    return db_exec(c, SQL_REPORT_INSERT, DBP(DB_STR(channel), DB_STR(date)), NULL, id);
}

static const char SQL_REPORT_TOTALS[] =
    "UPDATE reconciliation_reports SET matched = ?, not_recorded = ?, not_in_statement = ?, "
    "amount_mismatch = ?, malformed = ?, statement_lines = ?, statement_total_fen = ?, "
    "ledger_total_fen = ? WHERE id = ?";

int pay_sql_report_totals(db_conn *c, int64_t id, const pay_report_totals *t)
{
    return db_exec(c, SQL_REPORT_TOTALS,
                   DBP(DB_I64(t->matched), DB_I64(t->not_recorded), DB_I64(t->not_in_statement),
                       DB_I64(t->amount_mismatch), DB_I64(t->malformed), DB_I64(t->statement_lines),
                       DB_I64(t->statement_total_fen), DB_I64(t->ledger_total_fen), DB_I64(id)),
                   NULL, NULL);
}

static const char SQL_LINE_INSERT[] =
    "INSERT INTO reconciliation_lines (report_id, line_no, kind, entry_type, order_no, trade_no, "
    "ledger_fen, statement_fen, reason, raw_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

int pay_sql_line_insert(db_conn *c, int64_t report_id, const pay_line_row *l)
{
    return db_exec(c, SQL_LINE_INSERT,
                   DBP(DB_I64(report_id), l->line_no > 0 ? DB_I64(l->line_no) : DB_NULL, DB_STR(l->kind),
                       opt_str(l->entry_type), opt_str(l->order_no), opt_str(l->trade_no),
                       l->ledger_fen < 0 ? DB_NULL : DB_I64(l->ledger_fen),
                       l->statement_fen < 0 ? DB_NULL : DB_I64(l->statement_fen), opt_str(l->reason),
                       opt_str(l->raw_line)),
                   NULL, NULL);
}

#define REPORT_COLS                                                                          \
    "SELECT id, channel, stmt_date, matched, not_recorded, not_in_statement, amount_mismatch, " \
    "malformed, statement_lines, statement_total_fen, ledger_total_fen, created_at "           \
    "FROM reconciliation_reports "
static const db_col REPORT_ROW_COLS[] = {
    DBR_I64(pay_report, id),
    DBR_CHARS(pay_report, channel),
    DBR_CHARS(pay_report, stmt_date),
    DBR_I32(pay_report, matched),
    DBR_I32(pay_report, not_recorded),
    DBR_I32(pay_report, not_in_statement),
    DBR_I32(pay_report, amount_mismatch),
    DBR_I32(pay_report, malformed),
    DBR_I32(pay_report, statement_lines),
    DBR_I64(pay_report, statement_total_fen),
    DBR_I64(pay_report, ledger_total_fen),
    DBR_STR(pay_report, created_at),
};
static const db_row_spec REPORT_ROW = DB_ROW_SPEC(pay_report, REPORT_ROW_COLS);

DB_ROW_CLEAR_FN(pay_report_clear, pay_report, &REPORT_ROW)

DB_ROW_ARRAY_FREE_FN(pay_report_array_free, pay_report, &REPORT_ROW)

/* A few rows a day (one per channel): the optional filters need no index
 * of their own. */
static const char SQL_REPORTS[] =
    REPORT_COLS "WHERE (? IS NULL OR stmt_date = ?) AND (? IS NULL OR channel = ?) AND (? = 0 OR id < ?) "
    "ORDER BY id DESC LIMIT ?";
static const char SQL_REPORT_BY_ID[] = REPORT_COLS "WHERE id = ?";

int pay_sql_reports(db_conn *c, const char *date, const char *channel, int64_t before, int limit,
                    pay_report **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_REPORTS,
              DBP(DB_STR(date), DB_STR(date), DB_STR(channel), DB_STR(channel), DB_I64(before),
                  DB_I64(before), DB_I64(limit)),
              &REPORT_ROW, rows, n);
}

int pay_sql_report_by_id(db_conn *c, int64_t id, pay_report *out, bool *found)
{
    return db_query_one(c, SQL_REPORT_BY_ID, DBP(DB_I64(id)), &REPORT_ROW, out, found);
}

static const char SQL_REPORT_LINES[] =
    "SELECT kind, entry_type, order_no, trade_no, reason, raw_line, ledger_fen, statement_fen, "
    "line_no FROM reconciliation_lines WHERE report_id = ? ORDER BY id";
static const db_col LINE_COLS[] = {
    DBR_CHARS(pay_report_line, kind),
    DBR_STR_NULL(pay_report_line, entry_type),
    DBR_STR_NULL(pay_report_line, order_no),
    DBR_STR_NULL(pay_report_line, trade_no),
    DBR_STR_NULL(pay_report_line, reason),
    DBR_STR_NULL(pay_report_line, raw_line),
    DBR_I64_NULL(pay_report_line, ledger_fen, has_ledger_fen),
    DBR_I64_NULL(pay_report_line, statement_fen, has_statement_fen),
    DBR_I64_NULL(pay_report_line, line_no, has_line_no),
};
static const db_row_spec LINE_ROW = DB_ROW_SPEC(pay_report_line, LINE_COLS);

DB_ROW_ARRAY_FREE_FN(pay_report_line_array_free, pay_report_line, &LINE_ROW)

int pay_sql_report_lines(db_conn *c, int64_t report_id, pay_report_line **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_REPORT_LINES, DBP(DB_I64(report_id)), &LINE_ROW, rows, n);
}

/* ---- alerts -------------------------------------------------------------- */

#define ALERT_COLS "SELECT id, kind, channel, order_no, ref_id, detail, created_at FROM payment_alerts "
static const db_col ALERT_ROW_COLS[] = {
    DBR_I64(pay_alert, id),
    DBR_STR(pay_alert, kind),
    DBR_STR_NULL(pay_alert, channel),
    DBR_STR_NULL(pay_alert, order_no),
    DBR_I64_NULL(pay_alert, ref_id, has_ref_id),
    DBR_STR(pay_alert, detail),
    DBR_STR(pay_alert, created_at),
};
static const db_row_spec ALERT_ROW = DB_ROW_SPEC(pay_alert, ALERT_ROW_COLS);

DB_ROW_CLEAR_FN(pay_alert_clear, pay_alert, &ALERT_ROW)

DB_ROW_ARRAY_FREE_FN(pay_alert_array_free, pay_alert, &ALERT_ROW)

/* Two statements: with a day, the created_at index bounds the rows (one
 * day's alerts, then sorted); without one, the primary key is read
 * backwards from the cursor. Left to itself the optimizer walks the primary
 * key for a day too (ORDER BY id LIMIT), through every newer alert. The
 * other filters are constant-folded per execution (ix_payment_alerts_channel
 * serves the channel). */
static const char SQL_ALERTS_DAY[] =
    ALERT_COLS "FORCE INDEX (ix_payment_alerts_created) "
    "WHERE created_at >= CAST(? AS DATETIME) - INTERVAL 8 HOUR "
    "AND created_at < CAST(? AS DATETIME) - INTERVAL 8 HOUR + INTERVAL 1 DAY "
    "AND (? IS NULL OR channel = ?) AND (? IS NULL OR kind = ?) AND (? = 0 OR id < ?) "
    "ORDER BY id DESC LIMIT ?";
static const char SQL_ALERTS[] =
    ALERT_COLS "WHERE (? IS NULL OR channel = ?) AND (? IS NULL OR kind = ?) AND (? = 0 OR id < ?) "
    "ORDER BY id DESC LIMIT ?";
static const char SQL_ALERT_BY_ID[] = ALERT_COLS "WHERE id = ?";

int pay_sql_alerts(db_conn *c, const char *date, const char *channel, const char *kind,
                   int64_t before, int limit, pay_alert **rows, int *n)
{
    if (date)
        DB_RETURN_ALL(c, SQL_ALERTS_DAY,
                  DBP(DB_STR(date), DB_STR(date), DB_STR(channel), DB_STR(channel), DB_STR(kind),
                      DB_STR(kind), DB_I64(before), DB_I64(before), DB_I64(limit)),
                  &ALERT_ROW, rows, n);
    DB_RETURN_ALL(c, SQL_ALERTS,
              DBP(DB_STR(channel), DB_STR(channel), DB_STR(kind), DB_STR(kind), DB_I64(before),
                  DB_I64(before), DB_I64(limit)),
              &ALERT_ROW, rows, n);
}

int pay_sql_alert_by_id(db_conn *c, int64_t id, pay_alert *out, bool *found)
{
    return db_query_one(c, SQL_ALERT_BY_ID, DBP(DB_I64(id)), &ALERT_ROW, out, found);
}
