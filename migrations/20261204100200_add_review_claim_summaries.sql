-- A short restatement of the rated claim, for the ClaimReview's claimReviewed when the claim's own words are long.
ALTER TABLE reviews ADD COLUMN claim_summary text CHECK (char_length(claim_summary) BETWEEN 1 AND 150);
UPDATE review_versions SET snapshot = snapshot || '{"claim_summary": null}'::jsonb;
