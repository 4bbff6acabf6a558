-- Webhook deliveries: see the SQLite migration of the same name.
CREATE TABLE {data}.deliveries (
	id         text PRIMARY KEY,
	request_id text NOT NULL,
	recipient  text NOT NULL,
	event      text NOT NULL,
	body       bytea NOT NULL,
	status     text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts   integer NOT NULL DEFAULT 0,
	next_at    timestamptz NOT NULL,
	last_error text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL
);
CREATE INDEX deliveries_due ON {data}.deliveries(status, next_at);
CREATE INDEX deliveries_request ON {data}.deliveries(request_id);
