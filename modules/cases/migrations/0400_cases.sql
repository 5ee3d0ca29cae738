-- Cases: every application, its trips (physical visits), state history,
-- time-limit alerts, ratings, rectification tickets and the daily rollup
-- the reform's figures are answered from.
--
-- Days (submitted_day, deadline, completed_day, supply_due) are calendar
-- days in Asia/Shanghai, the bureau's zone; instants are UTC.

CREATE TABLE IF NOT EXISTS cases (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number VARCHAR(20) NULL,
  query_code CHAR(8) NOT NULL,
  item_code VARCHAR(32) NOT NULL,
  catalog_version_id BIGINT NOT NULL,
  category ENUM('vehicle','driver','violation','permit') NOT NULL,
  applicant_id BIGINT NOT NULL,
  channel ENUM('app','window','post','dealer','insurer','hospital','court','station') NOT NULL,
  outlet_id BIGINT NULL,
  assisted_kind ENUM('operator','partner','agent') NULL,
  assisted_id BIGINT NULL,
  ref_type VARCHAR(32) NULL,
  ref_id VARCHAR(64) NULL,
  state ENUM('submitted','accepted','in_progress','completed','rejected','cancelled') NOT NULL,
  submitted_at DATETIME(3) NOT NULL,
  submitted_day DATE NOT NULL,
  promised_days INT NOT NULL,
  deadline DATE NOT NULL,
  accepted_at DATETIME(3) NULL,
  completed_at DATETIME(3) NULL,
  completed_day DATE NULL,
  trips INT NOT NULL DEFAULT 0,
  warned TINYINT(1) NOT NULL DEFAULT 0,
  overdue TINYINT(1) NOT NULL DEFAULT 0,
  missing_materials TEXT NULL,
  supply_due DATE NULL,
  supply_state ENUM('none','pending','reminded','escalated','supplied') NOT NULL DEFAULT 'none',
  commitment_materials TEXT NULL,
  state_reason VARCHAR(255) NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_cases_number (number),
  KEY ix_cases_applicant (applicant_id, id),
  KEY ix_cases_ref (ref_type, ref_id),
  KEY ix_cases_open (state, overdue, id),
  KEY ix_cases_supply (supply_state, supply_due),
  KEY ix_cases_completed (completed_day),
  CONSTRAINT fk_cases_applicant FOREIGN KEY (applicant_id) REFERENCES citizens (id),
  CONSTRAINT fk_cases_version FOREIGN KEY (catalog_version_id) REFERENCES catalog_versions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS case_trips (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  case_id BIGINT NOT NULL,
  outlet_id BIGINT NULL,
  operator_id BIGINT NULL,
  partner_id BIGINT NULL,
  at DATETIME(3) NOT NULL,
  KEY ix_case_trips_case (case_id),
  CONSTRAINT fk_case_trips_case FOREIGN KEY (case_id) REFERENCES cases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

CREATE TABLE IF NOT EXISTS case_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  case_id BIGINT NOT NULL,
  at DATETIME(3) NOT NULL,
  kind VARCHAR(32) NOT NULL,
  from_state VARCHAR(16) NULL,
  to_state VARCHAR(16) NULL,
  actor VARCHAR(64) NOT NULL,
  note VARCHAR(255) NULL,
  KEY ix_case_events_case (case_id, id),
  CONSTRAINT fk_case_events_case FOREIGN KEY (case_id) REFERENCES cases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

-- Supervision alerts: one per (case, kind), so the jobs may run any number
-- of times. outlet_id NULL = online case: only the supervision center sees it.
CREATE TABLE IF NOT EXISTS case_alerts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  case_id BIGINT NOT NULL,
  outlet_id BIGINT NULL,
  kind ENUM('time_warning','overdue','supply_reminder','supply_escalated','rectification_overdue') NOT NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_case_alerts (case_id, kind),
  KEY ix_case_alerts_outlet (outlet_id, id),
  CONSTRAINT fk_case_alerts_case FOREIGN KEY (case_id) REFERENCES cases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS case_ratings (
  case_id BIGINT NOT NULL PRIMARY KEY,
  applicant_id BIGINT NOT NULL,
  score TINYINT NOT NULL,
  comment VARCHAR(500) NOT NULL DEFAULT '',
  created_at DATETIME(3) NOT NULL,
  CONSTRAINT fk_case_ratings_case FOREIGN KEY (case_id) REFERENCES cases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS rectifications (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  case_id BIGINT NOT NULL,
  outlet_id BIGINT NULL,
  score TINYINT NOT NULL,
  state ENUM('open','answered') NOT NULL DEFAULT 'open',
  due_at DATETIME(3) NOT NULL,
  answer VARCHAR(1000) NULL,
  answered_by BIGINT NULL,
  answered_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_rectifications_case (case_id),
  KEY ix_rectifications_open (state, due_at),
  CONSTRAINT fk_rectifications_case FOREIGN KEY (case_id) REFERENCES cases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Daily rollup of completed cases (by completion day), maintained by the
-- cases_rollup job; the figures endpoint sums these rows instead of
-- scanning cases. outlet_id 0 = no outlet (online).
CREATE TABLE IF NOT EXISTS case_rollup_daily (
  day DATE NOT NULL,
  category VARCHAR(16) NOT NULL,
  channel VARCHAR(16) NOT NULL,
  outlet_id BIGINT NOT NULL,
  completed INT NOT NULL,
  one_trip INT NOT NULL,
  zero_trip INT NOT NULL,
  online INT NOT NULL,
  on_time INT NOT NULL,
  offline INT NOT NULL,
  at_partner INT NOT NULL,
  rated INT NOT NULL,
  satisfied INT NOT NULL,
  PRIMARY KEY (day, category, channel, outlet_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Days whose rollup must be recomputed (a late rating of an old case).
CREATE TABLE IF NOT EXISTS case_rollup_dirty (
  day DATE NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
