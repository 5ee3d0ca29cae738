-- Orphaned Idempotency-Key claims (server/idempotency.c, server/incarnation.c).
-- Every onetripd process registers an incarnation (a random 128-bit id made
-- at start-up) with its server identity and keeps heartbeat_at fresh from
-- its own thread; a graceful stop sets stopped_at. Every claim records the
-- incarnation that made it (owner) and a claim number; a retry that finds an
-- in-flight claim whose incarnation is stopped, gone or silent takes it over
-- at once (bumping claim_no, which fences the old claimant's store and
-- release) instead of waiting for idempotency.stale_s. Claims made before
-- this migration have no owner and keep the stale window.
CREATE TABLE IF NOT EXISTS server_incarnations (
  id CHAR(32) NOT NULL PRIMARY KEY,
  host VARCHAR(64) NOT NULL,
  boot_id CHAR(36) NOT NULL,
  pid INT NOT NULL,
  proc_start BIGINT NOT NULL,
  started_at DATETIME(3) NOT NULL,
  heartbeat_at DATETIME(3) NOT NULL,
  stopped_at DATETIME(3) NULL,
  KEY ix_incarnations_host (host, boot_id),
  KEY ix_incarnations_heartbeat (heartbeat_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE idempotency_keys
  ADD COLUMN IF NOT EXISTS owner CHAR(32) NULL,
  ADD COLUMN IF NOT EXISTS claim_no INT NOT NULL DEFAULT 0;
