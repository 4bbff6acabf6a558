-- A delivery that carries personal data (a rectification's new values) is
-- sealed under its subject's key and names the subject.
ALTER TABLE deliveries ADD COLUMN subject_id TEXT NOT NULL DEFAULT '';
