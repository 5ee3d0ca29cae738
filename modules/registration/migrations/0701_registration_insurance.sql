-- Compulsory traffic accident liability insurance (issue 10): insurer
-- partners push the policies they issued; a registration completes only
-- with a policy for its VIN, under the number the owner gave, valid on the
-- day of completion.

-- One row per policy of one insurer. A policy names one vehicle for good:
-- pushing it again may correct its validity, never move it to another VIN.
CREATE TABLE IF NOT EXISTS registration_insurance_policies (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  insurer_partner_id BIGINT NOT NULL,
  insurer_outlet_id BIGINT NULL,
  kind ENUM('compulsory') NOT NULL DEFAULT 'compulsory',
  policy_no VARCHAR(64) NOT NULL,
  vin CHAR(17) NOT NULL,
  valid_from DATE NOT NULL,
  valid_until DATE NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_policy_insurer_no (insurer_partner_id, policy_no),
  KEY ix_policy_vin (vin, policy_no),
  CONSTRAINT ck_policy_validity CHECK (valid_until >= valid_from)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The policy that confirmed the application (insurance_status 'confirmed').
ALTER TABLE registration_applications ADD COLUMN IF NOT EXISTS insurance_policy_id BIGINT NULL;

-- registration_certified_dealers is no longer read: since issue 10 only an
-- inspection station records the check of a vehicle. It stays for the
-- record of past certifications.
