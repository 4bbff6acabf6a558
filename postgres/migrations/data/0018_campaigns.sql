-- Campaigns and their send logs. A campaign holds templates that name
-- traits by field id, never personal data; the send log holds one row per
-- person and campaign (claimed before the message goes out, so that no one
-- gets it twice), and goes with the person.
CREATE TABLE {data}.campaigns (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	channel     TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	segment     TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL DEFAULT '{}',
	body        TEXT NOT NULL DEFAULT '{}',
	status      TEXT NOT NULL,
	actor       TEXT NOT NULL,
	sent_by     TEXT NOT NULL DEFAULT '',
	sent_role   TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	lease_node  TEXT NOT NULL DEFAULT '',
	lease_until TIMESTAMPTZ
);
CREATE INDEX campaigns_status ON {data}.campaigns(status);
CREATE TABLE {data}.campaign_sends (
	campaign_id TEXT NOT NULL REFERENCES {data}.campaigns(id),
	subject_id  TEXT NOT NULL REFERENCES {data}.subjects(id) ON DELETE CASCADE,
	channel     TEXT NOT NULL,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	node        TEXT NOT NULL DEFAULT '',
	at          TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (campaign_id, subject_id)
);
-- The frequency cap counts a person's messages over a channel since a time.
CREATE INDEX campaign_sends_subject ON {data}.campaign_sends(subject_id, channel, at);
