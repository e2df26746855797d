-- A claim answers another one way: it rebuts it or supports it, not both. One live link per (from, to) pair.
CREATE UNIQUE INDEX links_claims_live_key ON links (from_claim_id, to_claim_id) WHERE deleted_at IS NULL;
DROP INDEX links_pair_live_key;
