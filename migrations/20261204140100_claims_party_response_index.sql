-- A party's response times read, for each of its claims, when it was stated and first answered: from this index
-- alone (an index-only scan), not from the claims' scattered heap pages (30,000 of them for one party at 1M claims).
CREATE INDEX claims_party_responses_idx ON claims (party_id, stated_at)
  INCLUDE (first_response_at, rebuttal_count, support_count)
  WHERE deleted_at IS NULL;
