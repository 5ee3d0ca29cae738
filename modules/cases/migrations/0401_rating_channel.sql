-- A case may be rated from any channel: the app, or at the window or partner
-- outlet where it was handled (the applicant rates on a terminal there).
ALTER TABLE case_ratings ADD COLUMN IF NOT EXISTS channel ENUM('app','window','post','dealer','insurer','hospital','court','station') NOT NULL DEFAULT 'app' AFTER applicant_id;
ALTER TABLE case_ratings ADD COLUMN IF NOT EXISTS assisted_kind VARCHAR(16) NULL AFTER channel;
ALTER TABLE case_ratings ADD COLUMN IF NOT EXISTS assisted_id BIGINT NULL AFTER assisted_kind;
