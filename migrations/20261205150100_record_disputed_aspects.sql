-- The distinct aspects of a claim's live rebuttals ('whole' for a rebuttal that names none: a flat denial), and the
-- measures its figure rebuttals name, kept with its rebuttal count in the same transaction, so that the disputes
-- list shows and filters them without reading the links of each claim. Every rebuttal so far names no aspect.
ALTER TABLE claims ADD COLUMN disputed_aspects text[] NOT NULL DEFAULT '{}';
ALTER TABLE claims ADD COLUMN disputed_measures text[] NOT NULL DEFAULT '{}';
UPDATE claims SET disputed_aspects = '{whole}' WHERE rebuttal_count > 0 AND deleted_at IS NULL;
