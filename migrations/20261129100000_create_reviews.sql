-- Reviews: a fact-checker's published verdict on a claim. The rating is kept as published (label, and a value on
-- the publisher's own scale between worst and best) and as one of a few normalised verdicts, so that verdicts of
-- different publishers can be filtered together.
CREATE TABLE reviews (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  claim_id          uuid NOT NULL REFERENCES claims (id),
  reviewer_party_id uuid NOT NULL REFERENCES parties (id),
  verdict           text NOT NULL
                    CHECK (verdict IN ('false', 'mostly-false', 'mixed', 'mostly-true', 'true', 'unproven')),
  rating_label      text NOT NULL CHECK (char_length(rating_label) BETWEEN 1 AND 200),
  rating_value      double precision,
  best_rating       double precision,
  worst_rating      double precision,
  url               text CHECK (char_length(url) <= 2000),
  summary           text CHECK (char_length(summary) <= 5000),
  published_at      timestamptz(3) NOT NULL,
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  updated_at        timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at        timestamptz(3),
  -- A numeric rating means something only on its scale: the three come together, on a scale of some width.
  CHECK ((rating_value IS NULL) = (best_rating IS NULL) AND (best_rating IS NULL) = (worst_rating IS NULL)),
  CHECK (best_rating <> worst_rating),
  CHECK (rating_value BETWEEN least(best_rating, worst_rating) AND greatest(best_rating, worst_rating))
);

-- One live review of a claim per fact-checker: a revised verdict is an edit of it, with history.
CREATE UNIQUE INDEX reviews_claim_reviewer_live_key ON reviews (claim_id, reviewer_party_id) WHERE deleted_at IS NULL;
-- The claim lists' filters: claims reviewed by a party, claims given a verdict.
CREATE INDEX reviews_reviewer_idx ON reviews (reviewer_party_id, claim_id) WHERE deleted_at IS NULL;
CREATE INDEX reviews_verdict_idx ON reviews (verdict, claim_id) WHERE deleted_at IS NULL;
