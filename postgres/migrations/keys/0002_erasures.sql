-- The erasure journal and the suppression list live with the keys: see the
-- SQLite migration of the same name.
CREATE TABLE {keys}.erasures (
	subject_id text PRIMARY KEY,
	erased_at  timestamptz NOT NULL,
	request_id text NOT NULL
);

CREATE TABLE {keys}.suppressions (
	kind     text NOT NULL,
	blind    bytea NOT NULL,
	added_at timestamptz NOT NULL,
	PRIMARY KEY (kind, blind)
);
