-- Every version of a review as it was written, so a revised verdict leaves the earlier one readable.
CREATE TABLE review_versions (
  review_id   uuid NOT NULL REFERENCES reviews (id),
  version     integer NOT NULL,
  snapshot    jsonb NOT NULL,
  recorded_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (review_id, version)
);
