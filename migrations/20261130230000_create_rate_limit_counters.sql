-- Rate-limit counters: one row per client (an API key, or an address for requests without one), counting its
-- requests in the current fixed window. Every instance of the service counts in this one table, so instances behind
-- a load balancer share each client's budget.
--
-- UNLOGGED: the counters are disposable. They are updated all the time (by every instance, several times a second,
-- and on many requests), and skipping the write-ahead log makes those updates cheap; the price is that a crash of
-- the database server empties the table (and a standby does not carry it), which only gives every client a fresh
-- window. A fill factor of 50 leaves room on each page for the updated row, so that updates stay HOT: the primary
-- key index is not touched by the counting.
CREATE UNLOGGED TABLE rate_limit_counters (
  key            text PRIMARY KEY,
  hits           integer NOT NULL CHECK (hits > 0),
  window_ends_at timestamptz NOT NULL
) WITH (fillfactor = 50);
