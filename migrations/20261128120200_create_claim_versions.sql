-- Every version of a claim as it was written, so earlier wordings can be read back after a PATCH.
CREATE TABLE claim_versions (
  claim_id    uuid NOT NULL REFERENCES claims (id),
  version     integer NOT NULL,
  snapshot    jsonb NOT NULL,
  recorded_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (claim_id, version)
);
