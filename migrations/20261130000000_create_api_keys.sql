-- API keys: who may write. The token itself is never stored, only its SHA-256: tokens are 256 random bits, so a
-- fast hash cannot be searched backwards, and a lookup by hash stays one index probe per request. The first
-- characters of the token (`prefix`) are kept to tell keys apart in a list without revealing them.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  prefix       text NOT NULL,
  secret_hash  bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
  scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write', 'admin']),
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  -- Updated at most once a minute per key, so that an active key does not write a row on every request.
  last_used_at timestamptz(3),
  revoked_at   timestamptz(3)
);
