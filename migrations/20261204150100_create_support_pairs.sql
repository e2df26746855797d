-- Support counts per (claimant party, supporter party): the matrix of who supports whom, kept as rebuttal_pairs
-- is for rebuttals, changed by one in the same transaction as every support link made or deleted.
CREATE TABLE support_pairs (
  claimant_party_id  uuid NOT NULL REFERENCES parties (id),
  supporter_party_id uuid NOT NULL REFERENCES parties (id),
  supports           integer NOT NULL CHECK (supports >= 0),
  PRIMARY KEY (claimant_party_id, supporter_party_id)
);

CREATE INDEX support_pairs_supports_idx ON support_pairs (supports) WHERE supports > 0;

INSERT INTO support_pairs (claimant_party_id, supporter_party_id, supports)
SELECT to_party_id, from_party_id, count(*)
FROM links
WHERE kind = 'supports' AND deleted_at IS NULL
GROUP BY to_party_id, from_party_id;
