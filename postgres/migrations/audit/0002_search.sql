-- The console pages through the audit log by seq, filtered by who, what,
-- whom and why: one index per filter, ending with seq, so that a page is a
-- range scan whichever filter is set.
CREATE INDEX audit_log_actor ON {audit}.audit_log (actor, seq);
CREATE INDEX audit_log_action ON {audit}.audit_log (action, seq);
CREATE INDEX audit_log_subject ON {audit}.audit_log (subject_id, seq);
CREATE INDEX audit_log_purpose ON {audit}.audit_log (purpose, seq);
