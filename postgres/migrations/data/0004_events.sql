-- Collected events: see the SQLite migration of the same name.
CREATE TABLE {data}.messages (
	id          text PRIMARY KEY,
	received_ms bigint NOT NULL
);

CREATE TABLE {data}.events (
	id          text PRIMARY KEY,
	subject_id  text NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	type        text NOT NULL,
	name        text NOT NULL,
	purposes    text NOT NULL,
	time_ms     bigint NOT NULL,
	received_ms bigint NOT NULL,
	expires_ms  bigint NOT NULL,
	sealed      bytea NOT NULL
);
CREATE INDEX events_subject ON {data}.events(subject_id, time_ms);
CREATE INDEX events_expires ON {data}.events(expires_ms);

CREATE TABLE {data}.anonymous_counts (
	day  text NOT NULL,
	name text NOT NULL,
	n    bigint NOT NULL,
	PRIMARY KEY (day, name)
);

CREATE TABLE {data}.minimization (
	day      text NOT NULL,
	event    text NOT NULL,
	item     text NOT NULL,
	action   text NOT NULL,
	detector text NOT NULL,
	n        bigint NOT NULL,
	PRIMARY KEY (day, event, item, action, detector)
);
