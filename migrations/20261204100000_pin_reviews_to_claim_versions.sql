-- A review rates the claim as it read when the fact-checker rated it: the claim version it rated, one of the
-- versions the claim keeps. Editing the claim later leaves the review pinned to the words it rated. Reviews made
-- before this are taken to rate the claim's latest recorded version.
ALTER TABLE reviews ADD COLUMN claim_version integer;

UPDATE reviews r
SET claim_version = (
  SELECT max(cv.version) FROM claim_versions cv
  JOIN claims c ON c.id = cv.claim_id
  WHERE cv.claim_id = r.claim_id AND cv.version <= c.version
);

ALTER TABLE reviews ALTER COLUMN claim_version SET NOT NULL;
ALTER TABLE reviews
  ADD CONSTRAINT reviews_claim_version_fkey
  FOREIGN KEY (claim_id, claim_version) REFERENCES claim_versions (claim_id, version);

-- A review's versions keep the claim version it rated, as they keep everything else an edit can change.
UPDATE review_versions rv
SET snapshot = rv.snapshot || jsonb_build_object('claim_version', r.claim_version)
FROM reviews r
WHERE r.id = rv.review_id;
