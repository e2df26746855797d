import { sql } from 'kysely'
import type { LinkTable } from '../db/schema.js'
import type { Transaction } from '../db/transaction.js'
import { isUuid } from '../schemas/common.schema.js'

/**
 * The SQL of erasure: records removed for good (a legal takedown), live or deleted, with their versions and what
 * exists only for them. Callers hold the locks and move the derived state (derived-state.ts) themselves.
 */

/** A claim, live or deleted, locked until the transaction ends; undefined when there is none. */
export async function lockAnyClaim(trx: Transaction, id: string) {
  if (!isUuid(id)) return undefined
  return trx
    .selectFrom('claims')
    .select(['id', 'deleted_at'])
    .where('id', '=', id.toLowerCase())
    .forUpdate()
    .executeTakeFirst()
}

/** A party, live or deleted, by id or slug (a live one first), locked until the transaction ends. */
export async function lockAnyParty(trx: Transaction, key: string) {
  return trx
    .selectFrom('parties')
    .select(['id', 'slug', 'deleted_at'])
    .where(isUuid(key) ? 'id' : 'slug', '=', key.toLowerCase())
    .orderBy(sql`deleted_at IS NULL`, 'desc')
    .orderBy('deleted_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst()
}

/** A review, live or deleted, with its claim; `forUpdate` locks the review until the transaction ends. */
export async function findAnyReview(trx: Transaction, id: string, options: { forUpdate?: boolean } = {}) {
  if (!isUuid(id)) return undefined
  let query = trx.selectFrom('reviews').select(['id', 'claim_id', 'deleted_at']).where('id', '=', id.toLowerCase())
  if (options.forUpdate) query = query.forUpdate()
  return query.executeTakeFirst()
}

/** What still names a party, live or deleted: its claims, its reviews and the parties that speak for it. */
export async function countPartyRecords(trx: Transaction, id: string) {
  const { rows } = await sql<{ claims: number; reviews: number; parties: number }>`
    SELECT (SELECT count(*) FROM claims WHERE party_id = ${id})::int AS claims,
           (SELECT count(*) FROM reviews WHERE reviewer_party_id = ${id})::int AS reviews,
           (SELECT count(*) FROM parties WHERE side_id = ${id})::int AS parties`.execute(trx)
  return rows[0] ?? { claims: 0, reviews: 0, parties: 0 }
}

/** A link removed by an erasure, and whether it was live (and so counted). */
export interface ErasedLink {
  id: string
  kind: LinkTable['kind']
  from_party_id: string
  to_party_id: string
  to_claim_id: string
  live: boolean
}

/** A review removed by an erasure, and whether it was live (and so counted). */
export interface ErasedReview {
  id: string
  claim_id: string
  live: boolean
}

/** Removes reviews (`claimId`: all of one claim's; else the one `reviewId`) with their versions. */
export async function eraseReviews(
  trx: Transaction,
  which: { claimId: string } | { reviewId: string },
): Promise<{ reviews: ErasedReview[]; versions: number }> {
  const condition = 'claimId' in which ? sql`claim_id = ${which.claimId}` : sql`id = ${which.reviewId}`
  const versions = await sql`
    DELETE FROM review_versions WHERE review_id IN (SELECT id FROM reviews WHERE ${condition})`.execute(trx)
  const { rows } = await sql<ErasedReview>`
    DELETE FROM reviews WHERE ${condition}
    RETURNING id, claim_id, deleted_at IS NULL AS live`.execute(trx)
  return { reviews: rows, versions: Number(versions.numAffectedRows ?? 0) }
}

/** Removes every link from or to a claim, live or deleted, with their versions. */
export async function eraseLinksOfClaim(
  trx: Transaction,
  claimId: string,
): Promise<{ links: ErasedLink[]; versions: number }> {
  const condition = sql`from_claim_id = ${claimId} OR to_claim_id = ${claimId}`
  const versions = await sql`
    DELETE FROM link_versions WHERE link_id IN (SELECT id FROM links WHERE ${condition})`.execute(trx)
  const { rows } = await sql<ErasedLink>`
    DELETE FROM links WHERE ${condition}
    RETURNING id, kind, from_party_id, to_party_id, to_claim_id, deleted_at IS NULL AS live`.execute(trx)
  return { links: rows, versions: Number(versions.numAffectedRows ?? 0) }
}

/** Removes a claim and its versions; the caller has removed its links and reviews. Returns the versions removed. */
export async function eraseClaimRow(trx: Transaction, id: string): Promise<number> {
  const versions = await sql`DELETE FROM claim_versions WHERE claim_id = ${id}`.execute(trx)
  await sql`DELETE FROM claims WHERE id = ${id}`.execute(trx)
  return Number(versions.numAffectedRows ?? 0)
}

/**
 * Removes a party and its versions; the caller has checked that nothing names it. The earlier versions of parties
 * that once spoke for it name no side instead, so that nothing keeps its name. Returns the versions removed.
 */
export async function erasePartyRow(trx: Transaction, id: string): Promise<number> {
  const versions = await sql`DELETE FROM party_versions WHERE party_id = ${id}`.execute(trx)
  await sql`
    UPDATE party_versions SET snapshot = jsonb_set(snapshot, '{side}', 'null'::jsonb)
    WHERE snapshot -> 'side' ->> 'id' = ${id}`.execute(trx)
  // Claims it relayed, and their versions, no longer name it.
  await sql`UPDATE claims SET relayed_by = array_remove(relayed_by, ${id}::uuid) WHERE relayed_by @> ARRAY[${id}::uuid]`.execute(
    trx,
  )
  await sql`
    UPDATE claim_versions
    SET snapshot = jsonb_set(snapshot, '{relayed_by}', (
      SELECT coalesce(jsonb_agg(relay), '[]'::jsonb) FROM jsonb_array_elements(snapshot -> 'relayed_by') relay
      WHERE relay ->> 'id' <> ${id}
    ))
    WHERE snapshot -> 'relayed_by' @> jsonb_build_array(jsonb_build_object('id', ${id}::text))`.execute(trx)
  await sql`DELETE FROM parties WHERE id = ${id}`.execute(trx)
  return Number(versions.numAffectedRows ?? 0)
}

/** Removes the import refs that named any of these records: a later import of the same ref records it anew. */
export async function eraseImportRefs(trx: Transaction, recordIds: string[]): Promise<number> {
  if (recordIds.length === 0) return 0
  const result = await sql`DELETE FROM import_refs WHERE record_id = ANY(${recordIds}::uuid[])`.execute(trx)
  return Number(result.numAffectedRows ?? 0)
}

/**
 * Forgets the stored answers of idempotent requests that name any of these records (in their body or Location):
 * a retry with the same key is then told that its request was applied, without the answer, as for an answer that
 * held a secret. Kept answers expire within a day; this table is small.
 */
export async function forgetStoredAnswers(trx: Transaction, recordIds: string[]): Promise<number> {
  if (recordIds.length === 0) return 0
  const result = await sql`
    UPDATE idempotency_records r SET response_body = NULL
    WHERE r.state = 'completed' AND r.response_body IS NOT NULL AND EXISTS (
      SELECT 1 FROM unnest(${recordIds}::text[]) AS erased (id)
      WHERE position(convert_to(erased.id, 'UTF8') IN r.response_body) > 0
         OR strpos(coalesce(r.response_headers ->> 'location', ''), erased.id) > 0
    )`.execute(trx)
  return Number(result.numAffectedRows ?? 0)
}
