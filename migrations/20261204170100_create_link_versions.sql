-- Every version of a link as it was written, with the API key that made it and the editor's note, as claims and
-- reviews keep theirs. A version keeps what an edit can change: the note and whether the link is a prebuttal.
CREATE TABLE link_versions (
  link_id     uuid NOT NULL REFERENCES links (id),
  version     integer NOT NULL,
  snapshot    jsonb NOT NULL,
  recorded_at timestamptz(3) NOT NULL DEFAULT now(),
  recorded_by uuid REFERENCES api_keys (id),
  edit_note   text CHECK (char_length(edit_note) BETWEEN 1 AND 500),
  PRIMARY KEY (link_id, version)
);

-- Links made before this get their current version, by no key. A deleted link's is the version before its
-- deletion (deleting counts as a change), which its history shows beside the deletion.
INSERT INTO link_versions (link_id, version, snapshot, recorded_at)
SELECT l.id,
       kept.version,
       jsonb_build_object('note', l.note, 'prebuttal', l.prebuttal),
       CASE WHEN kept.version = 1 THEN l.created_at ELSE l.updated_at END
FROM links l
CROSS JOIN LATERAL (
  SELECT CASE WHEN l.deleted_at IS NULL THEN l.version ELSE greatest(l.version - 1, 1) END AS version
) kept;
