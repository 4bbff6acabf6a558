-- The audit log: append-only, hash-chained. Subjects by id, fields by name, never values.
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY,
	time       TEXT NOT NULL,
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	subject_id TEXT NOT NULL,
	fields     TEXT NOT NULL,   -- comma-separated field names
	decision   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	request_id TEXT NOT NULL,
	prev_hash  BLOB,
	hash       BLOB NOT NULL
) STRICT;

CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY,
	hash      BLOB NOT NULL,
	time      TEXT NOT NULL,
	key_id    TEXT NOT NULL,
	signature BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
