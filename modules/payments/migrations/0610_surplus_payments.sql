-- Money received twice for the same obligation (a second trade for an
-- order already paid, or a payment for violations another order already
-- paid) is recorded as a payments row of kind 'duplicate' and refunded
-- automatically. An order may therefore hold several payments, and the
-- exactly-once rules become:
--  * at most ONE applied payment per order: applied_order_id is the order
--    id for kind 'applied' and NULL otherwise, and it is unique;
--  * every trade at most once: (channel, trade_no) stays unique;
--  * at most one automatic refund per surplus payment: auto_payment_id is
--    the payment id for refunds of kind 'duplicate_payment', unique.
-- Automatic refunds are retried with a growing delay (next_attempt_at) and
-- the last failure is kept (last_error).

ALTER TABLE payments ADD COLUMN IF NOT EXISTS applied_order_id BIGINT AS (IF(kind = 'applied', order_id, NULL)) PERSISTENT;
ALTER TABLE payments ADD UNIQUE KEY IF NOT EXISTS uq_payments_applied_order (applied_order_id);
ALTER TABLE payments ADD KEY IF NOT EXISTS ix_payments_order (order_id);
ALTER TABLE payments DROP KEY IF EXISTS uq_payments_order;

ALTER TABLE refunds ADD COLUMN IF NOT EXISTS auto_payment_id BIGINT AS (IF(kind = 'duplicate_payment', payment_id, NULL)) PERSISTENT;
ALTER TABLE refunds ADD UNIQUE KEY IF NOT EXISTS uq_refunds_auto_payment (auto_payment_id);
ALTER TABLE refunds ADD COLUMN IF NOT EXISTS next_attempt_at DATETIME(3) NULL;
ALTER TABLE refunds ADD COLUMN IF NOT EXISTS last_error VARCHAR(64) NULL;
ALTER TABLE refunds ADD KEY IF NOT EXISTS ix_refunds_due (state, next_attempt_at);
