-- The parties that rebut a claim (rebutted_by, on every claim read), from the index alone: on a page of much
-- rebutted claims this reads a few hundred index pages instead of thousands of link rows.
CREATE INDEX links_rebutting_parties_idx ON links (to_claim_id, from_party_id)
  WHERE deleted_at IS NULL AND kind = 'rebuts';
