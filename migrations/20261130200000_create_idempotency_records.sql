-- Idempotency records: what became of a POST sent with an Idempotency-Key, so that a retry of the same request
-- gets the first answer again instead of running a second time. A record belongs to the API key that sent the
-- request: two keys may use the same Idempotency-Key without meeting. Every instance of the service claims and
-- reads keys in this one table, so a retry that a load balancer sends to another instance is recognised too.
--
-- Logged, unlike the rate-limit counters: a record lost in a crash of the database server would let a retry of
-- a write that did commit run again.
CREATE TABLE idempotency_records (
  api_key_id       uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  idempotency_key  text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
  -- SHA-256 of the method, the route with its parameters, the query and the body: a retry must match it.
  fingerprint      bytea NOT NULL CHECK (octet_length(fingerprint) = 32),
  -- The request that holds the record; a retry that takes over an abandoned record writes its own.
  attempt_id       uuid NOT NULL,
  state            text NOT NULL CHECK (state IN ('in-progress', 'completed')),
  -- While in progress: the request renews this as it runs. A record still in progress after it was abandoned
  -- by a process that died, and a retry of the same request may take it over.
  locked_until     timestamptz NOT NULL,
  -- Once completed: the answer to replay. A body that was not kept (an answer holding a secret shown only once)
  -- is NULL; problems (4xx) are kept like successes, server errors never (their record is deleted instead).
  response_status  smallint CHECK (response_status BETWEEN 200 AND 499),
  response_headers jsonb,
  response_body    bytea,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  PRIMARY KEY (api_key_id, idempotency_key),
  CHECK ((state = 'completed') = (response_status IS NOT NULL AND response_headers IS NOT NULL))
);

-- For deleting expired records a range at a time, without reading the whole table.
CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);
