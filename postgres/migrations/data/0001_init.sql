-- The data store. Personal data rests here only as ciphertext under a key per
-- subject; identifiers are found through their keyed blind index.
CREATE TABLE {data}.subjects (
	id         text PRIMARY KEY,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	restricted boolean NOT NULL DEFAULT false
);

CREATE TABLE {data}.identifiers (
	kind       text NOT NULL,
	blind      bytea NOT NULL,
	subject_id text NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	sealed     bytea NOT NULL,
	PRIMARY KEY (kind, blind)
);
CREATE INDEX ON {data}.identifiers(subject_id);

CREATE TABLE {data}.traits (
	subject_id text NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	field      text NOT NULL,
	sealed     bytea NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (subject_id, field)
);

CREATE TABLE {data}.consents (
	seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                text NOT NULL UNIQUE,
	receipt_id        text NOT NULL,
	subject_id        text NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	purpose           text NOT NULL,
	state             text NOT NULL CHECK (state IN ('granted', 'denied', 'withdrawn')),
	notice_hash       text NOT NULL,
	channel           text NOT NULL,
	gpc               boolean NOT NULL,
	explicit          boolean NOT NULL,
	guardian          boolean NOT NULL,
	guardian_evidence bytea,
	actor             text NOT NULL,
	at                timestamptz NOT NULL
);
CREATE INDEX ON {data}.consents(subject_id, seq);
CREATE FUNCTION {data}.append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER consents_append_only BEFORE UPDATE ON {data}.consents
	FOR EACH ROW EXECUTE FUNCTION {data}.append_only();

CREATE TABLE {data}.notices (
	hash           text PRIMARY KEY,
	version        text NOT NULL,
	canonical      bytea NOT NULL,
	purpose_hashes jsonb NOT NULL,
	created_at     timestamptz NOT NULL
);

CREATE TABLE {data}.api_keys (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	role       text NOT NULL,
	hash       bytea NOT NULL UNIQUE,
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);
