-- How many live reviews a claim has, maintained with every review change: claim reads skip the review lookup
-- for the many claims nobody has reviewed, and the verdict filters start from reviewed claims only.
ALTER TABLE claims ADD COLUMN review_count integer NOT NULL DEFAULT 0 CHECK (review_count >= 0);
