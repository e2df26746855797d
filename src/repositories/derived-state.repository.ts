import { sql } from 'kysely'
import type { Db, LinkTable } from '../db/schema.js'
import type { Transaction } from '../db/transaction.js'

/**
 * The SQL of the state derived from claims, links and reviews: the response and review counts, last response
 * time and standing of claims, the rebuttal matrix's pair counts, and the copies of their claims that links
 * keep. Only `src/services/derived-state.ts` calls the writers here.
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
    .select(['id', 'party_id', 'tags', 'stated_at', 'stated_at_precision'])
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .forUpdate()
    .execute()
}

/** The claims that claim `id` answers through live links: rebutting, supporting, correcting or retracting them. */
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
 * The kinds of link that answer another party's claim: a correction or retraction is not a response, nor is a
 * repeat, which says the claim again rather than answering it.
 */
const RESPONSE = sql.raw(`('rebuts', 'supports')`)

/**
 * A claim's standing from its live incoming links `l` (grouped by claim): retracted when one retracts it (whatever
 * corrects it too), corrected when one corrects it, current otherwise.
 */
const standingOf = sql.raw(`CASE WHEN bool_or(l.kind = 'retracts') THEN 'retracted'
                WHEN bool_or(l.kind = 'corrects') THEN 'corrected' ELSE 'current' END`)

/**
 * The distinct aspects of a claim's live rebuttals `l` (grouped by claim), sorted, 'whole' for those naming none;
 * and the measures of those naming a figure.
 */
const disputedAspects =
  sql.raw(`coalesce(array_agg(DISTINCT coalesce(l.aspect, 'whole') ORDER BY coalesce(l.aspect, 'whole'))
                  FILTER (WHERE l.kind = 'rebuts'), '{}')`)
const disputedMeasures = sql.raw(`coalesce(array_agg(DISTINCT l.measure ORDER BY l.measure)
                  FILTER (WHERE l.kind = 'rebuts' AND l.measure IS NOT NULL), '{}')`)

/**
 * Recounts the derived state of the given claims from their live incoming links: rebuttals (and what they dispute), supports, repeats, the
 * latest time one of the responding claims was stated, and the standing that corrections and retractions give.
 * The links alone tell: a live link joins live claims, and keeps its responding claim's stated_at
 * (copyRespondingClaim runs first when it changes). Callers hold the claims' locks. The counts are derived, not
 * edited: `version` and `updated_at` stay as they are.
 */
