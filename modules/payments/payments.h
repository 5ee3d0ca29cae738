/* payments.h - the payments module's public API (used by violations).
 *
 * Runs on the caller's connection, inside its transaction, and blocks:
 * worker threads, jobs, CLI only.
 *
 * Lock order. Order creation and violation cancelling lock violations, then
 * the live order item and its order. Applying a channel's notice locks the
 * order row first, then the order's payments, then - only when the trade
 * pays the order - its violations (locked, then marked paid through
 * violations_mark_paid, violations.h: payments writes no violations table
 * itself); recording money received twice (a
 * surplus payment and its automatic refund) locks no violation at all. The
 * two directions can deadlock on one violation; InnoDB then rolls one back
 * and db_tx re-runs it, and the unique keys (one applied payment per order,
 * one row per channel trade, one automatic refund per surplus payment) keep
 * every effect exactly once. Refunds are sent to channels outside any
 * transaction. */
#ifndef ONETRIP_PAYMENTS_H
#define ONETRIP_PAYMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "server/app.h"

/* A violation is being cancelled: call with the violation row already
 * locked (violations lock before orders, as order creation does). Locks the
 * live order holding the violation, if any, and:
 *  - an open order (even one past expiry) is closed with state_reason
 *    'violation_cancelled' and ALL its violations are released (its amount
 *    included the cancelled one; the payer makes a new order for the rest),
 *    audited as payments.order_end; *order_closed = true;
 *  - an order awaiting confirmation is left alone (the money may already be
 *    at the channel): *pending = true; the caller must refuse the cancel.
 * order_no (cap bytes) gets the order's number, or "" when none is live.
 * who may be NULL (system). Returns 0, or -1 with the database error left
 * in c (roll back). */
int payments_violation_cancel(db_conn *c, const app_principal *who, const char *request_id,
                              const char *peer, int64_t violation_id, bool *order_closed,
                              bool *pending, char *order_no, size_t cap);

#endif
