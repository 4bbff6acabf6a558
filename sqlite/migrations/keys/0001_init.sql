-- The key store: wrapped keys only. Never any personal data.
CREATE TABLE subject_keys (
	subject_id  TEXT PRIMARY KEY,
	wrapped     BLOB,            -- NULL once shredded
	created_at  TEXT NOT NULL,
	shredded_at TEXT
) STRICT;

CREATE TABLE system_keys (
	name       TEXT PRIMARY KEY,
	wrapped    BLOB NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
