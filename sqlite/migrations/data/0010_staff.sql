-- Console staff accounts. The password is an Argon2id PHC string, the TOTP
-- secret is sealed under a system key of the key store, and totp_step is
-- the last TOTP time step used (the replay guard). Staff accounts are not
-- subjects: no reference to subjects.
CREATE TABLE staff (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	totp_sealed   BLOB,
	totp_step     INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
) STRICT;

-- Recovery codes, by their SHA-256 hash, one row each: using one is a
-- single DELETE, so two racing uses see one success. n keeps their order.
CREATE TABLE staff_recovery (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	hash     BLOB NOT NULL,
	n        INTEGER NOT NULL,
	PRIMARY KEY (staff_id, hash)
) STRICT, WITHOUT ROWID;

-- Web sessions and single-use links, by the SHA-256 hash of their token
-- (the token itself is never stored). A principal is a staff id or a
-- subject id; sessions are indexed by it for revocation, and by expiry for
-- the purge.
CREATE TABLE sessions (
	hash       BLOB PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('staff', 'person', 'link')),
	principal  TEXT NOT NULL,
	data       TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_principal ON sessions(principal);
CREATE INDEX sessions_expires ON sessions(expires_at);
