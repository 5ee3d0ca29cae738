-- Base schema shared by every module: people, licences, vehicles, outlets,
-- operators, plus the server's own tables (idempotency keys, job leases and
-- runs, audit trail). Times are UTC (the server sets time_zone='+00:00').
-- Personal identifiers are stored sealed (AES-256-GCM, see server/crypto.h)
-- with a keyed hash beside them for exact-match lookup.

CREATE TABLE IF NOT EXISTS outlets (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(32) NOT NULL,
  name VARCHAR(128) NOT NULL,
  type ENUM('window','post','insurer','hospital','court','dealer','station','agency') NOT NULL,
  city VARCHAR(64) NOT NULL DEFAULT '',
  address VARCHAR(255) NOT NULL DEFAULT '',
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_outlets_code (code),
  KEY ix_outlets_type (type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS citizens (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  id_number_enc VARBINARY(128) NOT NULL,
  id_number_hash BINARY(32) NOT NULL,
  phone_enc VARBINARY(128) NULL,
  phone_hash BINARY(32) NULL,
  birth_date DATE NOT NULL,
  disabled TINYINT(1) NOT NULL DEFAULT 0,
  address VARCHAR(255) NOT NULL DEFAULT '',
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_citizens_id_number (id_number_hash),
  KEY ix_citizens_phone (phone_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS licences (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  citizen_id BIGINT NOT NULL,
  file_no CHAR(12) NOT NULL,
  classes VARCHAR(32) NOT NULL,
  points INT NOT NULL DEFAULT 0,
  cycle_start DATE NOT NULL,
  status ENUM('valid','suspended','revoked','expired','full_score') NOT NULL DEFAULT 'valid',
  valid_from DATE NOT NULL,
  valid_until DATE NOT NULL,
  next_medical_date DATE NULL,
  full_score_study TINYINT(1) NOT NULL DEFAULT 0,
  version INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_licences_citizen (citizen_id),
  UNIQUE KEY uq_licences_file (file_no),
  KEY ix_licences_medical (next_medical_date),
  CONSTRAINT fk_licences_citizen FOREIGN KEY (citizen_id) REFERENCES citizens (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS vehicles (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  plate VARCHAR(16) NOT NULL,
  vin CHAR(17) NOT NULL,
  engine_no VARCHAR(32) NOT NULL,
  vehicle_type VARCHAR(8) NOT NULL,
  class_required VARCHAR(4) NOT NULL,
  use_type ENUM('private','business','government','taxi','bus','freight') NOT NULL DEFAULT 'private',
  brand VARCHAR(64) NOT NULL DEFAULT '',
  model VARCHAR(64) NOT NULL DEFAULT '',
  owner_citizen_id BIGINT NOT NULL,
  status ENUM('normal','seized','scrapped','pending') NOT NULL DEFAULT 'normal',
  next_inspection_date DATE NULL,
  registered_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_vehicles_plate (plate),
  UNIQUE KEY uq_vehicles_vin (vin),
  UNIQUE KEY uq_vehicles_engine (engine_no),
  KEY ix_vehicles_owner (owner_citizen_id),
  KEY ix_vehicles_inspection (next_inspection_date),
  CONSTRAINT fk_vehicles_owner FOREIGN KEY (owner_citizen_id) REFERENCES citizens (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS operators (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  display_name VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  roles INT UNSIGNED NOT NULL,
  outlet_id BIGINT NOT NULL,
  status ENUM('active','disabled') NOT NULL DEFAULT 'active',
  failed_logins INT NOT NULL DEFAULT 0,
  locked_until DATETIME(3) NULL,
  token_version INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_operators_username (username),
  CONSTRAINT fk_operators_outlet FOREIGN KEY (outlet_id) REFERENCES outlets (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS idempotency_keys (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  principal VARCHAR(96) NOT NULL,
  idem_key VARCHAR(255) NOT NULL,
  fingerprint CHAR(64) NOT NULL,
  state ENUM('in_flight','done') NOT NULL,
  status SMALLINT NULL,
  content_type VARCHAR(100) NULL,
  body MEDIUMBLOB NULL,
  headers TEXT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_idem (principal, idem_key),
  KEY ix_idem_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS job_leases (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  owner VARCHAR(128) NULL,
  expires_at DATETIME(3) NULL,
  next_run_at DATETIME(3) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS job_runs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  owner VARCHAR(128) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NULL,
  outcome ENUM('running','ok','failed') NOT NULL,
  items BIGINT NOT NULL DEFAULT 0,
  message VARCHAR(255) NULL,
  KEY ix_job_runs_name (name, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The audit trail is append-only: the application user is granted only
-- SELECT and INSERT on it (see the table comment, read by migrate), and the
-- triggers refuse UPDATE and DELETE from anyone.
CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGINT NOT NULL PRIMARY KEY,
  at DATETIME(6) NOT NULL,
  caller_kind VARCHAR(16) NOT NULL,
  caller_id BIGINT NOT NULL,
  client_id BIGINT NOT NULL,
  outlet_id BIGINT NOT NULL,
  roles INT UNSIGNED NOT NULL,
  action VARCHAR(64) NOT NULL,
  target_type VARCHAR(32) NULL,
  target_id VARCHAR(64) NULL,
  outcome VARCHAR(32) NOT NULL,
  peer VARCHAR(64) NOT NULL,
  request_id VARCHAR(64) NOT NULL,
  detail TEXT NULL,
  prev_hash CHAR(64) NOT NULL,
  hash CHAR(64) NOT NULL,
  KEY ix_audit_at (at),
  KEY ix_audit_caller (caller_kind, caller_id, at),
  KEY ix_audit_action (action, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

CREATE TABLE IF NOT EXISTS audit_head (
  id TINYINT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash CHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';

CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
