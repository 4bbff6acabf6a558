-- Who had an event of a name lately (a trigger's audience, such as the
-- abandoned-cart reminder's), without reading every event on file.
CREATE INDEX events_name_time ON {data}.events(name, time_ms);
