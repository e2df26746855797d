-- The list of every review, latest published first (GET /v1/reviews, and its exports), read in that order.
CREATE INDEX reviews_published_at_idx ON reviews (published_at, id) WHERE deleted_at IS NULL;
