import { sql } from 'kysely'
import type { Db, LinkTable } from '../db/schema.js'
import type { Transaction } from '../db/transaction.js'

/**
 * The SQL of the state derived from claims, links and reviews: the response and review counts and last response
 * time on claims, the rebuttal matrix's pair counts, and the copies of their claims that links keep. Only
 * `src/services/derived-state.ts` calls the writers here.
 */

/**
 * Locks the live claims among `ids` until the transaction ends, in id order (so that two writers locking
 * overlapping sets cannot deadlock), and returns them with their party. Every write that changes which links
 * answer a claim holds that claim's lock while it recounts them: counts are never computed from a stale snapshot.
 */
export async function lockClaims(trx: Transaction, ids: string[]) {
  if (ids.length === 0) return []
  return trx
    .selectFrom('claims')
    .select(['id', 'party_id', 'tags', 'stated_at'])
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .forUpdate()
    .execute()
}

/** The claims that claim `id` answers through live links, rebutting or supporting them. */
export async function answeredClaimIds(db: Db, id: string): Promise<string[]> {
  const rows = await db
    .selectFrom('links')
    .select('to_claim_id')
    .distinct()
    .where('from_claim_id', '=', id)
    .where('deleted_at', 'is', null)
    .execute()
  return rows.map((row) => row.to_claim_id)
}

/**
 * Recounts the derived state of the given claims from their live incoming links: rebuttals, supports, and the
 * latest time one of the responding claims was stated. The links alone tell: a live link joins live claims, and
 * keeps its responding claim's stated_at (copyRespondingClaim runs first when it changes). Callers hold the
 * claims' locks. The counts are derived, not edited: `version` and `updated_at` stay as they are.
 */
export async function recountResponses(trx: Transaction, ids: string[]): Promise<void> {
  if (ids.length === 0) return
  await sql`
    UPDATE claims c
    SET rebuttal_count = counted.rebuttals, support_count = counted.supports, last_response_at = counted.latest
    FROM (
      SELECT target.id,
             count(l.id) FILTER (WHERE l.kind = 'rebuts') AS rebuttals,
             count(l.id) FILTER (WHERE l.kind = 'supports') AS supports,
             max(l.from_claim_stated_at) AS latest
      FROM unnest(${ids}::uuid[]) AS target (id)
      LEFT JOIN links l ON l.to_claim_id = target.id AND l.deleted_at IS NULL
      GROUP BY target.id
    ) counted
    WHERE c.id = counted.id`.execute(trx)
}

/**
 * Recounts the live reviews of claims into `claims.review_count`. The callers hold the claims' locks, so two
 * reviews of one claim are counted one after the other. Derived, like the response counts: `version` stays.
 */
export async function recountReviews(trx: Transaction, claimIds: string[]): Promise<void> {
  if (claimIds.length === 0) return
  await sql`
    UPDATE claims c
    SET review_count = (SELECT count(*) FROM reviews r WHERE r.claim_id = c.id AND r.deleted_at IS NULL)
    WHERE c.id = ANY(${claimIds}::uuid[])`.execute(trx)
}

/**
 * Links made (+1) or deleted (-1), as the rebuttal matrix counts them; or the sum of many such for one kind and
 * pair of parties, which moves the count alike.
 */
export interface LinkChange {
  kind: LinkTable['kind']
  from_party_id: string
  to_party_id: string
  delta: number
}

/**
 * Moves the rebuttal count of each (claimant, rebutter) pair by the rebuttal links made or deleted. The pairs
 * are written in key order, so that two transactions changing the same pairs lock them in the same order.
 */
export async function countRebuttalPairs(trx: Transaction, changes: LinkChange[]): Promise<void> {
  const deltas = new Map<string, { claimant: string; rebutter: string; delta: number }>()
  for (const change of changes) {
    if (change.kind !== 'rebuts') continue
    const key = `${change.to_party_id}/${change.from_party_id}`
    const pair = deltas.get(key) ?? { claimant: change.to_party_id, rebutter: change.from_party_id, delta: 0 }
    pair.delta += change.delta
    deltas.set(key, pair)
  }
  const pairs = [...deltas.values()].filter((pair) => pair.delta !== 0)
  const unnested = (list: typeof pairs) => sql`unnest(
      ${list.map((pair) => pair.claimant)}::uuid[],
      ${list.map((pair) => pair.rebutter)}::uuid[],
      ${list.map((pair) => pair.delta)}::integer[]
    ) AS change (claimant, rebutter, delta)`
  const more = pairs.filter((pair) => pair.delta > 0)
  if (more.length > 0) {
    await sql`
      INSERT INTO rebuttal_pairs (claimant_party_id, rebutter_party_id, rebuttals)
      SELECT claimant, rebutter, delta FROM ${unnested(more)}
      ORDER BY claimant, rebutter
      ON CONFLICT (claimant_party_id, rebutter_party_id)
      DO UPDATE SET rebuttals = rebuttal_pairs.rebuttals + excluded.rebuttals`.execute(trx)
  }
  // Fewer: the pairs exist (their links did). Locked in key order first, as an UPDATE takes no order.
  const fewer = pairs.filter((pair) => pair.delta < 0)
  if (fewer.length > 0) {
    await sql`
      SELECT 1 FROM rebuttal_pairs p JOIN ${unnested(fewer)}
        ON p.claimant_party_id = change.claimant AND p.rebutter_party_id = change.rebutter
      ORDER BY p.claimant_party_id, p.rebutter_party_id
      FOR UPDATE OF p`.execute(trx)
    await sql`
      UPDATE rebuttal_pairs p SET rebuttals = p.rebuttals + change.delta
      FROM ${unnested(fewer)}
      WHERE p.claimant_party_id = change.claimant AND p.rebutter_party_id = change.rebutter`.execute(trx)
  }
}

/** What every link keeps of the claim it answers. */
export interface AnsweredClaimCopy {
  tags: string[]
  stated_at: Date | string
}

/** The copies a new link keeps of its two claims, as columns of its row. */
export function linkCopies(toClaim: AnsweredClaimCopy, fromClaimStatedAt: Date | string) {
  return {
    to_claim_tags: toClaim.tags,
    to_claim_stated_at: toClaim.stated_at,
    from_claim_stated_at: fromClaimStatedAt,
  }
}

/** Brings the copy of a claim that its live answering links keep up to date with an edit of the claim. */
export async function copyAnsweredClaim(trx: Transaction, claimId: string, copy: AnsweredClaimCopy): Promise<void> {
  await trx
    .updateTable('links')
    .set({ to_claim_tags: copy.tags, to_claim_stated_at: copy.stated_at })
    .where('to_claim_id', '=', claimId)
    .where('deleted_at', 'is', null)
    .execute()
}

/** Brings the copy of a claim's stated_at that its live links to other claims keep up to date with an edit. */
export async function copyRespondingClaim(trx: Transaction, claimId: string, statedAt: Date | string): Promise<void> {
  await trx
    .updateTable('links')
    .set({ from_claim_stated_at: statedAt })
    .where('from_claim_id', '=', claimId)
    .where('deleted_at', 'is', null)
    .execute()
}
