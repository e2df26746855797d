-- Full-text search stems each claim in its own language where PostgreSQL 15 has a configuration for it (by the
-- primary subtag of its BCP 47 tag), and the quote in its own; any other language is read by `simple`: lower-cased
-- words, no stemming, no stop words. The list is the one place both the stored vectors and the queries read.
CREATE FUNCTION claim_search_subtags() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['ar', 'ca', 'da', 'de', 'el', 'en', 'es', 'eu', 'fi', 'fr', 'ga', 'hi', 'hu', 'hy', 'id', 'it', 'lt', 'nb', 'ne',
             'nl', 'nn', 'no', 'pt', 'ro', 'ru', 'sr', 'sv', 'ta', 'tr', 'yi'];

-- The configuration of each subtag above, at the same position.
CREATE FUNCTION claim_search_configs() RETURNS regconfig[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['pg_catalog.arabic', 'pg_catalog.catalan', 'pg_catalog.danish', 'pg_catalog.german', 'pg_catalog.greek',
             'pg_catalog.english', 'pg_catalog.spanish', 'pg_catalog.basque', 'pg_catalog.finnish', 'pg_catalog.french',
             'pg_catalog.irish', 'pg_catalog.hindi', 'pg_catalog.hungarian', 'pg_catalog.armenian',
             'pg_catalog.indonesian', 'pg_catalog.italian', 'pg_catalog.lithuanian', 'pg_catalog.norwegian',
             'pg_catalog.nepali', 'pg_catalog.dutch', 'pg_catalog.norwegian', 'pg_catalog.norwegian',
             'pg_catalog.portuguese', 'pg_catalog.romanian', 'pg_catalog.russian', 'pg_catalog.serbian',
             'pg_catalog.swedish', 'pg_catalog.tamil', 'pg_catalog.turkish', 'pg_catalog.yiddish']::regconfig[];

-- A plain expression, which the planner inlines: cheap enough to run on every row a query rechecks.
CREATE FUNCTION claim_search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(
  (claim_search_configs())[array_position(claim_search_subtags(), lower(split_part(language, '-', 1)))],
  'pg_catalog.simple'::regconfig
);

-- A web-search query as every configuration of the list (and `simple`) reads it, ORed, identical readings once: a
-- claim matches when the reading of its own language does, and the GIN index still answers the whole query.
CREATE FUNCTION claim_search_query(query text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
  SELECT coalesce(string_agg(DISTINCT '(' || q::text || ')', ' | '), '')::tsquery
  FROM unnest(claim_search_configs() || 'pg_catalog.simple'::regconfig) c (config),
       websearch_to_tsquery(c.config, query) q
  WHERE numnode(q) > 0
);

ALTER TABLE claims DROP COLUMN search;
ALTER TABLE claims ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector(claim_search_config(language), text), 'A') ||
  setweight(to_tsvector(claim_search_config(coalesce(quote_language, language)), coalesce(quote, '')), 'B')
) STORED;
CREATE INDEX claims_search_idx ON claims USING gin (search) WHERE deleted_at IS NULL;
