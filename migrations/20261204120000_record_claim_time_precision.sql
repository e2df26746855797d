-- How finely a claim's times are known: stated_at and event_at hold the first instant (UTC) of a span of one
-- year, month, day, hour, minute or second. Every time recorded before was a full instant, to the second or finer.
ALTER TABLE claims
  ADD COLUMN stated_at_precision text NOT NULL DEFAULT 'second'
    CHECK (stated_at_precision IN ('year', 'month', 'day', 'hour', 'minute', 'second')),
  ADD COLUMN event_at_precision text
    CHECK (event_at_precision IN ('year', 'month', 'day', 'hour', 'minute', 'second'));

UPDATE claims SET event_at_precision = 'second' WHERE event_at IS NOT NULL;

ALTER TABLE claims ADD CONSTRAINT claims_event_at_precision_check_present
  CHECK ((event_at IS NULL) = (event_at_precision IS NULL));
