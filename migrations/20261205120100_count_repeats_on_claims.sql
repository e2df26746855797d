-- The live repeats of a claim, counted apart from its supports so that echoes do not inflate them; kept in the same
-- transaction as every repeat made or deleted, as rebuttal_count and support_count are. No link repeats yet: 0.
ALTER TABLE claims ADD COLUMN repeat_count integer NOT NULL DEFAULT 0 CHECK (repeat_count >= 0);
