-- Materials still missing at completion may be replaced by the applicant's
-- signed commitment where the item allows it; the case then leaves the
-- supply workflow as 'committed' (the materials are in
-- commitment_materials), so no job reminds or escalates it afterwards.
ALTER TABLE cases MODIFY COLUMN supply_state ENUM('none','pending','reminded','escalated','supplied','committed') NOT NULL DEFAULT 'none';
