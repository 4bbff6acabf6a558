-- Objections to purposes, and data-subject requests: see the SQLite
-- migration of the same name.
ALTER TABLE {data}.subjects ADD COLUMN objections text NOT NULL DEFAULT '';

CREATE TABLE {data}.requests (
	id           text PRIMARY KEY,
	type         text NOT NULL,
	subject_id   text NOT NULL,
	status       text NOT NULL CHECK (status IN ('received', 'verifying', 'in_progress', 'done', 'refused')),
	jurisdiction text NOT NULL,
	received_at  timestamptz NOT NULL,
	due_at       timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL,
	state_since  timestamptz NOT NULL,
	actor        text NOT NULL,
	details      jsonb NOT NULL
);
CREATE INDEX requests_due ON {data}.requests(status, due_at);
CREATE INDEX requests_subject ON {data}.requests(subject_id);
