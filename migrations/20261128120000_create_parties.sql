-- Parties: who speaks. A party may speak for another (its "side"): the Azerbaijani Defence Ministry's side is
-- the state of Azerbaijan. Deletes are soft, so a slug is unique only among parties that are not deleted.
CREATE TABLE parties (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 300),
  kind        text NOT NULL CHECK (kind IN ('state', 'government', 'military', 'official', 'media',
                                            'organisation', 'fact-checker', 'person', 'other')),
  country     text CHECK (country ~ '^[A-Z]{2}$'),
  side_id     uuid REFERENCES parties (id) CHECK (side_id <> id),
  wikidata    text CHECK (wikidata ~ '^Q[1-9][0-9]*$'),
  description text CHECK (char_length(description) <= 5000),
  version     integer NOT NULL DEFAULT 1,
  -- Millisecond precision matches what JSON clients can express, so keyset cursors round-trip exactly.
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at  timestamptz(3)
);

CREATE UNIQUE INDEX parties_slug_live_key ON parties (slug) WHERE deleted_at IS NULL;
CREATE INDEX parties_side_id_idx ON parties (side_id) WHERE deleted_at IS NULL;
