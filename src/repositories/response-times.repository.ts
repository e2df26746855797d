import { sql } from 'kysely'
import type { Db } from '../db/schema.js'

/**
 * A party's response times, as seconds; the percentiles null where there is nothing to measure. Whole seconds as
 * float8, not int: a delay between claims centuries apart does not fit 32 bits, and pg reads int8 as a string.
 */
export interface ResponseTimesRow {
  party_id: string
  party_slug: string
  party_name: string
  answering_count: number
  answering_median: number | null
  answering_p90: number | null
  answered_count: number
  answered_median: number | null
  answered_p90: number | null
  claims: number
  unanswered: number
}

const seconds = (interval: ReturnType<typeof sql>) => sql`extract(epoch FROM ${interval})`

/**
 * Response times of one party (`partyId`) or of every live party that made or answered a claim: how fast it
 * answers others (for each claim of another party it rebutted or supported, its first response's stated_at less
 * the claim's, from the links alone: they keep both times), and how fast it is answered (its claims' maintained
 * first_response_at less their stated_at). Fastest answering first.
 */
export async function responseTimes(db: Db, partyId?: string): Promise<ResponseTimesRow[]> {
  const ofParty = (column: string) => (partyId === undefined ? sql`true` : sql`${sql.ref(column)} = ${partyId}`)
  const { rows } = await sql<ResponseTimesRow>`
    WITH first_responses AS (
      SELECT l.from_party_id AS party_id, min(l.from_claim_stated_at) - min(l.to_claim_stated_at) AS delay
      FROM links l
      WHERE l.deleted_at IS NULL AND l.kind IN ('rebuts', 'supports') AND ${ofParty('l.from_party_id')}
      GROUP BY l.from_party_id, l.to_claim_id
    ), answering AS (
      SELECT party_id, count(*)::int AS n,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ${seconds(sql`delay`)}) AS median,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY ${seconds(sql`delay`)}) AS p90
      FROM first_responses GROUP BY party_id
    ), answered AS (
      SELECT c.party_id, count(*)::int AS claims,
             count(*) FILTER (WHERE c.first_response_at IS NOT NULL)::int AS n,
             count(*) FILTER (WHERE c.rebuttal_count = 0 AND c.support_count = 0)::int AS unanswered,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ${seconds(sql`c.first_response_at - c.stated_at`)})
               FILTER (WHERE c.first_response_at IS NOT NULL) AS median,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY ${seconds(sql`c.first_response_at - c.stated_at`)})
               FILTER (WHERE c.first_response_at IS NOT NULL) AS p90
      FROM claims c
      WHERE c.deleted_at IS NULL AND ${ofParty('c.party_id')}
      GROUP BY c.party_id
    )
    SELECT p.id AS party_id, p.slug AS party_slug, p.name AS party_name,
           coalesce(ing.n, 0) AS answering_count, round(ing.median)::float8 AS answering_median,
           round(ing.p90)::float8 AS answering_p90,
           coalesce(ed.n, 0) AS answered_count, round(ed.median)::float8 AS answered_median,
           round(ed.p90)::float8 AS answered_p90,
           coalesce(ed.claims, 0) AS claims, coalesce(ed.unanswered, 0) AS unanswered
    FROM parties p
    LEFT JOIN answering ing ON ing.party_id = p.id
    LEFT JOIN answered ed ON ed.party_id = p.id
    WHERE p.deleted_at IS NULL AND ${ofParty('p.id')} AND (ing.party_id IS NOT NULL OR ed.party_id IS NOT NULL
      OR ${partyId === undefined ? sql`false` : sql`true`})
    ORDER BY ing.median ASC NULLS LAST, p.slug`.execute(db)
  return rows
}
