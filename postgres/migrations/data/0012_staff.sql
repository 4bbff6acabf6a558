-- Staff accounts, their recovery codes, and web sessions: see the SQLite
-- migration of the same name.
CREATE TABLE {data}.staff (
	id            text PRIMARY KEY,
	email         text NOT NULL UNIQUE,
	name          text NOT NULL,
	role          text NOT NULL,
	password_hash text NOT NULL,
	totp_sealed   bytea,
	totp_step     bigint NOT NULL DEFAULT 0,
	disabled      boolean NOT NULL DEFAULT false,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);

CREATE TABLE {data}.staff_recovery (
	staff_id text NOT NULL REFERENCES {data}.staff(id) ON DELETE CASCADE,
	hash     bytea NOT NULL,
	n        integer NOT NULL,
	PRIMARY KEY (staff_id, hash)
);

CREATE TABLE {data}.sessions (
	hash       bytea PRIMARY KEY,
	kind       text NOT NULL CHECK (kind IN ('staff', 'person', 'link')),
	principal  text NOT NULL,
	data       text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_principal ON {data}.sessions(principal);
CREATE INDEX sessions_expires ON {data}.sessions(expires_at);
