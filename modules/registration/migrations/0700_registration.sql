-- Vehicle registration pre-entry (issue 7): applications, the plate pool,
-- inspection slots and appointments, anti-hoarding and no-show bars,
-- certified dealers and mailing orders for the post partner.

-- One application per new vehicle. open_vin / open_engine hold the VIN and
-- engine number only while the application is open (submitted .. inspected),
-- so the unique keys refuse a second open application for the same vehicle
-- even when two submissions race; after registration vehicles' own unique
-- keys take over.
CREATE TABLE IF NOT EXISTS registration_applications (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  citizen_id BIGINT NOT NULL,
  channel ENUM('app','dealer') NOT NULL,
  dealer_outlet_id BIGINT NULL,
  dealer_partner_id BIGINT NULL,
  state ENUM('draft','submitted','plate_reserved','appointment_booked','inspected_passed','inspected_failed','registered','documents_mailed','collected','cancelled') NOT NULL,
  vehicle_type VARCHAR(8) NULL,
  use_type ENUM('private','business','government','taxi','bus','freight') NULL,
  brand VARCHAR(64) NULL,
  model VARCHAR(64) NULL,
  vin CHAR(17) NULL,
  engine_no VARCHAR(32) NULL,
  invoice_no VARCHAR(32) NULL,
  invoice_amount_fen BIGINT NULL,
  insurance_policy_no VARCHAR(64) NULL,
  insurance_status ENUM('none','unconfirmed','confirmed','mismatch') NOT NULL DEFAULT 'none',
  materials TEXT NOT NULL,
  delivery ENUM('mail','collect') NOT NULL DEFAULT 'mail',
  mail_address VARCHAR(255) NULL,
  open_vin CHAR(17) NULL,
  open_engine VARCHAR(32) NULL,
  plate_prefix VARCHAR(8) NOT NULL,
  plate_number CHAR(5) NULL,
  offer_expires_at DATETIME(3) NULL,
  case_id BIGINT NULL,
  case_number VARCHAR(32) NULL,
  inspections INT NOT NULL DEFAULT 0,
  inspection_reasons TEXT NULL,
  inspected_at DATETIME(3) NULL,
  vehicle_id BIGINT NULL,
  certificate_no VARCHAR(32) NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  submitted_at DATETIME(3) NULL,
  registered_at DATETIME(3) NULL,
  cancelled_at DATETIME(3) NULL,
  UNIQUE KEY uq_reg_open_vin (open_vin),
  UNIQUE KEY uq_reg_open_engine (open_engine),
  UNIQUE KEY uq_reg_certificate (certificate_no),
  KEY ix_reg_citizen (citizen_id, created_at),
  KEY ix_reg_dealer (dealer_outlet_id, created_at),
  KEY ix_reg_state (state),
  CONSTRAINT fk_reg_citizen FOREIGN KEY (citizen_id) REFERENCES citizens (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The plate pool. A number is reserved by at most one application and an
-- application reserves at most one number (unique reserved_by_application).
CREATE TABLE IF NOT EXISTS plate_numbers (
  prefix VARCHAR(8) NOT NULL,
  number CHAR(5) NOT NULL,
  state ENUM('free','reserved','assigned','blocked') NOT NULL DEFAULT 'free',
  reserved_by_application BIGINT NULL,
  reserved_until DATETIME(3) NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (prefix, number),
  UNIQUE KEY uq_plate_reserved_by (reserved_by_application),
  KEY ix_plate_state (prefix, state),
  KEY ix_plate_expiry (state, reserved_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The last random offer made to an application; reserving from the offer
-- must pick one of these numbers before expires_at.
CREATE TABLE IF NOT EXISTS registration_plate_offers (
  application_id BIGINT NOT NULL,
  number CHAR(5) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (application_id, number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS inspection_slots (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  outlet_id BIGINT NOT NULL,
  starts_at DATETIME(3) NOT NULL,
  ends_at DATETIME(3) NOT NULL,
  capacity INT NOT NULL,
  booked INT NOT NULL DEFAULT 0,
  created_by BIGINT NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY ix_slots_outlet (outlet_id, starts_at),
  KEY ix_slots_end (ends_at),
  CONSTRAINT ck_slots_booked CHECK (booked >= 0 AND booked <= capacity),
  CONSTRAINT fk_slots_outlet FOREIGN KEY (outlet_id) REFERENCES outlets (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- active_application_id is set only while the appointment is booked: the
-- unique key makes "one active appointment per application" a database fact.
CREATE TABLE IF NOT EXISTS registration_appointments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  application_id BIGINT NOT NULL,
  slot_id BIGINT NOT NULL,
  citizen_id BIGINT NOT NULL,
  state ENUM('booked','cancelled','attended','no_show') NOT NULL,
  active_application_id BIGINT NULL,
  booked_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_appt_active (active_application_id),
  KEY ix_appt_application (application_id),
  KEY ix_appt_slot (slot_id),
  KEY ix_appt_citizen (citizen_id, state, updated_at),
  CONSTRAINT fk_appt_slot FOREIGN KEY (slot_id) REFERENCES inspection_slots (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Lapsed reservations and cancellations, counted for anti-hoarding.
CREATE TABLE IF NOT EXISTS registration_hoarding_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  citizen_id BIGINT NOT NULL,
  kind ENUM('lapse','cancel') NOT NULL,
  application_id BIGINT NOT NULL,
  at DATETIME(3) NOT NULL,
  KEY ix_hoard_citizen (citizen_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Cooling-off (kind plate) and no-show (kind booking) bars.
CREATE TABLE IF NOT EXISTS registration_bars (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  citizen_id BIGINT NOT NULL,
  kind ENUM('plate','booking') NOT NULL,
  until DATETIME(3) NOT NULL,
  reason VARCHAR(32) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY ix_bars_citizen (citizen_id, kind, until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Dealers certified for face-to-face signing (they may record the check of
-- a new vehicle they sold instead of a station).
CREATE TABLE IF NOT EXISTS registration_certified_dealers (
  outlet_id BIGINT NOT NULL PRIMARY KEY,
  certified_by BIGINT NOT NULL,
  created_at DATETIME(3) NOT NULL,
  CONSTRAINT fk_cert_dealer_outlet FOREIGN KEY (outlet_id) REFERENCES outlets (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Plates and documents to post to the owner (handled by the post partner).
CREATE TABLE IF NOT EXISTS mailing_orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  application_id BIGINT NOT NULL,
  case_id BIGINT NULL,
  citizen_id BIGINT NOT NULL,
  recipient_name VARCHAR(64) NOT NULL,
  address VARCHAR(255) NOT NULL,
  contents VARCHAR(128) NOT NULL,
  state ENUM('pending','dispatched') NOT NULL DEFAULT 'pending',
  tracking_no VARCHAR(64) NULL,
  dispatched_by BIGINT NULL,
  created_at DATETIME(3) NOT NULL,
  dispatched_at DATETIME(3) NULL,
  UNIQUE KEY uq_mailing_application (application_id),
  KEY ix_mailing_state (state, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
