-- Import lines may name events by ref, as they name parties, claims, links and reviews.
ALTER TABLE import_refs DROP CONSTRAINT import_refs_kind_check;
ALTER TABLE import_refs ADD CONSTRAINT import_refs_kind_check
  CHECK (kind IN ('party', 'event', 'claim', 'link', 'review'));
