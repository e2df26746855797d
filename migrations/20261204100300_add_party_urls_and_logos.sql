-- A party's home page and logo (a fact-checker's are the author of its ClaimReview documents).
ALTER TABLE parties ADD COLUMN url text CHECK (char_length(url) <= 2000);
ALTER TABLE parties ADD COLUMN logo text CHECK (char_length(logo) <= 2000);
