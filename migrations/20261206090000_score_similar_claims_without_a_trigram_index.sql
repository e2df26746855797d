-- /similar scores a bounded set of claims, the nearest in time from the stated_at indexes, rather than walking a
-- trigram index: at a million claims of a sentence or more, the GiST index could rule out almost nothing and was
-- read whole (seconds per request), while every insert and text edit paid to maintain it. pg_trgm stays for its
-- similarity function.
DROP INDEX IF EXISTS claims_text_trgm_idx;
