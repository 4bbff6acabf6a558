-- Bulk runs of the gate, and which people each included: kept outside the
-- audit log (one entry per page there) so that a person's access report can
-- say which runs used their data. Memberships go with the person.
CREATE TABLE {data}.runs (
	id         TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL,
	actor      TEXT NOT NULL,
	label      TEXT NOT NULL DEFAULT '',
	started_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE {data}.run_members (
	subject_id TEXT NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	run_id     TEXT NOT NULL REFERENCES {data}.runs(id),
	PRIMARY KEY (subject_id, run_id)
);
CREATE INDEX run_members_run ON {data}.run_members(run_id);
