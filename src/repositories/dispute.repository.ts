import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely'
import type { Db, LinkAspect, TimePrecision } from '../db/schema.js'
import { type ClaimFilter, type ClaimListQuery, matchingClaims, orderedClaims } from './claim.repository.js'

export type DisputeOrder = Extract<
  ClaimListQuery['order'],
  'last_response_at' | 'disputed_since' | 'rebuttal_count' | 'stated_at'
>

/**
 * The disputes query: live claims that at least one live claim of another party rebuts, in the order asked.
 * Each order walks its own partial index of disputed claims (see the dispute indexes migration) and stops after
 * one page; the rebuttal count and last response time are maintained on the claim, never counted here.
 */
export async function listDisputedClaims(
  db: Db,
  query: Omit<ClaimListQuery, 'disputed' | 'order'> & { order: DisputeOrder },
) {
  return orderedClaims(db, { ...query, disputed: true })
    .limit(query.limit)
    .execute()
}

/** The disputed claims matching the filters, in no order: what the list's `count` counts. */
export function matchingDisputedClaims(db: Db, filter: Omit<ClaimFilter, 'disputed'>) {
  return matchingClaims(db, { ...filter, disputed: true })
}

/**
 * Up to `query.limit` rows of the disputes query, each with its latest `perClaim` rebuttals as JSON
 * (`latest_rebuttals`), read in the same statement claim by claim through the same index: an export's chunk. A page
 * asks for them in a query of their own after its rows (`latestRebuttals`), which for a thousand claims at once
 * is planned far worse than this.
 */
export async function disputedClaimsWithRebuttals(
  db: Db,
  query: Omit<ClaimListQuery, 'disputed' | 'order'> & { order: DisputeOrder },
  perClaim: number,
) {
  return orderedClaims(db, { ...query, disputed: true })
    .select(
      sql<LatestRebuttalJson[]>`(
        SELECT coalesce(json_agg(latest ORDER BY latest.from_claim_stated_at DESC, latest.from_claim_id DESC), '[]')
        FROM (${latestRebuttalsOf(sql`c.id`, perClaim)}) latest
      )`.as('latest_rebuttals'),
    )
    .limit(query.limit)
    .execute()
}

interface LatestRebuttalRow {
  link_id: string
  note: string | null
  aspect: LinkAspect | null
  measure: string | null
  id: string
  text: string
  stated_at: Date
  stated_at_precision: TimePrecision
  party_id: string
  party_slug: string
  party_name: string
}

/** A latest rebuttal as JSON gives it: `stated_at` in PostgreSQL's own text form. */
export type LatestRebuttalJson = Omit<LatestRebuttalRow, 'stated_at'> & { stated_at: string }

/**
 * The latest `perClaim` rebuttals of the claim whose id is `claimId`, with their claims and parties: the first
 * entries of the index of its rebuttals by when they were stated (links_latest_rebuttals_idx).
 */
function latestRebuttalsOf(claimId: RawBuilder<unknown>, perClaim: number) {
  return sql`
    SELECT latest.link_id, latest.note, latest.aspect, latest.measure, rc.id, rc.text, rc.stated_at, rc.stated_at_precision,
           rp.id AS party_id, rp.slug AS party_slug, rp.name AS party_name,
           latest.from_claim_stated_at, latest.from_claim_id
    FROM (
      SELECT l.id AS link_id, l.note, l.aspect, l.measure, l.from_claim_id, l.from_claim_stated_at
      FROM links l
      WHERE l.to_claim_id = ${claimId} AND l.kind = 'rebuts' AND l.deleted_at IS NULL
      ORDER BY l.from_claim_stated_at DESC, l.from_claim_id DESC
      LIMIT ${perClaim}
    ) latest
    JOIN claims rc ON rc.id = latest.from_claim_id AND rc.deleted_at IS NULL
    JOIN parties rp ON rp.id = rc.party_id`
}

/** The latest `perClaim` rebuttals of each claim, latest stated first. */
export async function latestRebuttals(db: Db, claimIds: string[], perClaim: number) {
  if (claimIds.length === 0) return []
  const { rows } = await sql<LatestRebuttalRow & { rebutted_id: string }>`
    SELECT target.id AS rebutted_id, latest.link_id, latest.note, latest.aspect, latest.measure, latest.id, latest.text, latest.stated_at,
           latest.stated_at_precision, latest.party_id, latest.party_slug, latest.party_name
    FROM unnest(${claimIds}::uuid[]) AS target (id)
    CROSS JOIN LATERAL (${latestRebuttalsOf(sql`target.id`, perClaim)}) latest
    ORDER BY latest.from_claim_stated_at DESC, latest.from_claim_id DESC`.execute(db)
  return rows
}

