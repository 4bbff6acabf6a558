-- The revocation journal of API keys lives with the keys: a restore of the
-- data store never rolls it back, and authentication refuses a key whose
-- hash is in it. It holds the SHA-256 of each key, never a key.
CREATE TABLE api_key_revocations (
	key_id     TEXT PRIMARY KEY,
	hash       BLOB NOT NULL UNIQUE,
	revoked_at TEXT NOT NULL
) STRICT;
