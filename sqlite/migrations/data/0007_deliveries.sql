-- Webhook deliveries to recipients (erasure notices). They outlive the
-- subject: no reference to subjects. The body holds no personal data.
CREATE TABLE deliveries (
	id         TEXT PRIMARY KEY,
	request_id TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	event      TEXT NOT NULL,
	body       BLOB NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    TEXT NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX deliveries_due ON deliveries(status, next_at);
CREATE INDEX deliveries_request ON deliveries(request_id);
