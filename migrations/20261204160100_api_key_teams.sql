-- Keys belong to a team (a desk): a write key may change or delete what a key of its own team created.
ALTER TABLE api_keys
  ADD COLUMN team text CHECK (char_length(team) <= 100 AND team ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
