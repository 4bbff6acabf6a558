-- How each identifier was established (account, verified, given): only the
-- first two may sign a person in. Identifiers stored before this migration
-- count as given with the account.
ALTER TABLE {data}.identifiers ADD COLUMN origin TEXT NOT NULL DEFAULT 'account';
