-- A visit the calling module can name (e.g. the inspection appointment the
-- applicant came for) is that visit, even when it falls on the same day at
-- the same outlet as another: a car that failed its check and came back for
-- a later appointment made two trips. Visits recorded through the public
-- check-in route have no reference ('') and stay one per outlet and day.
ALTER TABLE case_trips ADD COLUMN IF NOT EXISTS visit_ref VARCHAR(64) NOT NULL DEFAULT '' AFTER visit_day;
ALTER TABLE case_trips DROP INDEX IF EXISTS uq_case_trips_visit;
ALTER TABLE case_trips ADD UNIQUE KEY IF NOT EXISTS uq_case_trips_visit (case_id, outlet_id, visit_day, visit_ref);
