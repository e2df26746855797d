-- The matrix filtered by what the rebutted claim is about (tags) or when it was stated counted its rebuttals by
-- joining every matching claim: most of a second at 1,000,000 claims. Each link now carries a copy of the
-- answered claim's tags and stated_at, kept equal in the same transaction as every edit of them, so that the
-- count reads the links alone, through these indexes.
ALTER TABLE links
  ADD COLUMN to_claim_tags text[] NOT NULL DEFAULT '{}',
  ADD COLUMN to_claim_stated_at timestamptz(3);

UPDATE links l SET to_claim_tags = c.tags, to_claim_stated_at = c.stated_at
FROM claims c
WHERE c.id = l.to_claim_id;

ALTER TABLE links ALTER COLUMN to_claim_stated_at SET NOT NULL;

CREATE INDEX links_rebuttals_by_tag_idx ON links USING gin (to_claim_tags)
  WHERE deleted_at IS NULL AND kind = 'rebuts';
CREATE INDEX links_rebuttals_by_stated_at_idx ON links (to_claim_stated_at)
  WHERE deleted_at IS NULL AND kind = 'rebuts';
