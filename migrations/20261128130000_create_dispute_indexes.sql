-- Indexes for the disputes queries, each partial so that it holds only what its query reads. At 1,000,000 claims
-- and 300,000 links the first page of each order is an index walk that stops after one page (bench/plans/ has
-- the plans); filters that match few claims walk further along it.

-- GET /v1/disputes, sorted by most rebutted and by newest claim (most recent response is claims_disputed_idx).
CREATE INDEX claims_disputed_rebuttal_count_idx ON claims (rebuttal_count, id)
  WHERE deleted_at IS NULL AND rebuttal_count > 0;
CREATE INDEX claims_disputed_stated_at_idx ON claims (stated_at, id)
  WHERE deleted_at IS NULL AND rebuttal_count > 0;
-- GET /v1/disputes?party=…: one claimant's disputed claims by most recent response.
CREATE INDEX claims_disputed_party_idx ON claims (party_id, last_response_at, id)
  WHERE deleted_at IS NULL AND rebuttal_count > 0;

-- GET /v1/disputes?rebutted_by=…: the claims one party rebutted.
CREATE INDEX links_rebutter_idx ON links (from_party_id, to_claim_id)
  WHERE deleted_at IS NULL AND kind = 'rebuts';
-- GET /v1/disputes/matrix: rebuttals counted per claimant and rebutter from the index alone.
CREATE INDEX links_rebuttal_pair_idx ON links (to_party_id, from_party_id)
  WHERE deleted_at IS NULL AND kind = 'rebuts';
-- GET /v1/links: newest first, and those of one party at either end (links_from_party_idx is the other end).
CREATE INDEX links_created_at_idx ON links (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX links_to_party_idx ON links (to_party_id) WHERE deleted_at IS NULL;
