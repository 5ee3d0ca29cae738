-- Supervision (modules/supervision): risk rules, what they observed, and
-- the alerts they raised with their evidence and workflow.
CREATE TABLE IF NOT EXISTS sup_rules (
  id INT NOT NULL PRIMARY KEY,
  code VARCHAR(48) NOT NULL,
  description VARCHAR(255) NOT NULL,
  severity VARCHAR(8) NOT NULL,
  mode VARCHAR(16) NOT NULL,
  threshold INT NOT NULL,
  window_s INT NOT NULL,
  params TEXT NOT NULL,
  enabled TINYINT NOT NULL,
  version INT NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_sup_rules_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sup_rule_versions (
  rule_id INT NOT NULL,
  version INT NOT NULL,
  description VARCHAR(255) NOT NULL,
  severity VARCHAR(8) NOT NULL,
  threshold INT NOT NULL,
  window_s INT NOT NULL,
  params TEXT NOT NULL,
  enabled TINYINT NOT NULL,
  changed_by BIGINT NOT NULL,
  note VARCHAR(500) NOT NULL,
  changed_at DATETIME(3) NOT NULL,
  PRIMARY KEY (rule_id, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

-- One row per event a windowed rule counted (value: what is counted distinct).
CREATE TABLE IF NOT EXISTS sup_observations (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule_id INT NOT NULL,
  subject_kind VARCHAR(32) NOT NULL,
  subject_id BIGINT NOT NULL,
  value BIGINT NOT NULL,
  event_id BIGINT NOT NULL,
  seen_at DATETIME(3) NOT NULL,
  KEY ix_sup_obs_subject (rule_id, subject_kind, subject_id, seen_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- open_key is "rule:kind:id" while the alert is not closed (NULL after):
-- repeated triggers fold into the open alert through the unique key.
CREATE TABLE IF NOT EXISTS sup_alerts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule_id INT NOT NULL,
  rule_version INT NOT NULL,
  severity VARCHAR(8) NOT NULL,
  subject_kind VARCHAR(32) NOT NULL,
  subject_id BIGINT NOT NULL,
  outlet_id BIGINT NOT NULL,
  state VARCHAR(16) NOT NULL,
  outcome VARCHAR(16) NULL,
  hits INT NOT NULL,
  assignee_id BIGINT NULL,
  open_key VARCHAR(96) NULL,
  first_at DATETIME(3) NOT NULL,
  last_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_sup_alerts_open (open_key),
  KEY ix_sup_alerts_state (state, id),
  KEY ix_sup_alerts_rule (rule_id, id),
  KEY ix_sup_alerts_severity (severity, id),
  KEY ix_sup_alerts_outlet (outlet_id, id),
  KEY ix_sup_alerts_subject (subject_kind, subject_id, id),
  KEY ix_sup_alerts_first (first_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sup_alert_evidence (
  alert_id BIGINT NOT NULL,
  event_id BIGINT NOT NULL,
  event_type VARCHAR(64) NOT NULL,
  detail TEXT NOT NULL,
  at DATETIME(3) NOT NULL,
  PRIMARY KEY (alert_id, event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

CREATE TABLE IF NOT EXISTS sup_alert_steps (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  alert_id BIGINT NOT NULL,
  from_state VARCHAR(16) NOT NULL,
  to_state VARCHAR(16) NOT NULL,
  outcome VARCHAR(16) NULL,
  assignee_id BIGINT NULL,
  operator_id BIGINT NOT NULL,
  note VARCHAR(500) NOT NULL,
  at DATETIME(3) NOT NULL,
  KEY ix_sup_steps_alert (alert_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

INSERT IGNORE INTO sup_rules (id, code, description, severity, mode, threshold, window_s, params, enabled, version, updated_at) VALUES
  (1, 'intermediary', 'One account or outlet files business for many distinct owners in a day', 'medium', 'near_real_time', 5, 86400, '{}', 1, 1, UTC_TIMESTAMP(3)),
  (2, 'points_unrelated', 'A licence takes (or tries to take) points of a vehicle it has no tie to', 'high', 'near_real_time', 1, 0, '{}', 1, 1, UTC_TIMESTAMP(3)),
  (3, 'points_many_licences', 'One vehicle''s violations go to many licences within the window', 'high', 'near_real_time', 3, 2592000, '{}', 1, 1, UTC_TIMESTAMP(3)),
  (4, 'off_hours', 'Operator action outside working hours (Asia/Shanghai)', 'low', 'near_real_time', 1, 0, '{"start_hour":8,"end_hour":18}', 1, 1, UTC_TIMESTAMP(3)),
  (5, 'plate_hoarding', 'Plate numbers reserved and released repeatedly by one person', 'medium', 'near_real_time', 3, 2592000, '{}', 1, 1, UTC_TIMESTAMP(3));

INSERT IGNORE INTO sup_rule_versions (rule_id, version, description, severity, threshold, window_s, params, enabled, changed_by, note, changed_at)
  SELECT id, version, description, severity, threshold, window_s, params, enabled, 0, 'initial', updated_at FROM sup_rules;
