-- Every change to a subject's version (and every subject created or
-- deleted) is announced on the channel named after the data schema, with
-- the subject id as payload. NOTIFY is transactional: listeners hear of a
-- change when, and only if, it commits. Nodes use it to drop cached
-- consent states at once instead of checking the version on every decision.
CREATE FUNCTION {data}.announce_subject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify(TG_TABLE_SCHEMA, OLD.id);
	ELSE
		PERFORM pg_notify(TG_TABLE_SCHEMA, NEW.id);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER subjects_announce_insert_delete AFTER INSERT OR DELETE ON {data}.subjects
	FOR EACH ROW EXECUTE FUNCTION {data}.announce_subject_change();
CREATE TRIGGER subjects_announce_version AFTER UPDATE OF version ON {data}.subjects
	FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
	EXECUTE FUNCTION {data}.announce_subject_change();
