-- The caller-chosen names (refs) that import lines give their records, per kind of record: a later line, or a
-- later import, names the same record by them, so that importing a file again updates instead of duplicating.
CREATE TABLE import_refs (
  kind       text NOT NULL CHECK (kind IN ('party', 'claim', 'link', 'review')),
  ref        text NOT NULL CHECK (char_length(ref) BETWEEN 1 AND 200),
  record_id  uuid NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, ref)
);
