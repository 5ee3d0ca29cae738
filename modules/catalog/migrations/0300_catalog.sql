-- Service catalog: every item the bureau offers, versioned. catalog_items
-- holds the item's identity and points at its current version; every
-- change by an administrator appends a new catalog_versions row (never
-- updated, so a case filed under version N can always show what it was
-- promised). JSON columns are text checked by the application:
--   materials: [{"name": "...", "key": true|false, "commitment": true|false, "note": "..."}]
--              key = must be present at acceptance; non-key ones may be
--              supplied later; commitment = a signed commitment may replace it
--   fees:      [{"name": "...", "fen": 1000}]   (money in fen)
--   steps:     ["...", "..."]

CREATE TABLE IF NOT EXISTS catalog_items (
  code VARCHAR(32) NOT NULL PRIMARY KEY,
  category ENUM('vehicle','driver','violation','permit') NOT NULL,
  current_version INT NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  KEY ix_catalog_items_category (category)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS catalog_versions (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  item_code VARCHAR(32) NOT NULL,
  version INT NOT NULL,
  name VARCHAR(128) NOT NULL,
  category ENUM('vehicle','driver','violation','permit') NOT NULL,
  channels SET('app','window','post','dealer','insurer','hospital','court','station') NOT NULL,
  trips TINYINT NOT NULL,
  statutory_days INT NOT NULL,
  promised_days INT NOT NULL,
  fees TEXT NOT NULL,
  materials TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  steps TEXT NOT NULL,
  sample_form TEXT NOT NULL,
  allow_missing TINYINT(1) NOT NULL DEFAULT 1,
  allow_commitment TINYINT(1) NOT NULL DEFAULT 0,
  created_by BIGINT NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_catalog_versions_item (item_code, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='append-only';
