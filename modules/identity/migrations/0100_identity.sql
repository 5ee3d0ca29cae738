-- Callers: app backends (clients with registered public keys), operator
-- sessions, partners (client certificates or HMAC keys), replay caches.

CREATE TABLE IF NOT EXISTS app_clients (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  status ENUM('active','disabled') NOT NULL DEFAULT 'active',
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_app_clients_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS app_client_keys (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  client_id BIGINT NOT NULL,
  kid VARCHAR(64) NOT NULL,
  alg ENUM('ES256','RS256') NOT NULL,
  public_pem TEXT NOT NULL,
  status ENUM('active','revoked') NOT NULL DEFAULT 'active',
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_app_client_keys_kid (kid),
  CONSTRAINT fk_app_client_keys_client FOREIGN KEY (client_id) REFERENCES app_clients (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS jwt_seen (
  client_id BIGINT NOT NULL,
  jti VARCHAR(128) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (client_id, jti),
  KEY ix_jwt_seen_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS operator_sessions (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  operator_id BIGINT NOT NULL,
  refresh_hash BINARY(32) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  revoked TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_operator_sessions_refresh (refresh_hash),
  KEY ix_operator_sessions_operator (operator_id),
  CONSTRAINT fk_operator_sessions_operator FOREIGN KEY (operator_id) REFERENCES operators (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS partners (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  type ENUM('post','insurer','hospital','court','dealer','agency','station') NOT NULL,
  outlet_id BIGINT NOT NULL,
  status ENUM('active','disabled') NOT NULL DEFAULT 'active',
  hmac_key_id VARCHAR(64) NULL,
  hmac_secret_enc VARBINARY(128) NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_partners_name (name),
  UNIQUE KEY uq_partners_hmac (hmac_key_id),
  CONSTRAINT fk_partners_outlet FOREIGN KEY (outlet_id) REFERENCES outlets (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS partner_certs (
  sha256 CHAR(64) NOT NULL PRIMARY KEY,
  partner_id BIGINT NOT NULL,
  status ENUM('active','revoked') NOT NULL DEFAULT 'active',
  created_at DATETIME(3) NOT NULL,
  KEY ix_partner_certs_partner (partner_id),
  CONSTRAINT fk_partner_certs_partner FOREIGN KEY (partner_id) REFERENCES partners (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS partner_nonces (
  partner_id BIGINT NOT NULL,
  nonce VARCHAR(64) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (partner_id, nonce),
  KEY ix_partner_nonces_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
