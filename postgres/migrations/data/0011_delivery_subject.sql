-- See the SQLite migration of the same name.
ALTER TABLE {data}.deliveries ADD COLUMN subject_id text NOT NULL DEFAULT '';
