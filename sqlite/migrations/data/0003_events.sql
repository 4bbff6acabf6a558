-- Collected events. Messages records every message id seen, so that a retry
-- is stored once whether its event was linked or only counted. An event
-- holds no direct identifier: its properties and context are sealed under
-- the subject's key. Times are Unix milliseconds.
CREATE TABLE messages (
	id          TEXT PRIMARY KEY,
	received_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
	id          TEXT PRIMARY KEY,
	subject_id  TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
	type        TEXT NOT NULL,
	name        TEXT NOT NULL,
	purposes    TEXT NOT NULL,  -- comma-separated purpose ids allowed when collected
	time_ms     INTEGER NOT NULL,
	received_ms INTEGER NOT NULL,
	expires_ms  INTEGER NOT NULL,
	sealed      BLOB NOT NULL
) STRICT;
CREATE INDEX events_subject ON events(subject_id, time_ms);
CREATE INDEX events_expires ON events(expires_ms);

-- Events no purpose allowed leave only a count.
CREATE TABLE anonymous_counts (
	day  TEXT NOT NULL,
	name TEXT NOT NULL,
	n    INTEGER NOT NULL,
	PRIMARY KEY (day, name)
) STRICT, WITHOUT ROWID;

-- What collection dropped, redacted, truncated or rejected.
CREATE TABLE minimization (
	day      TEXT NOT NULL,
	event    TEXT NOT NULL,
	item     TEXT NOT NULL,
	action   TEXT NOT NULL,
	detector TEXT NOT NULL,
	n        INTEGER NOT NULL,
	PRIMARY KEY (day, event, item, action, detector)
) STRICT, WITHOUT ROWID;
