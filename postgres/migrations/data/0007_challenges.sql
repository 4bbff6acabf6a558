-- One-time verification codes: see the SQLite migration of the same name.
CREATE TABLE {data}.challenges (
	id         text PRIMARY KEY,
	kind       text NOT NULL,
	blind      bytea NOT NULL,
	code_hash  bytea NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	tries      integer NOT NULL DEFAULT 0,
	used       boolean NOT NULL DEFAULT false
);
CREATE INDEX challenges_identifier ON {data}.challenges(kind, blind, created_at);
