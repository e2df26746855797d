-- A claim's standing, derived from the live corrections and retractions of it and maintained in the same
-- transaction as every link change: retracted when a later claim withdraws it, corrected when one corrects it,
-- current otherwise. No link of those kinds exists yet, so every claim starts current.
ALTER TABLE claims ADD COLUMN standing text NOT NULL DEFAULT 'current'
  CHECK (standing IN ('current', 'corrected', 'retracted'));

-- Lists filtered to corrected or retracted claims, newest first, read only those.
CREATE INDEX claims_restated_idx ON claims (stated_at, id) WHERE deleted_at IS NULL AND standing <> 'current';
