-- Where each trait's value came from (api, identify, rectification, …),
-- for the access report.
ALTER TABLE traits ADD COLUMN source TEXT NOT NULL DEFAULT '';
