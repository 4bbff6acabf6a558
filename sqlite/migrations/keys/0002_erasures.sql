-- The erasure journal and the suppression list live with the keys: a
-- restore of the data store never rolls them back, and replays the journal.
-- Neither holds personal data in the clear: subject ids are random, and a
-- suppressed identifier is kept only as its keyed blind index.
CREATE TABLE erasures (
	subject_id TEXT PRIMARY KEY,
	erased_at  TEXT NOT NULL,
	request_id TEXT NOT NULL
) STRICT;

CREATE TABLE suppressions (
	kind     TEXT NOT NULL,
	blind    BLOB NOT NULL,
	added_at TEXT NOT NULL,
	PRIMARY KEY (kind, blind)
) STRICT;
