-- One trip per visit: a visit is the applicant at one outlet on one bureau
-- day (Asia/Shanghai). A second check-in for the same case at the same
-- outlet on the same day is the same visit and is not counted again. Rows
-- written before this migration keep visit_day NULL (the unique key ignores
-- them); a trip without an outlet (outlet_id NULL) is never merged.
ALTER TABLE case_trips ADD COLUMN IF NOT EXISTS visit_day DATE NULL AFTER partner_id;
ALTER TABLE case_trips ADD UNIQUE KEY IF NOT EXISTS uq_case_trips_visit (case_id, outlet_id, visit_day);
