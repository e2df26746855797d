-- Who relayed a claim ("NYT: Palestinians say…"): the parties that reported what the claimant said, in the order
-- given, kept apart from the claimant so that a relay is not taken for a claim of the outlet's own. A short list:
-- several outlets often relay one statement. Parties are never deleted for good but by erasure, which removes them here.
ALTER TABLE claims ADD COLUMN relayed_by uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(relayed_by) <= 10);

-- GET /v1/claims?relayed_by=… and /v1/disputes?relayed_by=…: the claims one party relayed.
CREATE INDEX claims_relayed_by_idx ON claims USING gin (relayed_by) WHERE deleted_at IS NULL;
