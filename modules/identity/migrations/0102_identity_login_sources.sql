-- Failed operator logins by source (issue 10, item 4). Failures lock out
-- their source, never the account: an address ('address' rows, username '')
-- or one username at one address ('username' rows; the username as typed,
-- whether an operator has it or not, so the answers reveal nothing). The
-- rows are the policy's state, shared by every instance; the audit log
-- keeps each attempt and each lockout. IPv6 addresses are kept as their /64.

CREATE TABLE IF NOT EXISTS login_sources (
  scope ENUM('address','username') NOT NULL,
  address VARCHAR(64) NOT NULL,
  username VARCHAR(64) NOT NULL,
  failures INT NOT NULL,
  lockouts INT NOT NULL,
  block ENUM('backoff','lockout') NULL,
  blocked_until DATETIME(3) NULL,
  first_failed_at DATETIME(3) NOT NULL,
  last_failed_at DATETIME(3) NOT NULL,
  PRIMARY KEY (scope, address, username),
  KEY ix_login_sources_username (username, last_failed_at),
  KEY ix_login_sources_address (address, last_failed_at),
  KEY ix_login_sources_last (last_failed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
