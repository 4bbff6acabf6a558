-- The audit log's anchor: a copy of its latest signed checkpoint, kept
-- apart from the audit store, so that cutting the log's tail or rewriting
-- it together with its checkpoints is found. One row; it never moves back.
CREATE TABLE audit_anchor (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	seq       INTEGER NOT NULL,
	hash      BLOB NOT NULL,
	time      TEXT NOT NULL,
	key_id    TEXT NOT NULL,
	signature BLOB NOT NULL
) STRICT;
