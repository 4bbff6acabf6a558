-- A version per subject, bumped in the same transaction as every write that
-- can change a decision (consents, restriction, traits), so that a node can
-- validate a cached state with one look-up.
ALTER TABLE {data}.subjects ADD COLUMN version bigint NOT NULL DEFAULT 0;
