-- The sharing ledger: see the SQLite migration of the same name.
CREATE TABLE {data}.disclosures (
	id         text PRIMARY KEY,
	subject_id text NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	recipient  text NOT NULL,
	purpose    text NOT NULL,
	fields     text NOT NULL,
	at         timestamptz NOT NULL,
	reference  text NOT NULL
);
CREATE INDEX disclosures_subject ON {data}.disclosures(subject_id, at);
CREATE FUNCTION {data}.disclosures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'disclosures are append-only'; END $$;
CREATE TRIGGER disclosures_append_only BEFORE UPDATE ON {data}.disclosures
	FOR EACH ROW EXECUTE FUNCTION {data}.disclosures_append_only();
