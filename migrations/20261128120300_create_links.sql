-- Links: a responding claim (from) answers another claim (to), rebutting or supporting it. Both claims' parties
-- are carried on the link, so the rule "different parties" is a constraint and the party-vs-party matrix needs
-- no join back to claims.
CREATE TABLE links (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  from_claim_id uuid NOT NULL REFERENCES claims (id),
  to_claim_id   uuid NOT NULL REFERENCES claims (id),
  from_party_id uuid NOT NULL REFERENCES parties (id),
  to_party_id   uuid NOT NULL REFERENCES parties (id),
  kind          text NOT NULL CHECK (kind IN ('rebuts', 'supports')),
  note          text CHECK (char_length(note) <= 2000),
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at    timestamptz(3),
  CHECK (from_claim_id <> to_claim_id),
  CHECK (from_party_id <> to_party_id)
);

CREATE UNIQUE INDEX links_pair_live_key ON links (from_claim_id, to_claim_id, kind) WHERE deleted_at IS NULL;
CREATE INDEX links_to_claim_idx ON links (to_claim_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX links_from_party_idx ON links (from_party_id, to_party_id) WHERE deleted_at IS NULL;
