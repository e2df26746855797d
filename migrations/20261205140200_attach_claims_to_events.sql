-- The event a claim is about, if any. The partial index serves `?event=` on the claim and dispute lists, an
-- event's claim counts, and the check that refuses deleting an event live claims still name.
ALTER TABLE claims ADD COLUMN event_id uuid REFERENCES events (id);
CREATE INDEX claims_event_id_idx ON claims (event_id, stated_at DESC, id DESC)
  WHERE event_id IS NOT NULL AND deleted_at IS NULL;
