import { sql } from 'kysely'
import type { Db } from '../db/schema.js'
import { isUuid } from '../schemas/common.schema.js'

/**
 * Deleted records, as their tombstones tell of them: what names each, its version at deletion, and when and by
 * which API key it was deleted. A live record has no tombstone; an erased one has nothing at all.
 */

/** What every tombstone row holds, whatever the kind of record. */
export interface DeletionRow {
  id: string
  version: number
  deleted_at: Date
  deleted_by_id: string | null
  deleted_by_name: string | null
}

export interface ClaimTombstoneRow extends DeletionRow {
  text: string
  party_id: string
  party_slug: string
  party_name: string
}

/** The deleted claims among `ids`. */
export async function findDeletedClaims(db: Db, ids: string[]): Promise<ClaimTombstoneRow[]> {
  const wanted = ids.filter(isUuid).map((id) => id.toLowerCase())
  if (wanted.length === 0) return []
  const { rows } = await sql<ClaimTombstoneRow>`
    SELECT c.id, c.version, c.deleted_at, k.id AS deleted_by_id, k.name AS deleted_by_name,
           c.text, p.id AS party_id, p.slug AS party_slug, p.name AS party_name
    FROM claims c
    JOIN parties p ON p.id = c.party_id
    LEFT JOIN api_keys k ON k.id = c.deleted_by
    WHERE c.id = ANY(${wanted}::uuid[]) AND c.deleted_at IS NOT NULL`.execute(db)
  return rows
}

export interface PartyTombstoneRow extends DeletionRow {
  slug: string
  name: string
}

/**
 * The deleted party with this id, or, by slug, the one deleted last with it, when no live party has it: a
 * slug freed by a deletion may be taken again, and then names the live party.
 */
export async function findDeletedParty(db: Db, key: string): Promise<PartyTombstoneRow | undefined> {
  const { rows } = await sql<PartyTombstoneRow>`
    SELECT p.id, p.version, p.deleted_at, k.id AS deleted_by_id, k.name AS deleted_by_name, p.slug, p.name
    FROM parties p
    LEFT JOIN api_keys k ON k.id = p.deleted_by
    WHERE p.${sql.ref(isUuid(key) ? 'id' : 'slug')} = ${key.toLowerCase()} AND p.deleted_at IS NOT NULL
      AND (${isUuid(key)} OR NOT EXISTS (SELECT 1 FROM parties live WHERE live.slug = p.slug AND live.deleted_at IS NULL))
    ORDER BY p.deleted_at DESC, p.id
    LIMIT 1`.execute(db)
  return rows[0]
}

export interface ReviewTombstoneRow extends DeletionRow {
  claim_id: string
  reviewer_id: string
  reviewer_slug: string
  reviewer_name: string
}

/** The review with this id when it, or the claim it reviews, was deleted. */
export async function findDeletedReview(db: Db, id: string): Promise<ReviewTombstoneRow | undefined> {
  if (!isUuid(id)) return undefined
  const { rows } = await sql<ReviewTombstoneRow>`
    SELECT r.id, r.version,
           CASE WHEN r.deleted_at IS NULL THEN c.deleted_at ELSE r.deleted_at END AS deleted_at,
           k.id AS deleted_by_id, k.name AS deleted_by_name,
           r.claim_id, p.id AS reviewer_id, p.slug AS reviewer_slug, p.name AS reviewer_name
    FROM reviews r
    JOIN claims c ON c.id = r.claim_id
    JOIN parties p ON p.id = r.reviewer_party_id
    LEFT JOIN api_keys k ON k.id = CASE WHEN r.deleted_at IS NULL THEN c.deleted_by ELSE r.deleted_by END
    WHERE r.id = ${id.toLowerCase()} AND (r.deleted_at IS NOT NULL OR c.deleted_at IS NOT NULL)`.execute(db)
  return rows[0]
}

export interface LinkTombstoneRow extends DeletionRow {
  kind: string
  from_claim_id: string
  to_claim_id: string
  from_party_slug: string
  to_party_slug: string
}

/** The deleted link with this id. */
export async function findDeletedLink(db: Db, id: string): Promise<LinkTombstoneRow | undefined> {
  if (!isUuid(id)) return undefined
  const { rows } = await sql<LinkTombstoneRow>`
    SELECT l.id, l.version, l.deleted_at, k.id AS deleted_by_id, k.name AS deleted_by_name,
           l.kind, l.from_claim_id, l.to_claim_id, fp.slug AS from_party_slug, tp.slug AS to_party_slug
    FROM links l
    JOIN parties fp ON fp.id = l.from_party_id
    JOIN parties tp ON tp.id = l.to_party_id
    LEFT JOIN api_keys k ON k.id = l.deleted_by
    WHERE l.id = ${id.toLowerCase()} AND l.deleted_at IS NOT NULL`.execute(db)
  return rows[0]
}
