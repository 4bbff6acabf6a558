-- The revocation journal of API keys: see the SQLite migration of the same name.
CREATE TABLE {keys}.api_key_revocations (
	key_id     text PRIMARY KEY,
	hash       bytea NOT NULL UNIQUE,
	revoked_at timestamptz NOT NULL
);
