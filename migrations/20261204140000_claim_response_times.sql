-- When a claim was first answered, and when it became disputed: the earliest stated_at among the claims that
-- answer it through live links (any response; rebuttals only), kept with the other derived counts. Null while
-- nothing answers it.
ALTER TABLE claims
  ADD COLUMN first_response_at timestamp(3) with time zone,
  ADD COLUMN disputed_since timestamp(3) with time zone;

UPDATE claims c
SET first_response_at = r.first_response, disputed_since = r.first_rebuttal
FROM (
  SELECT to_claim_id,
         min(from_claim_stated_at) AS first_response,
         min(from_claim_stated_at) FILTER (WHERE kind = 'rebuts') AS first_rebuttal
  FROM links
  WHERE deleted_at IS NULL AND kind IN ('rebuts', 'supports')
  GROUP BY to_claim_id
) r
WHERE c.id = r.to_claim_id;

-- The disputes list by when claims became disputed ("what flared up today"), as the other disputed orders are.
CREATE INDEX claims_disputed_since_idx ON claims (disputed_since, id) WHERE deleted_at IS NULL AND rebuttal_count > 0;

-- A party's response times: its responses, each with the claim it answers.
CREATE INDEX links_from_party_responses_idx ON links (from_party_id, to_claim_id, from_claim_stated_at)
  INCLUDE (to_claim_stated_at)
  WHERE deleted_at IS NULL AND kind IN ('rebuts', 'supports');
