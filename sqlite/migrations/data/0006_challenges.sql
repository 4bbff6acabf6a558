-- One-time verification codes, by their keyed hash only. Not part of
-- backups: they live ten minutes.
CREATE TABLE challenges (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	blind      BLOB NOT NULL,
	code_hash  BLOB NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	tries      INTEGER NOT NULL DEFAULT 0,
	used       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX challenges_identifier ON challenges(kind, blind, created_at);
