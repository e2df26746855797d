-- Corrections and retractions: a later claim that corrects an earlier one (a revised figure, a corrected
-- headline) or withdraws it. They join claims of one party, or of parties on one side chain (the service checks
-- which), so the rule "different parties" now binds rebuttals and supports only.
ALTER TABLE links DROP CONSTRAINT links_kind_check;
ALTER TABLE links ADD CONSTRAINT links_kind_check CHECK (kind IN ('rebuts', 'supports', 'corrects', 'retracts'));

ALTER TABLE links DROP CONSTRAINT links_check1;
ALTER TABLE links ADD CONSTRAINT links_responses_between_parties_check
  CHECK (from_party_id <> to_party_id OR kind IN ('corrects', 'retracts'));

-- The claims that correct or retract a claim, and those a claim corrects or retracts, on every claim read: few
-- links, so small indexes that answer the many claims without any at once.
CREATE INDEX links_restating_to_idx ON links (to_claim_id, from_claim_stated_at)
  WHERE deleted_at IS NULL AND kind IN ('corrects', 'retracts');
CREATE INDEX links_restating_from_idx ON links (from_claim_id, to_claim_stated_at)
  WHERE deleted_at IS NULL AND kind IN ('corrects', 'retracts');
