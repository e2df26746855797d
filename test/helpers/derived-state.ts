import { type Kysely, sql } from 'kysely'

/**
 * Live claims whose stored derived state (rebuttal and support counts, last response time) differs from a count
 * made afresh from the live links, and live links that touch a deleted claim. Both lists are empty when the
 * maintained state is right.
 */
export async function derivedStateErrors(db: Kysely<any>) {
  const { rows: claims } = await sql<{ id: string }>`
    SELECT c.id FROM claims c
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE l.kind = 'rebuts') AS rebuttals,
             count(*) FILTER (WHERE l.kind = 'supports') AS supports,
             max(r.stated_at) AS latest
      FROM links l JOIN claims r ON r.id = l.from_claim_id AND r.deleted_at IS NULL
      WHERE l.to_claim_id = c.id AND l.deleted_at IS NULL
    ) fresh ON true
    WHERE c.deleted_at IS NULL AND (
      c.rebuttal_count <> fresh.rebuttals OR c.support_count <> fresh.supports
      OR c.last_response_at IS DISTINCT FROM fresh.latest
    )`.execute(db)
  const { rows: links } = await sql<{ id: string }>`
    SELECT l.id FROM links l
    JOIN claims f ON f.id = l.from_claim_id
    JOIN claims t ON t.id = l.to_claim_id
    WHERE l.deleted_at IS NULL AND (f.deleted_at IS NOT NULL OR t.deleted_at IS NOT NULL)`.execute(db)
  return { claims: claims.map((row) => row.id), links: links.map((row) => row.id) }
}
