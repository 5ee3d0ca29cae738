-- A malformed statement line no longer stops a channel's day: the good
-- lines are reconciled and each bad one becomes a 'malformed' line of the
-- report with its line number, reason and (cleaned) text. Lines taken from
-- the statement keep their line number (line_no) for every kind.
-- Alerts can be listed per channel over the API (ix_payment_alerts_channel).

ALTER TABLE reconciliation_reports ADD COLUMN IF NOT EXISTS malformed INT NOT NULL DEFAULT 0 AFTER amount_mismatch;
ALTER TABLE reconciliation_reports ADD COLUMN IF NOT EXISTS statement_lines INT NOT NULL DEFAULT 0 AFTER malformed;
ALTER TABLE reconciliation_lines MODIFY kind ENUM('matched','not_recorded','not_in_statement','amount_mismatch','malformed') NOT NULL;
ALTER TABLE reconciliation_lines MODIFY entry_type ENUM('payment','refund') NULL;
ALTER TABLE reconciliation_lines ADD COLUMN IF NOT EXISTS line_no INT NULL AFTER report_id;
ALTER TABLE reconciliation_lines ADD COLUMN IF NOT EXISTS reason VARCHAR(32) NULL;
ALTER TABLE reconciliation_lines ADD COLUMN IF NOT EXISTS raw_line VARCHAR(128) NULL;
ALTER TABLE payment_alerts ADD KEY IF NOT EXISTS ix_payment_alerts_channel (channel);
