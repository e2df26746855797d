-- The key that created each record: a `write` key may change or delete only what it created. Records made
-- before keys existed, or loaded from the command line (the example data set), have none: only an `admin` key
-- may change them. Keys are revoked, never deleted, so the reference always resolves.
ALTER TABLE parties ADD COLUMN created_by uuid REFERENCES api_keys (id);
ALTER TABLE claims ADD COLUMN created_by uuid REFERENCES api_keys (id);
ALTER TABLE links ADD COLUMN created_by uuid REFERENCES api_keys (id);
ALTER TABLE reviews ADD COLUMN created_by uuid REFERENCES api_keys (id);
