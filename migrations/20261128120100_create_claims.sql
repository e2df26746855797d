-- Claims: what a party asserted, with the appearances where it was reported (sources, a JSON array: they are
-- read and written with their claim, and versioned with it).
CREATE TABLE claims (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  party_id         uuid NOT NULL REFERENCES parties (id),
  text             text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 5000),
  quote            text CHECK (char_length(quote) <= 10000),
  stated_at        timestamptz(3) NOT NULL,
  event_at         timestamptz(3),
  location_name    text CHECK (char_length(location_name) BETWEEN 1 AND 300),
  location_lat     double precision CHECK (location_lat BETWEEN -90 AND 90),
  location_lon     double precision CHECK (location_lon BETWEEN -180 AND 180),
  language         text NOT NULL DEFAULT 'en' CHECK (language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
  tags             text[] NOT NULL DEFAULT '{}',
  sources          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
  -- One text-search configuration for every language: queries and documents are stemmed the same way, and
  -- words outside English are still indexed as lower-cased tokens.
  search           tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector('english', text), 'A') ||
                     setweight(to_tsvector('english', coalesce(quote, '')), 'B')
                   ) STORED,
  -- Derived from the links that answer this claim; maintained in the same transaction as every link change.
  rebuttal_count   integer NOT NULL DEFAULT 0 CHECK (rebuttal_count >= 0),
  support_count    integer NOT NULL DEFAULT 0 CHECK (support_count >= 0),
  last_response_at timestamptz(3),
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  updated_at       timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at       timestamptz(3),
  CHECK ((location_lat IS NULL) = (location_lon IS NULL)),
  CHECK (location_lat IS NULL OR location_name IS NOT NULL)
);

-- Keyset pagination for each sort of the claim list, over live claims only.
CREATE INDEX claims_stated_at_idx ON claims (stated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX claims_created_at_idx ON claims (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX claims_party_stated_at_idx ON claims (party_id, stated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX claims_tags_idx ON claims USING gin (tags) WHERE deleted_at IS NULL;
CREATE INDEX claims_search_idx ON claims USING gin (search) WHERE deleted_at IS NULL;
-- The disputes page: disputed claims ordered by their latest response.
CREATE INDEX claims_disputed_idx ON claims (last_response_at, id)
  WHERE deleted_at IS NULL AND rebuttal_count > 0;
