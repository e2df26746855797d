-- The figures a claim states ("at least 500 deaths", "100 to 300 fighters"), one row per figure in the order the
-- claim gives them, so that figures can be filtered and gathered across claims. A figure is one number or a range
-- with either end open; numeric keeps the number exactly as the client wrote it. The claim's versions keep its
-- figures in their snapshots, as they keep the rest of what it says.
CREATE TABLE claim_figures (
  claim_id        uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
  position        smallint NOT NULL CHECK (position >= 0),
  measure         text NOT NULL CHECK (measure ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(measure) <= 50),
  value           numeric,
  low             numeric,
  high            numeric,
  unit            text CHECK (char_length(unit) BETWEEN 1 AND 50),
  qualifier       text CHECK (char_length(qualifier) BETWEEN 1 AND 100),
  as_of           timestamptz(3),
  as_of_precision text CHECK (as_of_precision IN ('year', 'month', 'day', 'hour', 'minute', 'second')),
  PRIMARY KEY (claim_id, position),
  CONSTRAINT claim_figures_value_or_range CHECK (
    (value IS NOT NULL AND low IS NULL AND high IS NULL) OR (value IS NULL AND (low IS NOT NULL OR high IS NOT NULL))
  ),
  CONSTRAINT claim_figures_range_in_order CHECK (low IS NULL OR high IS NULL OR low <= high),
  CONSTRAINT claim_figures_as_of_precision_present CHECK ((as_of IS NULL) = (as_of_precision IS NULL))
);

-- One figure per measure, unit and time in a claim: a second one would contradict the first.
CREATE UNIQUE INDEX claim_figures_one_per_measure_idx
  ON claim_figures (claim_id, measure, coalesce(unit, ''), coalesce(as_of, '-infinity'));

-- The claims that state a figure of one measure (the measure filter, the figures list).
CREATE INDEX claim_figures_measure_idx ON claim_figures (measure, claim_id);
