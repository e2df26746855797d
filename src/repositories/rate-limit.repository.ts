import { sql } from 'kysely'
import type { Db } from '../db/schema.js'

export interface WindowCount {
  /** The client's requests in the current window, those just counted included. */
  hits: number
  /** Milliseconds until the window ends. */
  resetInMs: number
}

/**
 * Counts `hits` more requests of a client, in one atomic statement: the first request of a window (or of a client)
 * inserts or restarts its row, and the others add to it. Windows are timed by the database's clock, which every
 * instance of the service shares, so they agree on when a window ends.
 */
export async function countHits(db: Db, key: string, hits: number, windowMs: number): Promise<WindowCount> {
  const { rows } = await sql<{ hits: number; reset_in_ms: number }>`
    INSERT INTO rate_limit_counters AS counter (key, hits, window_ends_at)
    VALUES (${key}, ${hits}::integer, now() + ${windowMs}::integer * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE SET
      hits = CASE WHEN counter.window_ends_at > now() THEN counter.hits + excluded.hits ELSE excluded.hits END,
      window_ends_at = CASE WHEN counter.window_ends_at > now() THEN counter.window_ends_at
                            ELSE excluded.window_ends_at END
    RETURNING hits, ceil(extract(epoch FROM window_ends_at - now()) * 1000)::integer AS reset_in_ms
  `.execute(db)
  const row = rows[0]!
  return { hits: row.hits, resetInMs: row.reset_in_ms }
}

/** Removes the counters of windows that have ended: clients that stopped sending would otherwise stay forever. */
export async function deleteEndedWindows(db: Db): Promise<number> {
  const result = await db
    .deleteFrom('rate_limit_counters')
    .where('window_ends_at', '<=', sql<Date>`now()`)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/**
 * Counts the requests of many clients in one statement, as `countHits` does for one. Rows are locked in key order,
 * so that two instances counting overlapping clients at once wait for each other instead of deadlocking.
 */
export async function countHitsOfMany(
  db: Db,
  hitsByKey: Map<string, number>,
  windowMs: number,
): Promise<Array<WindowCount & { key: string }>> {
  if (hitsByKey.size === 0) return []
  const { rows } = await sql<{ key: string; hits: number; reset_in_ms: number }>`
    INSERT INTO rate_limit_counters AS counter (key, hits, window_ends_at)
    SELECT key, hits, now() + ${windowMs}::integer * interval '1 millisecond'
    FROM unnest(${[...hitsByKey.keys()]}::text[], ${[...hitsByKey.values()]}::integer[]) AS counted (key, hits)
    ORDER BY key
    ON CONFLICT (key) DO UPDATE SET
      hits = CASE WHEN counter.window_ends_at > now() THEN counter.hits + excluded.hits ELSE excluded.hits END,
      window_ends_at = CASE WHEN counter.window_ends_at > now() THEN counter.window_ends_at
                            ELSE excluded.window_ends_at END
    RETURNING key, hits, ceil(extract(epoch FROM window_ends_at - now()) * 1000)::integer AS reset_in_ms
  `.execute(db)
  return rows.map((row) => ({ key: row.key, hits: row.hits, resetInMs: row.reset_in_ms }))
}
