-- A challenge for a change of address names the person and the session:
-- see the SQLite migration of the same name.
ALTER TABLE {data}.challenges ADD COLUMN subject_id text, ADD COLUMN session bytea;
CREATE INDEX challenges_subject ON {data}.challenges(subject_id, created_at) WHERE subject_id IS NOT NULL;
