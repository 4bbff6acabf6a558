-- The key store: wrapped keys only. Never any personal data.
CREATE TABLE {keys}.subject_keys (
	subject_id  text PRIMARY KEY,
	wrapped     bytea,
	created_at  timestamptz NOT NULL,
	shredded_at timestamptz
);

CREATE TABLE {keys}.system_keys (
	name       text PRIMARY KEY,
	wrapped    bytea NOT NULL,
	created_at timestamptz NOT NULL
);
