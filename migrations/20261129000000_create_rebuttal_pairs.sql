-- Rebuttal counts per (claimant party, rebutter party): the matrix of who rebuts whom. Counting the links for it
-- at each request reads every rebuttal (a tenth of a second at 300,000 links); this table holds the counts,
-- changed by one in the same transaction as every rebuttal link made or deleted.
CREATE TABLE rebuttal_pairs (
  claimant_party_id uuid NOT NULL REFERENCES parties (id),
  rebutter_party_id uuid NOT NULL REFERENCES parties (id),
  rebuttals         integer NOT NULL CHECK (rebuttals >= 0),
  PRIMARY KEY (claimant_party_id, rebutter_party_id)
);

CREATE INDEX rebuttal_pairs_rebuttals_idx ON rebuttal_pairs (rebuttals) WHERE rebuttals > 0;

INSERT INTO rebuttal_pairs (claimant_party_id, rebutter_party_id, rebuttals)
SELECT to_party_id, from_party_id, count(*)
FROM links
WHERE kind = 'rebuts' AND deleted_at IS NULL
GROUP BY to_party_id, from_party_id;
