-- Who made each version of a claim or review, and why: the API key (null for versions made before this, and for
-- writes from the command line) and the note the editor gave with the change.
ALTER TABLE claim_versions
  ADD COLUMN recorded_by uuid REFERENCES api_keys (id),
  ADD COLUMN edit_note text CHECK (char_length(edit_note) BETWEEN 1 AND 500);

ALTER TABLE review_versions
  ADD COLUMN recorded_by uuid REFERENCES api_keys (id),
  ADD COLUMN edit_note text CHECK (char_length(edit_note) BETWEEN 1 AND 500);