export interface MatrixQuery extends Pick<ClaimFilter, 'tags' | 'statedAfter' | 'statedBefore'> {
  /** Count between the parties themselves, or between the sides they speak for. */
  by: 'party' | 'side'
  /** Which links are counted. */
  kind: 'rebuts' | 'supports'
  limit: number
}

/**
 * Who rebuts (or supports) whom: live rebuttal (or support) links counted per (claimant, responder), or per the sides they roll up to,
 * largest counts first, `limit` rows at most. Over everything, the counts are the maintained ones of
 * `rebuttal_pairs` (or `support_pairs`); filtered by what the rebutted claim is about or when it was stated, the matching rebuttal
 * links are counted, found through their indexes on the copies they keep of the rebutted claim.
 */
export async function rebuttalMatrix(db: Db, query: MatrixQuery) {
  // On the copies of the rebutted claim's tags and stated_at that each link keeps.
  const conditions: Expression<SqlBool>[] = []
  if (query.tags !== undefined && query.tags.length > 0) {
    conditions.push(sql<SqlBool>`l.to_claim_tags @> ${sql.val(query.tags)}::text[]`)
  }
  if (query.statedAfter !== undefined) {
    conditions.push(sql<SqlBool>`l.to_claim_stated_at >= ${new Date(query.statedAfter)}`)
  }
  if (query.statedBefore !== undefined) {
    conditions.push(sql<SqlBool>`l.to_claim_stated_at < ${new Date(query.statedBefore)}`)
  }
  // Over everything, the maintained counts; the columns keep the rebuttal names for either kind.
  const kept =
    query.kind === 'rebuts'
      ? sql`
    SELECT claimant_party_id AS claimant_id, rebutter_party_id AS rebutter_id, rebuttals
    FROM rebuttal_pairs WHERE rebuttals > 0`
      : sql`
    SELECT claimant_party_id AS claimant_id, supporter_party_id AS rebutter_id, supports AS rebuttals
    FROM support_pairs WHERE supports > 0`
  const pairs =
    conditions.length === 0
      ? kept
      : sql`
    SELECT l.to_party_id AS claimant_id, l.from_party_id AS rebutter_id, count(*) AS rebuttals
    FROM links l
    WHERE l.kind = ${query.kind} AND l.deleted_at IS NULL AND ${sql.join(conditions, sql` AND `)}
    GROUP BY l.to_party_id, l.from_party_id`
  // Rolled up by side: every party counts for the party at the end of its side chain (sides form no cycles).
  const grouped =
    query.by === 'party'
      ? pairs
      : sql`
    WITH RECURSIVE side_of (party_id, side_id) AS (
      SELECT id, id FROM parties WHERE side_id IS NULL
      UNION ALL
      SELECT p.id, s.side_id FROM parties p JOIN side_of s ON p.side_id = s.party_id
    ), pairs AS (${pairs})
    SELECT cs.side_id AS claimant_id, rs.side_id AS rebutter_id, sum(pairs.rebuttals) AS rebuttals
    FROM pairs
    JOIN side_of cs ON cs.party_id = pairs.claimant_id
    JOIN side_of rs ON rs.party_id = pairs.rebutter_id
    GROUP BY cs.side_id, rs.side_id`
  const { rows } = await sql<{
    rebuttals: string
    claimant_id: string
    claimant_slug: string
    claimant_name: string
    rebutter_id: string
    rebutter_slug: string
    rebutter_name: string
  }>`
    SELECT counted.rebuttals,
           cp.id AS claimant_id, cp.slug AS claimant_slug, cp.name AS claimant_name,
           rp.id AS rebutter_id, rp.slug AS rebutter_slug, rp.name AS rebutter_name
    FROM (${grouped}) counted
    JOIN parties cp ON cp.id = counted.claimant_id
    JOIN parties rp ON rp.id = counted.rebutter_id
    ORDER BY counted.rebuttals DESC, cp.slug, rp.slug
    LIMIT ${query.limit}`.execute(db)
  return rows
}
