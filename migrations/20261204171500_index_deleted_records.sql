-- The list of tombstones (GET /v1/tombstones, and its exports) reads each kind of deleted record newest deleted
-- first; deleted records are few next to live ones, so these partial indexes stay small.
CREATE INDEX parties_deleted_at_idx ON parties (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX claims_deleted_at_idx ON claims (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX links_deleted_at_idx ON links (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX reviews_deleted_at_idx ON reviews (deleted_at, id) WHERE deleted_at IS NOT NULL;
