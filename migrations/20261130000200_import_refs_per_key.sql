-- Import refs belong to the API key that made them: each key has its own namespace, so two clients may both call
-- a record "c1" without one import updating the other's record. Refs made before keys existed, and those of
-- imports without a key, share the empty namespace ''.
ALTER TABLE import_refs ADD COLUMN namespace text NOT NULL DEFAULT '';
ALTER TABLE import_refs DROP CONSTRAINT import_refs_pkey;
ALTER TABLE import_refs ADD PRIMARY KEY (namespace, kind, ref);
