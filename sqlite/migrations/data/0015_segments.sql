-- Saved segments, and the members of snapshots (subject ids only). A
-- person's memberships go with the person (erasure) and move with a merge.
CREATE TABLE segments (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	rule       TEXT NOT NULL,
	snapshot   INTEGER NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
CREATE TABLE segment_members (
	segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
	subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	PRIMARY KEY (segment_id, subject_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_subject ON segment_members(subject_id);
