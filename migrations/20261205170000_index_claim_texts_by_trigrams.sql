-- Near-duplicate claims are found by trigram similarity (pg_trgm, a trusted extension since PostgreSQL 13, so the
-- service's own role may create it). A GiST index answers "the most similar texts first" by walking the index in
-- order of distance, which a GIN index cannot.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX claims_text_trgm_idx ON claims USING gist (text gist_trgm_ops(siglen = 256)) WHERE deleted_at IS NULL;