export async function recountResponses(trx: Transaction, ids: string[]): Promise<void> {
  if (ids.length === 0) return
  await sql`
    UPDATE claims c
    SET rebuttal_count = counted.rebuttals, support_count = counted.supports, repeat_count = counted.repeats,
        disputed_aspects = counted.aspects, disputed_measures = counted.measures,
        last_response_at = counted.latest,
        first_response_at = counted.first_response, disputed_since = counted.first_rebuttal,
        standing = counted.standing
    FROM (
      SELECT target.id,
             count(l.id) FILTER (WHERE l.kind = 'rebuts') AS rebuttals,
             count(l.id) FILTER (WHERE l.kind = 'supports') AS supports,
             count(l.id) FILTER (WHERE l.kind = 'repeats') AS repeats,
             ${disputedAspects} AS aspects,
             ${disputedMeasures} AS measures,
             max(l.from_claim_stated_at) FILTER (WHERE l.kind IN ${RESPONSE}) AS latest,
             min(l.from_claim_stated_at) FILTER (WHERE l.kind IN ${RESPONSE}) AS first_response,
             min(l.from_claim_stated_at) FILTER (WHERE l.kind = 'rebuts') AS first_rebuttal,
             ${standingOf} AS standing
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

/** The maintained pair counts of each kind of response: the table, its responder column and its count column. */
const PAIR_TABLES = {
  rebuts: { table: sql.table('rebuttal_pairs'), responder: sql.ref('rebutter_party_id'), count: sql.ref('rebuttals') },
  supports: { table: sql.table('support_pairs'), responder: sql.ref('supporter_party_id'), count: sql.ref('supports') },
} as const

/**
 * Moves the count of each (claimant, responder) pair by the rebuttal and support links made or deleted, in
 * rebuttal_pairs and support_pairs. The pairs are written in key order, so that two transactions changing the
 * same pairs lock them in the same order. Corrections and retractions are not counted.
 */
export async function countResponsePairs(trx: Transaction, changes: LinkChange[]): Promise<void> {
  for (const kind of ['rebuts', 'supports'] as const) {
    await movePairCounts(
      trx,
      PAIR_TABLES[kind],
      changes.filter((change) => change.kind === kind),
    )
  }
}

async function movePairCounts(
  trx: Transaction,
  { table, responder, count }: (typeof PAIR_TABLES)[keyof typeof PAIR_TABLES],
  changes: LinkChange[],
): Promise<void> {
  const deltas = new Map<string, { claimant: string; responder: string; delta: number }>()
  for (const change of changes) {
    const key = `${change.to_party_id}/${change.from_party_id}`
    const pair = deltas.get(key) ?? { claimant: change.to_party_id, responder: change.from_party_id, delta: 0 }
    pair.delta += change.delta
    deltas.set(key, pair)
  }
  const pairs = [...deltas.values()].filter((pair) => pair.delta !== 0)
  const unnested = (list: typeof pairs) => sql`unnest(
      ${list.map((pair) => pair.claimant)}::uuid[],
      ${list.map((pair) => pair.responder)}::uuid[],
      ${list.map((pair) => pair.delta)}::integer[]
    ) AS change (claimant, responder, delta)`
  const more = pairs.filter((pair) => pair.delta > 0)
  if (more.length > 0) {
    await sql`
      INSERT INTO ${table} AS p (claimant_party_id, ${responder}, ${count})
      SELECT claimant, responder, delta FROM ${unnested(more)}
      ORDER BY claimant, responder
      ON CONFLICT (claimant_party_id, ${responder})
      DO UPDATE SET ${count} = p.${count} + excluded.${count}`.execute(trx)
  }
  // Fewer: the pairs exist (their links did). Locked in key order first, as an UPDATE takes no order.
  const fewer = pairs.filter((pair) => pair.delta < 0)
  if (fewer.length > 0) {
    await sql`
      SELECT 1 FROM ${table} p JOIN ${unnested(fewer)}
        ON p.claimant_party_id = change.claimant AND p.${responder} = change.responder
      ORDER BY p.claimant_party_id, p.${responder}
      FOR UPDATE OF p`.execute(trx)
    await sql`
      UPDATE ${table} p SET ${count} = p.${count} + change.delta
      FROM ${unnested(fewer)}
      WHERE p.claimant_party_id = change.claimant AND p.${responder} = change.responder`.execute(trx)
  }
}

/**
 * Forgets the rebuttal and support pairs of a party being erased. It has no claims left, so no live link counts in
 * them, and they are all zero.
 */
export async function forgetResponsePairsOf(trx: Transaction, partyId: string): Promise<void> {
  for (const { table, responder, count } of Object.values(PAIR_TABLES)) {
    await sql`
      DELETE FROM ${table}
      WHERE (claimant_party_id = ${partyId} OR ${responder} = ${partyId}) AND ${count} = 0`.execute(trx)
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

/** A stored derived value that differs from a fresh count: which record, which field, and the two values. */
export interface Drift {
  record: string
  field: string
  stored: unknown
  counted: unknown
}

/**
 * Every difference between the stored derived state and a fresh count of it from the live claims, links and
 * reviews: the counts, last response time and standing of live claims, the live links that a deleted claim
 * should have taken with it, the copies that live links keep of their claims, and the matrix's rebuttal and
 * support pair counts. Read by an operator's check (after restoring a backup, say): whole-table scans, not for a request.
 */
export async function findDrift(db: Db): Promise<Drift[]> {
  const { rows: claims } = await sql<{
    id: string
    rebuttal_count: number
    rebuttals: number
    support_count: number
    supports: number
    repeat_count: number
    repeats: number
    disputed_aspects: string[]
    aspects: string[]
    disputed_measures: string[]
    measures: string[]
    last_response_at: Date | null
    latest: Date | null
    first_response_at: Date | null
    first_response: Date | null
    disputed_since: Date | null
    first_rebuttal: Date | null
    review_count: number
    reviews: number
    standing: string
    counted_standing: string
  }>`
    WITH responses AS (
      SELECT l.to_claim_id AS id,
             count(*) FILTER (WHERE l.kind = 'rebuts') AS rebuttals,
             count(*) FILTER (WHERE l.kind = 'supports') AS supports,
             count(*) FILTER (WHERE l.kind = 'repeats') AS repeats,
             ${disputedAspects} AS aspects,
             ${disputedMeasures} AS measures,
             max(f.stated_at) FILTER (WHERE l.kind IN ${RESPONSE}) AS latest,
             min(f.stated_at) FILTER (WHERE l.kind IN ${RESPONSE}) AS first_response,
             min(f.stated_at) FILTER (WHERE l.kind = 'rebuts') AS first_rebuttal,
             ${standingOf} AS standing
      FROM links l JOIN claims f ON f.id = l.from_claim_id AND f.deleted_at IS NULL
      WHERE l.deleted_at IS NULL
      GROUP BY l.to_claim_id
    ), reviewed AS (
      SELECT claim_id AS id, count(*) AS reviews FROM reviews WHERE deleted_at IS NULL GROUP BY claim_id
    )
    SELECT c.id, c.rebuttal_count, coalesce(r.rebuttals, 0)::int AS rebuttals,
           c.support_count, coalesce(r.supports, 0)::int AS supports,
           c.repeat_count, coalesce(r.repeats, 0)::int AS repeats,
           c.disputed_aspects, coalesce(r.aspects, '{}') AS aspects,
           c.disputed_measures, coalesce(r.measures, '{}') AS measures,
           c.last_response_at, r.latest, c.first_response_at, r.first_response, c.disputed_since, r.first_rebuttal,
           c.review_count, coalesce(v.reviews, 0)::int AS reviews,
           c.standing, coalesce(r.standing, 'current') AS counted_standing
    FROM claims c
    LEFT JOIN responses r ON r.id = c.id
    LEFT JOIN reviewed v ON v.id = c.id
    WHERE c.deleted_at IS NULL
      AND (c.rebuttal_count <> coalesce(r.rebuttals, 0) OR c.support_count <> coalesce(r.supports, 0)
           OR c.repeat_count <> coalesce(r.repeats, 0)
           OR c.disputed_aspects <> coalesce(r.aspects, '{}') OR c.disputed_measures <> coalesce(r.measures, '{}')
           OR c.last_response_at IS DISTINCT FROM r.latest OR c.first_response_at IS DISTINCT FROM r.first_response
           OR c.disputed_since IS DISTINCT FROM r.first_rebuttal OR c.review_count <> coalesce(v.reviews, 0)
           OR c.standing <> coalesce(r.standing, 'current'))
    ORDER BY c.id`.execute(db)
  const { rows: links } = await sql<{
    id: string
    from_claim_id: string
    from_deleted: boolean
    to_claim_id: string
    to_deleted: boolean
    to_claim_tags: string[]
    tags: string[]
    to_claim_stated_at: Date
    to_stated_at: Date
    from_claim_stated_at: Date
    from_stated_at: Date
  }>`
    SELECT l.id, l.from_claim_id, f.deleted_at IS NOT NULL AS from_deleted,
           l.to_claim_id, t.deleted_at IS NOT NULL AS to_deleted,
           l.to_claim_tags, t.tags, l.to_claim_stated_at, t.stated_at AS to_stated_at,
           l.from_claim_stated_at, f.stated_at AS from_stated_at
    FROM links l
    JOIN claims f ON f.id = l.from_claim_id
    JOIN claims t ON t.id = l.to_claim_id
    WHERE l.deleted_at IS NULL
      AND (f.deleted_at IS NOT NULL OR t.deleted_at IS NOT NULL OR l.to_claim_tags <> t.tags
           OR l.to_claim_stated_at <> t.stated_at OR l.from_claim_stated_at <> f.stated_at)
    ORDER BY l.id`.execute(db)
  const pairs: Array<{
    kind: 'rebuts' | 'supports'
    claimant: string
    responder: string
    stored: number
    counted: number
  }> = []
  for (const kind of ['rebuts', 'supports'] as const) {
    const { table, responder, count } = PAIR_TABLES[kind]
    const { rows } = await sql<{ claimant: string; responder: string; stored: number; counted: number }>`
      SELECT cp.slug AS claimant, rp.slug AS responder, pair.stored, pair.counted
      FROM (
        SELECT coalesce(kept.claimant_party_id, fresh.to_party_id) AS claimant_id,
               coalesce(kept.${responder}, fresh.from_party_id) AS responder_id,
               coalesce(kept.${count}, 0) AS stored, coalesce(fresh.responses, 0)::int AS counted
        FROM ${table} kept
        FULL JOIN (
          SELECT to_party_id, from_party_id, count(*) AS responses FROM links
          WHERE kind = ${kind} AND deleted_at IS NULL
          GROUP BY to_party_id, from_party_id
        ) fresh ON fresh.to_party_id = kept.claimant_party_id AND fresh.from_party_id = kept.${responder}
        WHERE coalesce(kept.${count}, 0) <> coalesce(fresh.responses, 0)
      ) pair
      JOIN parties cp ON cp.id = pair.claimant_id
      JOIN parties rp ON rp.id = pair.responder_id
      ORDER BY cp.slug, rp.slug`.execute(db)
    pairs.push(...rows.map((row) => ({ kind, ...row })))
  }

  const drifts: Drift[] = []
  const compare = (record: string, field: string, stored: unknown, counted: unknown) => {
    if (JSON.stringify(stored) !== JSON.stringify(counted)) drifts.push({ record, field, stored, counted })
  }
  for (const c of claims) {
    const record = `claim ${c.id}`
    compare(record, 'rebuttal_count', c.rebuttal_count, c.rebuttals)
    compare(record, 'support_count', c.support_count, c.supports)
    compare(record, 'repeat_count', c.repeat_count, c.repeats)
    compare(record, 'disputed_aspects', c.disputed_aspects, c.aspects)
    compare(record, 'disputed_measures', c.disputed_measures, c.measures)
    compare(record, 'last_response_at', c.last_response_at, c.latest)
    compare(record, 'first_response_at', c.first_response_at, c.first_response)
    compare(record, 'disputed_since', c.disputed_since, c.first_rebuttal)
    compare(record, 'review_count', c.review_count, c.reviews)
    compare(record, 'standing', c.standing, c.counted_standing)
  }
  for (const l of links) {
    const record = `link ${l.id}`
    if (l.from_deleted || l.to_deleted) {
      const gone = l.from_deleted ? l.from_claim_id : l.to_claim_id
      drifts.push({ record, field: 'deleted_at', stored: null, counted: `deleted with claim ${gone}` })
      continue
    }
    compare(record, 'to_claim_tags', l.to_claim_tags, l.tags)
    compare(record, 'to_claim_stated_at', l.to_claim_stated_at, l.to_stated_at)
    compare(record, 'from_claim_stated_at', l.from_claim_stated_at, l.from_stated_at)
  }
  for (const p of pairs) {
    const [record, field] = p.kind === 'rebuts' ? ['rebuttal', 'rebuttals'] : ['support', 'supports']
    compare(`${record} pair ${p.claimant} > ${p.responder}`, field, p.stored, p.counted)
  }
  return drifts
}
