-- Audit shards (server/audit.c): the audit trail is AUDIT_SHARDS (16) chains
-- instead of one, so that unrelated transactions lock different head rows
-- and commit in parallel. A writer locks only its shard's head row, takes
-- the next number from audit_seq (one order over every shard, with gaps
-- where a transaction rolled back), and links its record to the shard's
-- previous one by prev_seq and prev_hash. Shard 0 continues the existing
-- chain: records written before this migration keep prev_seq NULL and are
-- verified as before. Append-only for the app user: SELECT and INSERT on
-- audit_log; SELECT and INSERT (NEXT VALUE FOR) on audit_seq.

ALTER TABLE audit_log
  ADD COLUMN IF NOT EXISTS shard TINYINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS prev_seq BIGINT NULL,
  ADD INDEX IF NOT EXISTS ix_audit_shard (shard, seq);

-- audit_head: one row per shard; seq is the shard's last record (a global
-- number), records how many the shard holds, hash the last one's hash.
-- The existing row (id 1) becomes shard 0; until now seq was also the count.
ALTER TABLE audit_head
  ADD COLUMN IF NOT EXISTS shard TINYINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS records BIGINT NOT NULL DEFAULT 0;

UPDATE audit_head SET shard = 0, records = seq WHERE id = 1 AND shard IS NULL;

INSERT IGNORE INTO audit_head (id, shard, seq, records, hash) VALUES
  (2, 1, 0, 0, REPEAT('0', 64)), (3, 2, 0, 0, REPEAT('0', 64)), (4, 3, 0, 0, REPEAT('0', 64)),
  (5, 4, 0, 0, REPEAT('0', 64)), (6, 5, 0, 0, REPEAT('0', 64)), (7, 6, 0, 0, REPEAT('0', 64)),
  (8, 7, 0, 0, REPEAT('0', 64)), (9, 8, 0, 0, REPEAT('0', 64)), (10, 9, 0, 0, REPEAT('0', 64)),
  (11, 10, 0, 0, REPEAT('0', 64)), (12, 11, 0, 0, REPEAT('0', 64)), (13, 12, 0, 0, REPEAT('0', 64)),
  (14, 13, 0, 0, REPEAT('0', 64)), (15, 14, 0, 0, REPEAT('0', 64)), (16, 15, 0, 0, REPEAT('0', 64));

ALTER TABLE audit_head
  MODIFY COLUMN shard TINYINT UNSIGNED NOT NULL,
  ADD UNIQUE KEY IF NOT EXISTS uq_audit_head_shard (shard);

-- The sequence starts after the last record. CREATE SEQUENCE and SETVAL
-- take literals only, hence EXECUTE IMMEDIATE; SETVAL never moves a
-- sequence back, so a re-run is harmless. INCREMENT BY 0 and NOCACHE are
-- what a Galera cluster needs (each node then draws with its own
-- auto_increment offset, and every value is replicated); on one server
-- INCREMENT BY 0 means steps of auto_increment_increment, 1 by default.
SELECT COALESCE(MAX(seq), 0) INTO @audit_last FROM audit_log;

EXECUTE IMMEDIATE CONCAT('CREATE SEQUENCE IF NOT EXISTS audit_seq START WITH ', @audit_last + 1, ' INCREMENT BY 0 MINVALUE 1 NO MAXVALUE NOCACHE NOCYCLE');

EXECUTE IMMEDIATE CONCAT('DO SETVAL(audit_seq, ', @audit_last, ')');
