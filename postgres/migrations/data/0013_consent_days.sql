-- The console charts the consent rate per purpose by day.
CREATE INDEX ON {data}.consents(at);
