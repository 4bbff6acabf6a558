-- The signed checkpoints are append-only too, like the entries they sign:
-- rewriting the log and its checkpoints together is what the anchor in the
-- key store catches; these triggers make it take more than one UPDATE.
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
