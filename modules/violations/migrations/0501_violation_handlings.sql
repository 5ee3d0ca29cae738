-- Every handling of a violation with the tie between the licence that took
-- its points and the vehicle, written in the handling's own transaction and
-- never changed. Supervision rules read it to find points trading: one
-- licence taking the points of many vehicles it has no tie to, one vehicle
-- (or owner) whose points go to many licences, ties through fresh bindings.
--   tie owner             the licence holder owned the vehicle
--       bound             ... held an active binding the owner consented to (binding_id)
--       window_documents  at a window, neither: the operator checked the
--                         documents listed in documents (JSON array)
--       unrecorded        handled before ties were recorded (backfilled below)
CREATE TABLE IF NOT EXISTS violation_handlings (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  violation_id BIGINT NOT NULL,
  licence_id BIGINT NOT NULL,
  citizen_id BIGINT NOT NULL,
  plate VARCHAR(16) NOT NULL,
  vehicle_id BIGINT NULL,
  owner_citizen_id BIGINT NULL,
  tie ENUM('owner','bound','window_documents','unrecorded') NOT NULL,
  binding_id BIGINT NULL,
  documents VARCHAR(255) NULL,
  channel ENUM('app','window') NULL,
  operator_id BIGINT NULL,
  outlet_id BIGINT NULL,
  points INT NOT NULL,
  handled_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_violation_handlings_violation (violation_id),
  KEY ix_violation_handlings_citizen (citizen_id, handled_at),
  KEY ix_violation_handlings_vehicle (vehicle_id, handled_at),
  KEY ix_violation_handlings_owner (owner_citizen_id, handled_at),
  KEY ix_violation_handlings_tie (tie, handled_at),
  CONSTRAINT fk_violation_handlings_violation FOREIGN KEY (violation_id) REFERENCES violations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';

-- Violations handled before this table existed: their tie was never
-- recorded, and today's ownership or bindings would not tell it.
INSERT IGNORE INTO violation_handlings (violation_id, licence_id, citizen_id, plate, vehicle_id, tie, channel, points, handled_at)
SELECT id, licence_id, citizen_id, plate, vehicle_id, 'unrecorded', handled_channel, points, COALESCE(handled_at, created_at)
FROM violations WHERE licence_id IS NOT NULL AND citizen_id IS NOT NULL;
