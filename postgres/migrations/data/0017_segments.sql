-- Saved segments, and the members of snapshots (subject ids only). A
-- person's memberships go with the person (erasure) and move with a merge.
CREATE TABLE {data}.segments (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	rule       TEXT NOT NULL,
	snapshot   BOOLEAN NOT NULL DEFAULT false,
	created_by TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE {data}.segment_members (
	segment_id TEXT NOT NULL REFERENCES {data}.segments(id) ON DELETE CASCADE,
	subject_id TEXT NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	PRIMARY KEY (segment_id, subject_id)
);
CREATE INDEX segment_members_subject ON {data}.segment_members(subject_id);
