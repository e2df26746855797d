-- Events: the incidents that claims are about (a strike, a shelling, a toll), with a time span known to a
-- precision, as a claim's times are. Deletes are soft, so a slug is unique only among events that are not deleted.
CREATE TABLE events (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
  name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 300),
  starts_at           timestamptz(3) NOT NULL,
  starts_at_precision text NOT NULL
    CHECK (starts_at_precision IN ('year', 'month', 'day', 'hour', 'minute', 'second')),
  ends_at             timestamptz(3),
  ends_at_precision   text CHECK (ends_at_precision IN ('year', 'month', 'day', 'hour', 'minute', 'second')),
  location_name       text CHECK (char_length(location_name) BETWEEN 1 AND 300),
  location_lat        double precision CHECK (location_lat BETWEEN -90 AND 90),
  location_lon        double precision CHECK (location_lon BETWEEN -180 AND 180),
  tags                text[] NOT NULL DEFAULT '{}',
  description         text CHECK (char_length(description) <= 5000),
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz(3) NOT NULL DEFAULT now(),
  updated_at          timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at          timestamptz(3),
  created_by          uuid REFERENCES api_keys (id),
  deleted_by          uuid REFERENCES api_keys (id),
  CHECK ((ends_at IS NULL) = (ends_at_precision IS NULL)),
  CHECK (ends_at >= starts_at),
  CHECK ((location_lat IS NULL) = (location_lon IS NULL)),
  CHECK (location_name IS NOT NULL OR location_lat IS NULL)
);

CREATE UNIQUE INDEX events_slug_live_key ON events (slug) WHERE deleted_at IS NULL;
-- The list reads the latest incidents first.
CREATE INDEX events_starts_at_idx ON events (starts_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX events_deleted_at_idx ON events (deleted_at, id) WHERE deleted_at IS NOT NULL;
