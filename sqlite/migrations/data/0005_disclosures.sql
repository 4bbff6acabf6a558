-- The sharing ledger: what was given to which recipient, for which purpose,
-- by field name (never values). Appended, never updated.
CREATE TABLE disclosures (
	id         TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	recipient  TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	fields     TEXT NOT NULL,  -- comma-separated field ids
	at         TEXT NOT NULL,
	reference  TEXT NOT NULL
) STRICT;
CREATE INDEX disclosures_subject ON disclosures(subject_id, at);
CREATE TRIGGER disclosures_append_only BEFORE UPDATE ON disclosures
BEGIN SELECT RAISE(ABORT, 'disclosures are append-only'); END;
