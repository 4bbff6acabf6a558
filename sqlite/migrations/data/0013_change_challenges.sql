-- A challenge for a change of address names the person who asked for it
-- and (by a keyed hash) the session, so that every node counts the codes a
-- person has had sent to new addresses (rights.MaxChangesPerHour, …).
ALTER TABLE challenges ADD COLUMN subject_id TEXT;
ALTER TABLE challenges ADD COLUMN session BLOB;
CREATE INDEX challenges_subject ON challenges(subject_id, created_at) WHERE subject_id IS NOT NULL;
