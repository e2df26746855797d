-- The key that deleted each record, for the tombstone a deleted record answers with (410 Gone). Records deleted
-- before this, or from the command line, have none. Keys are revoked, never deleted, so the reference resolves.
ALTER TABLE parties ADD COLUMN deleted_by uuid REFERENCES api_keys (id);
ALTER TABLE claims ADD COLUMN deleted_by uuid REFERENCES api_keys (id);
ALTER TABLE links ADD COLUMN deleted_by uuid REFERENCES api_keys (id);
ALTER TABLE reviews ADD COLUMN deleted_by uuid REFERENCES api_keys (id);
