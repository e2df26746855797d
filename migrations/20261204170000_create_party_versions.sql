-- Every version of a party as it was written, with the API key that made it and the editor's note, as claims and
-- reviews keep theirs. A version keeps what an edit can change; `side` as it was named then.
CREATE TABLE party_versions (
  party_id    uuid NOT NULL REFERENCES parties (id),
  version     integer NOT NULL,
  snapshot    jsonb NOT NULL,
  recorded_at timestamptz(3) NOT NULL DEFAULT now(),
  recorded_by uuid REFERENCES api_keys (id),
  edit_note   text CHECK (char_length(edit_note) BETWEEN 1 AND 500),
  PRIMARY KEY (party_id, version)
);

-- Parties made before this get their current version, by no key. A deleted party's is the version before its
-- deletion (deleting counts as a change), which its history shows beside the deletion.
INSERT INTO party_versions (party_id, version, snapshot, recorded_at)
SELECT p.id,
       kept.version,
       jsonb_build_object(
         'slug', p.slug, 'name', p.name, 'kind', p.kind, 'country', p.country,
         'side', CASE WHEN s.id IS NULL THEN NULL ELSE jsonb_build_object('id', s.id, 'slug', s.slug, 'name', s.name) END,
         'wikidata', p.wikidata, 'description', p.description, 'url', p.url, 'logo', p.logo
       ),
       CASE WHEN kept.version = 1 THEN p.created_at ELSE p.updated_at END
FROM parties p
LEFT JOIN parties s ON s.id = p.side_id
CROSS JOIN LATERAL (
  SELECT CASE WHEN p.deleted_at IS NULL THEN p.version ELSE greatest(p.version - 1, 1) END AS version
) kept;
