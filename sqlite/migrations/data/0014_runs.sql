-- Bulk runs of the gate, and which people each included: kept outside the
-- audit log (one entry per page there) so that a person's access report can
-- say which runs used their data. Memberships go with the person.
CREATE TABLE runs (
	id         TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL,
	actor      TEXT NOT NULL,
	label      TEXT NOT NULL DEFAULT '',
	started_at TEXT NOT NULL
);
CREATE TABLE run_members (
	subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	run_id     TEXT NOT NULL REFERENCES runs(id),
	PRIMARY KEY (subject_id, run_id)
) WITHOUT ROWID;
CREATE INDEX run_members_run ON run_members(run_id);
