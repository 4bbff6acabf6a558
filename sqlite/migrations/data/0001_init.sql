-- The data store. Personal data rests here only as ciphertext under a key per
-- subject; identifiers are found through their keyed blind index.
CREATE TABLE subjects (
	id         TEXT PRIMARY KEY,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	restricted INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE identifiers (
	kind       TEXT NOT NULL,
	blind      BLOB NOT NULL,
	subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	sealed     BLOB NOT NULL,
	PRIMARY KEY (kind, blind)
) STRICT;
CREATE INDEX identifiers_subject ON identifiers(subject_id);

CREATE TABLE traits (
	subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	field      TEXT NOT NULL,
	sealed     BLOB NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (subject_id, field)
) STRICT;

-- The consent ledger: appended, never updated.
CREATE TABLE consents (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,
	id                TEXT NOT NULL UNIQUE,
	receipt_id        TEXT NOT NULL,
	subject_id        TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	purpose           TEXT NOT NULL,
	state             TEXT NOT NULL CHECK (state IN ('granted', 'denied', 'withdrawn')),
	notice_hash       TEXT NOT NULL,
	channel           TEXT NOT NULL,
	gpc               INTEGER NOT NULL,
	explicit          INTEGER NOT NULL,
	guardian          INTEGER NOT NULL,
	guardian_evidence BLOB,
	actor             TEXT NOT NULL,
	at                TEXT NOT NULL
) STRICT;
CREATE INDEX consents_subject ON consents(subject_id, seq);
CREATE TRIGGER consents_append_only BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consents are append-only'); END;

CREATE TABLE notices (
	hash           TEXT PRIMARY KEY,
	version        TEXT NOT NULL,
	canonical      BLOB NOT NULL,
	purpose_hashes TEXT NOT NULL,  -- JSON object: purpose id -> definition hash
	created_at     TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	hash       BLOB NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	revoked_at TEXT
) STRICT;
