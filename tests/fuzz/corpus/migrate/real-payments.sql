-- Payments: orders over handled violations, channel notifications, applied
-- payments, receipts, refunds, reconciliation and alerts.
-- Money is BIGINT fen; times are DATETIME(3) UTC.
--
-- Exactly-once rules live in unique keys, not in application checks:
--  * payment_order_items.open_violation_id is the violation id while the
--    order is open or awaiting confirmation and NULL otherwise, so a
--    violation sits in at most one live order (the insert that loses the
--    race gets a duplicate-key error -> 409);
--  * payments.order_id and (channel, trade_no) are unique, so a
--    notification, its resends and a trade query apply at most once.

CREATE TABLE IF NOT EXISTS payment_orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_no VARCHAR(32) NOT NULL,
  citizen_id BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  fine_fen BIGINT NOT NULL,
  late_fee_fen BIGINT NOT NULL,
  state ENUM('open','awaiting_confirmation','paid','expired','closed','failed') NOT NULL DEFAULT 'open',
  state_reason VARCHAR(64) NULL,
  channel VARCHAR(16) NOT NULL,
  channel_trade_no VARCHAR(64) NULL,
  returned_at DATETIME(3) NULL,
  last_query_at DATETIME(3) NULL,
  query_count INT NOT NULL DEFAULT 0,
  expires_at DATETIME(3) NOT NULL,
  paid_at DATETIME(3) NULL,
  closed_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL,
  version INT NOT NULL DEFAULT 0,
  UNIQUE KEY uq_payment_orders_no (order_no),
  KEY ix_payment_orders_citizen (citizen_id, created_at),
  KEY ix_payment_orders_state (state, expires_at),
  CONSTRAINT fk_payment_orders_citizen FOREIGN KEY (citizen_id) REFERENCES citizens (id),
  CONSTRAINT ck_payment_orders_amount CHECK (amount_fen = fine_fen + late_fee_fen AND amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payment_order_items (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  violation_id BIGINT NOT NULL,
  fine_fen BIGINT NOT NULL,
  late_fee_fen BIGINT NOT NULL,
  open_violation_id BIGINT NULL,
  UNIQUE KEY uq_payment_items_open (open_violation_id),
  UNIQUE KEY uq_payment_items_order_violation (order_id, violation_id),
  KEY ix_payment_items_violation (violation_id),
  CONSTRAINT fk_payment_items_order FOREIGN KEY (order_id) REFERENCES payment_orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Every notification (and every trade-query answer) received, verified or
-- not, with what was done with it. Never updated.
CREATE TABLE IF NOT EXISTS payment_notifications (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  channel VARCHAR(16) NOT NULL,
  source ENUM('notify','query') NOT NULL DEFAULT 'notify',
  received_at DATETIME(3) NOT NULL,
  peer VARCHAR(64) NOT NULL DEFAULT '',
  notify_id VARCHAR(128) NULL,
  order_no VARCHAR(64) NULL,
  trade_no VARCHAR(64) NULL,
  amount_fen BIGINT NULL,
  trade_status VARCHAR(32) NULL,
  verified TINYINT(1) NOT NULL,
  outcome ENUM('applied','duplicate','duplicate_payment','rejected','ignored','failed') NOT NULL,
  reason VARCHAR(64) NULL,
  headers TEXT NULL,
  raw_body MEDIUMBLOB NOT NULL,
  KEY ix_payment_notifications_order (order_no),
  KEY ix_payment_notifications_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

-- Money received from a channel: one row per order that a success was
-- applied to. kind 'duplicate' = the money arrived for violations already
-- paid by another order (a refund is created for it).
CREATE TABLE IF NOT EXISTS payments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  channel VARCHAR(16) NOT NULL,
  trade_no VARCHAR(64) NOT NULL,
  amount_fen BIGINT NOT NULL,
  notify_id VARCHAR(128) NULL,
  kind ENUM('applied','duplicate') NOT NULL DEFAULT 'applied',
  paid_at DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_payments_order (order_id),
  UNIQUE KEY uq_payments_trade (channel, trade_no),
  KEY ix_payments_created (channel, created_at),
  CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES payment_orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS receipts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number VARCHAR(32) NOT NULL,
  verify_code CHAR(8) NOT NULL,
  order_id BIGINT NOT NULL,
  citizen_id BIGINT NOT NULL,
  payer_name_masked VARCHAR(64) NOT NULL,
  items TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  channel VARCHAR(16) NOT NULL,
  trade_no VARCHAR(64) NOT NULL,
  issued_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_receipts_number (number),
  UNIQUE KEY uq_receipts_order (order_id),
  CONSTRAINT fk_receipts_order FOREIGN KEY (order_id) REFERENCES payment_orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- requested (operator asked) -> approved (a second operator, or the system
-- for duplicate payments) -> sent (channel accepted) -> succeeded | failed.
CREATE TABLE IF NOT EXISTS refunds (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  out_refund_no VARCHAR(32) NOT NULL,
  order_id BIGINT NOT NULL,
  payment_id BIGINT NOT NULL,
  channel VARCHAR(16) NOT NULL,
  amount_fen BIGINT NOT NULL,
  reason VARCHAR(255) NOT NULL,
  kind ENUM('operator','duplicate_payment') NOT NULL,
  state ENUM('requested','approved','sent','succeeded','failed') NOT NULL DEFAULT 'requested',
  requested_by BIGINT NULL,
  approved_by BIGINT NULL,
  channel_refund_no VARCHAR(64) NULL,
  failure_reason VARCHAR(64) NULL,
  attempts INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  approved_at DATETIME(3) NULL,
  sent_at DATETIME(3) NULL,
  finished_at DATETIME(3) NULL,
  version INT NOT NULL DEFAULT 0,
  UNIQUE KEY uq_refunds_out_no (out_refund_no),
  KEY ix_refunds_order (order_id),
  KEY ix_refunds_state (state),
  CONSTRAINT fk_refunds_order FOREIGN KEY (order_id) REFERENCES payment_orders (id),
  CONSTRAINT fk_refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id),
  CONSTRAINT ck_refunds_amount CHECK (amount_fen > 0),
  CONSTRAINT ck_refunds_four_eyes CHECK (approved_by IS NULL OR requested_by IS NULL OR approved_by <> requested_by)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS reconciliation_reports (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  channel VARCHAR(16) NOT NULL,
  stmt_date DATE NOT NULL,
  matched INT NOT NULL DEFAULT 0,
  not_recorded INT NOT NULL DEFAULT 0,
  not_in_statement INT NOT NULL DEFAULT 0,
  amount_mismatch INT NOT NULL DEFAULT 0,
  statement_total_fen BIGINT NOT NULL DEFAULT 0,
  ledger_total_fen BIGINT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_reconciliation_reports (channel, stmt_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS reconciliation_lines (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  report_id BIGINT NOT NULL,
  kind ENUM('matched','not_recorded','not_in_statement','amount_mismatch') NOT NULL,
  entry_type ENUM('payment','refund') NOT NULL,
  order_no VARCHAR(64) NULL,
  trade_no VARCHAR(64) NULL,
  ledger_fen BIGINT NULL,
  statement_fen BIGINT NULL,
  KEY ix_reconciliation_lines_report (report_id, kind),
  CONSTRAINT fk_reconciliation_lines_report FOREIGN KEY (report_id) REFERENCES reconciliation_reports (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payment_alerts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind VARCHAR(48) NOT NULL,
  channel VARCHAR(16) NULL,
  order_no VARCHAR(64) NULL,
  ref_id BIGINT NULL,
  detail VARCHAR(255) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY ix_payment_alerts_created (created_at),
  KEY ix_payment_alerts_kind (kind, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
