-- Objections to purposes (comma-separated purpose ids), and data-subject
-- requests. A request outlives its subject: no reference to subjects.
ALTER TABLE subjects ADD COLUMN objections TEXT NOT NULL DEFAULT '';

CREATE TABLE requests (
	id           TEXT PRIMARY KEY,
	type         TEXT NOT NULL,
	subject_id   TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('received', 'verifying', 'in_progress', 'done', 'refused')),
	jurisdiction TEXT NOT NULL,
	received_at  TEXT NOT NULL,
	due_at       TEXT NOT NULL,
	updated_at   TEXT NOT NULL,
	state_since  TEXT NOT NULL,
	actor        TEXT NOT NULL,
	details      TEXT NOT NULL   -- JSON: purposes, flags, counts, reasons; never personal data
) STRICT;
CREATE INDEX requests_due ON requests(status, due_at);
CREATE INDEX requests_subject ON requests(subject_id);
