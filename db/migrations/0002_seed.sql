-- Marker of the demo city loaded by `onetripd seed` (db/seed.c): one row per
-- completed load, written in the same transaction as the load's last batch,
-- so a run that died midway leaves no row and the next run completes it.
-- Any row here means the demo city is present: seed loads nothing again.

CREATE TABLE IF NOT EXISTS demo_seed (
  seed BIGINT NOT NULL PRIMARY KEY,
  people BIGINT NOT NULL,
  vehicles BIGINT NOT NULL,
  loaded_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
