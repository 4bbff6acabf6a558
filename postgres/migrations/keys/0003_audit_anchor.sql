-- The audit log's anchor: see the SQLite migration of the same name.
CREATE TABLE {keys}.audit_anchor (
	id        integer PRIMARY KEY CHECK (id = 1),
	seq       bigint NOT NULL,
	hash      bytea NOT NULL,
	time      timestamptz NOT NULL,
	key_id    text NOT NULL,
	signature bytea NOT NULL
);
