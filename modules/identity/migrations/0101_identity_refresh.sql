-- Refresh tokens already rotated away: presenting one again means it was
-- stolen (or replayed), so its session is revoked (OAuth 2.0 Security BCP,
-- refresh token rotation with reuse detection).

CREATE TABLE IF NOT EXISTS operator_refresh_used (
  refresh_hash BINARY(32) NOT NULL PRIMARY KEY,
  session_id BIGINT NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  KEY ix_operator_refresh_used_expires (expires_at),
  KEY ix_operator_refresh_used_session (session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
