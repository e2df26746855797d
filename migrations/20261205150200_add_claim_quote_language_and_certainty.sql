-- The language of a claim's verbatim quote, when it differs from the text's (an Arabic quote of an English text);
-- null means the quote is in the claim's language. And how firmly the claim was asserted, as said ("it appears",
-- "high confidence"); null means it was not recorded.
ALTER TABLE claims
  ADD COLUMN quote_language text CHECK (quote_language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
  ADD COLUMN certainty text CHECK (certainty IN ('asserted', 'hedged', 'speculative')),
  ADD CONSTRAINT claims_quote_language_needs_quote CHECK (quote_language IS NULL OR quote IS NOT NULL);
