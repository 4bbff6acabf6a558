-- The signed checkpoints are append-only too, like the entries they sign:
-- rewriting the log and its checkpoints together is what the anchor in the
-- key store catches; this trigger makes it take more than one UPDATE.
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON {audit}.audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION {audit}.append_only();
