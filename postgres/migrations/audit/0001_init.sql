-- The audit log: append-only, hash-chained. Subjects by id, fields by name, never values.
CREATE TABLE {audit}.audit_log (
	seq        bigint PRIMARY KEY,
	time       timestamptz NOT NULL,
	actor      text NOT NULL,
	action     text NOT NULL,
	purpose    text NOT NULL,
	subject_id text NOT NULL,
	fields     text[] NOT NULL,
	decision   text NOT NULL,
	reason     text NOT NULL,
	request_id text NOT NULL,
	prev_hash  bytea,
	hash       bytea NOT NULL
);

CREATE TABLE {audit}.audit_checkpoints (
	seq       bigint PRIMARY KEY,
	hash      bytea NOT NULL,
	time      timestamptz NOT NULL,
	key_id    text NOT NULL,
	signature bytea NOT NULL
);

CREATE FUNCTION {audit}.append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {audit}.audit_log
	FOR EACH ROW EXECUTE FUNCTION {audit}.append_only();
