-- Every version of an event as it was written, with the API key that made it and the editor's note, as parties
-- keep theirs.
CREATE TABLE event_versions (
  event_id    uuid NOT NULL REFERENCES events (id),
  version     integer NOT NULL,
  snapshot    jsonb NOT NULL,
  recorded_at timestamptz(3) NOT NULL DEFAULT now(),
  recorded_by uuid REFERENCES api_keys (id),
  edit_note   text CHECK (char_length(edit_note) BETWEEN 1 AND 500),
  PRIMARY KEY (event_id, version)
);
