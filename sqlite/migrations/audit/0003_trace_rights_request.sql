-- An entry names the rights request it was written for apart from its
-- trace id. request_id keeps its name and now holds the trace id only (the
-- HTTP request id, or a job's own id); before this migration it sometimes
-- held a rights request's id, and those entries keep it there: the chain
-- covers what was written. An entry without a rights request hashes as
-- before (audit.Hash), so the old entries verify unchanged.
ALTER TABLE audit_log ADD COLUMN rights_request TEXT NOT NULL DEFAULT '';

-- A search finds the entries of one trace or one rights request. Most
-- entries name no rights request: its index holds only those that do (a
-- search says rights_request <> '' so that it can use it).
CREATE INDEX audit_log_trace ON audit_log (request_id, seq);
CREATE INDEX audit_log_rights_request ON audit_log (rights_request, seq) WHERE rights_request <> '';
