-- Where each trait's value came from: see the SQLite migration of the same name.
ALTER TABLE {data}.traits ADD COLUMN source text NOT NULL DEFAULT '';
