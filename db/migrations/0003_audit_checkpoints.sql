-- Signed checkpoints of the audit chain's head (server/audit_checkpoint.c).
-- The copies that count live outside the database (audit.checkpoint_dir) and
-- with auditors; this table only lets every instance of a cluster serve the
-- latest one at GET /v1/audit/checkpoint. A row is worthless without its
-- Ed25519 signature, and the signing key is not in the database.
-- Append-only for the app user (SELECT, INSERT).

CREATE TABLE IF NOT EXISTS audit_checkpoints (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  issued_at DATETIME(3) NOT NULL,
  record_count BIGINT NOT NULL,
  head CHAR(64) NOT NULL,
  key_id CHAR(32) NOT NULL,
  payload TEXT NOT NULL,
  signature VARCHAR(128) NOT NULL,
  KEY ix_audit_checkpoints_issued (issued_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';
