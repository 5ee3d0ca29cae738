-- Unauthenticated notifications (issue 10, item 2).
--
-- Anyone can POST up to http.max_body to the public notify endpoint. A
-- notification whose signature does not verify is kept as a digest only:
-- raw_body holds its first payments.unverified_keep_bytes bytes, body_size
-- and body_sha256 describe the whole body. Rows written by authentic
-- channel messages keep the whole body as before (and now their size and
-- hash too). Older rows have NULL size and hash.
ALTER TABLE payment_notifications
  ADD COLUMN IF NOT EXISTS body_size BIGINT NULL AFTER raw_body,
  ADD COLUMN IF NOT EXISTS body_sha256 CHAR(64) NULL AFTER body_size;

-- Repeated failures from one source fold into one alert: fold_key names the
-- alert ("unverified|channel|source|bureau day"; NULL for ordinary alerts),
-- occurrences counts what was folded in and last_seen_at says when the
-- last one came. The unique key makes concurrent failures fold into one row.
ALTER TABLE payment_alerts
  ADD COLUMN IF NOT EXISTS source VARCHAR(64) NULL AFTER ref_id,
  ADD COLUMN IF NOT EXISTS occurrences BIGINT NOT NULL DEFAULT 1 AFTER detail,
  ADD COLUMN IF NOT EXISTS last_seen_at DATETIME(3) NULL AFTER created_at,
  ADD COLUMN IF NOT EXISTS fold_key VARCHAR(160) NULL,
  ADD UNIQUE KEY IF NOT EXISTS uq_payment_alerts_fold (fold_key);
