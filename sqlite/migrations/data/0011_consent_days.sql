-- The console charts the consent rate per purpose by day.
CREATE INDEX consents_at ON consents(at);
