-- Announce each change as "id:version" ("id:d" when deleted), so that the
-- node that wrote can wait for every other node to acknowledge exactly
-- that change.
CREATE OR REPLACE FUNCTION {data}.announce_subject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify(TG_TABLE_SCHEMA, OLD.id || ':d');
	ELSE
		PERFORM pg_notify(TG_TABLE_SCHEMA, NEW.id || ':' || NEW.version);
	END IF;
	RETURN NULL;
END
$$;
