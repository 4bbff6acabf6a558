-- A/B subjects, a holdout group and triggered messages on a campaign; and,
-- on each sent message of the send log, what happened to it afterwards
-- (opened, clicked, bounced, complained, unsubscribed), each once. These are
-- counted as aggregates per campaign; no row of its own per open or click.
ALTER TABLE {data}.campaigns ADD COLUMN subject_b TEXT NOT NULL DEFAULT '{}';
ALTER TABLE {data}.campaigns ADD COLUMN holdout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE {data}.campaigns ADD COLUMN trigger_name TEXT NOT NULL DEFAULT '';
ALTER TABLE {data}.campaign_sends ADD COLUMN opened_at TIMESTAMPTZ;
ALTER TABLE {data}.campaign_sends ADD COLUMN clicked_at TIMESTAMPTZ;
ALTER TABLE {data}.campaign_sends ADD COLUMN bounced_at TIMESTAMPTZ;
ALTER TABLE {data}.campaign_sends ADD COLUMN complained_at TIMESTAMPTZ;
ALTER TABLE {data}.campaign_sends ADD COLUMN unsubscribed_at TIMESTAMPTZ;
