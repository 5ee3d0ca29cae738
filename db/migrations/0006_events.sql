-- The event outbox (server/events.h). A business function writes its event
-- with app_event_emit in its own transaction, so an event exists iff its
-- change committed. Consumers (declared by modules, app_module.consumers)
-- read events in id order after commit; each keeps a durable cursor, moved
-- in the same transaction as the consumer's own writes, so an event is
-- handled once even if the process dies between commit and evaluation.
CREATE TABLE IF NOT EXISTS app_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  type VARCHAR(64) NOT NULL,
  subject_kind VARCHAR(32) NOT NULL,
  subject_id BIGINT NOT NULL,
  actor_kind VARCHAR(16) NOT NULL,
  actor_id BIGINT NOT NULL,
  outlet_id BIGINT NOT NULL,
  payload TEXT NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY ix_app_events_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS app_event_cursors (
  consumer VARCHAR(64) NOT NULL PRIMARY KEY,
  last_id BIGINT NOT NULL,
  updated_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
