-- Repeats: a claim that says again what another party's claim said (an echo). Like rebuttals and supports it joins
-- claims of different parties, which links_responses_between_parties_check already binds every kind but
-- corrections and retractions to.
ALTER TABLE links DROP CONSTRAINT links_kind_check;
ALTER TABLE links ADD CONSTRAINT links_kind_check
  CHECK (kind IN ('rebuts', 'supports', 'repeats', 'corrects', 'retracts'));
