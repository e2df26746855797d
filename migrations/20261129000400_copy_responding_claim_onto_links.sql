-- The latest rebuttals of a disputed claim (three on each disputes item) were found by reading every rebutting
-- claim to sort them by when they were stated: tens of milliseconds for a claim rebutted a thousand times. Each
-- link now keeps a copy of its responding claim's stated_at, kept equal in the same transaction as every edit
-- of it, and the latest rebuttals are the first entries of this index.
ALTER TABLE links ADD COLUMN from_claim_stated_at timestamptz(3);

UPDATE links l SET from_claim_stated_at = c.stated_at
FROM claims c
WHERE c.id = l.from_claim_id;

ALTER TABLE links ALTER COLUMN from_claim_stated_at SET NOT NULL;

CREATE INDEX links_latest_rebuttals_idx ON links (to_claim_id, from_claim_stated_at DESC, from_claim_id DESC)
  WHERE deleted_at IS NULL AND kind = 'rebuts';
