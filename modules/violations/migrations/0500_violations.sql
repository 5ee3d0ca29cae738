-- Violations (traffic fines) sent in by the issuing agencies or recorded at a
-- window, handled on a licence (points) and paid (payments module).
-- Times are UTC; served_date is a bureau (Asia/Shanghai) calendar day, from
-- which the payment deadline and the late fee are computed on read
-- (modules/violations/late_fee.h): nothing rewrites rows as days pass.
--
-- Contract used by modules/payments: state moves recorded -> handled -> paid
-- (payments: UPDATE violations SET state='paid', paid_at=? WHERE id=? AND
-- state='handled'), or recorded/handled -> cancelled by an operator.

CREATE TABLE IF NOT EXISTS violations (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  decision_no VARCHAR(32) NOT NULL,
  plate VARCHAR(16) NOT NULL,
  vehicle_type VARCHAR(8) NOT NULL,
  vehicle_id BIGINT NULL,
  licence_id BIGINT NULL,
  citizen_id BIGINT NULL,
  occurred_at DATETIME(3) NOT NULL,
  place VARCHAR(255) NOT NULL,
  code VARCHAR(16) NOT NULL,
  description VARCHAR(255) NOT NULL,
  fine_fen BIGINT NOT NULL,
  points INT NOT NULL,
  agency ENUM('traffic','highway','airport','railway','urban') NOT NULL,
  source ENUM('camera','officer') NOT NULL,
  served_date DATE NOT NULL,
  state ENUM('recorded','handled','paid','cancelled') NOT NULL DEFAULT 'recorded',
  handled_at DATETIME(3) NULL,
  handled_channel ENUM('app','window') NULL,
  case_id BIGINT NULL,
  paid_at DATETIME(3) NULL,
  cancel_reason VARCHAR(255) NULL,
  cancelled_at DATETIME(3) NULL,
  recorded_by_kind ENUM('partner','operator','system') NOT NULL DEFAULT 'system',
  recorded_by_id BIGINT NOT NULL DEFAULT 0,
  version INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_violations_decision (decision_no),
  KEY ix_violations_plate (plate),
  KEY ix_violations_vehicle (vehicle_id),
  KEY ix_violations_licence (licence_id),
  KEY ix_violations_citizen (citizen_id),
  KEY ix_violations_state (state),
  CONSTRAINT ck_violations_fine CHECK (fine_fen >= 0),
  CONSTRAINT ck_violations_points CHECK (points BETWEEN 0 AND 12)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Vehicle type (GA 802 code) -> licence class needed to drive it, used when
-- a violation's plate is not a registered vehicle of this bureau.
CREATE TABLE IF NOT EXISTS violation_vehicle_classes (
  vehicle_type VARCHAR(8) NOT NULL PRIMARY KEY,
  class_required VARCHAR(4) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO violation_vehicle_classes (vehicle_type, class_required) VALUES
  ('K11', 'A1'), ('K12', 'A1'), ('K13', 'A1'), ('K14', 'A1'), ('K15', 'A1'),
  ('K21', 'B1'), ('K22', 'B1'), ('K23', 'B1'), ('K24', 'B1'),
  ('K31', 'C1'), ('K32', 'C1'), ('K33', 'C1'), ('K34', 'C1'),
  ('K41', 'C1'), ('K42', 'C1'), ('K43', 'C1'),
  ('H11', 'B2'), ('H12', 'B2'), ('H13', 'B2'), ('H14', 'B2'),
  ('H21', 'B2'), ('H22', 'B2'), ('H23', 'B2'), ('H24', 'B2'),
  ('H31', 'C1'), ('H32', 'C1'), ('H33', 'C1'), ('H34', 'C1'),
  ('H41', 'C1'), ('H42', 'C1'), ('H43', 'C1'), ('H44', 'C1'),
  ('Q11', 'A2'), ('Q12', 'A2'), ('Q21', 'A2'), ('Q22', 'A2'),
  ('M11', 'D'), ('M12', 'D'), ('M13', 'D'), ('M21', 'E'), ('M22', 'D');

-- A citizen (holder) may handle the violations of a vehicle owned by someone
-- else once the owner consented; at most three active bindings per holder.
-- live is 1 while pending or active and NULL afterwards, so the unique key
-- allows one live request per (holder, vehicle) and any number of old ones.
CREATE TABLE IF NOT EXISTS violation_bindings (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  holder_citizen_id BIGINT NOT NULL,
  vehicle_id BIGINT NOT NULL,
  owner_citizen_id BIGINT NOT NULL,
  state ENUM('pending','active','refused','withdrawn') NOT NULL DEFAULT 'pending',
  live TINYINT AS (IF(state IN ('pending','active'), 1, NULL)) PERSISTENT,
  created_at DATETIME(3) NOT NULL,
  consented_at DATETIME(3) NULL,
  ended_at DATETIME(3) NULL,
  ended_by BIGINT NULL,
  UNIQUE KEY uq_violation_bindings_live (holder_citizen_id, vehicle_id, live),
  KEY ix_violation_bindings_owner (owner_citizen_id, state),
  KEY ix_violation_bindings_vehicle (vehicle_id, state),
  CONSTRAINT fk_violation_bindings_holder FOREIGN KEY (holder_citizen_id) REFERENCES citizens (id),
  CONSTRAINT fk_violation_bindings_owner FOREIGN KEY (owner_citizen_id) REFERENCES citizens (id),
  CONSTRAINT fk_violation_bindings_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
