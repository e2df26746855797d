import { sql } from 'kysely'
import type { Db } from '../db/schema.js'
import { isUuid } from '../schemas/common.schema.js'
import { TOMBSTONE_KINDS, type TombstoneKind } from '../schemas/tombstone.schema.js'

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
  return findDeletedBySlugOrId(db, 'parties', key)
}

/** The deleted event with this id, or by slug as findDeletedParty finds a party. */
export async function findDeletedEvent(db: Db, key: string): Promise<PartyTombstoneRow | undefined> {
  return findDeletedBySlugOrId(db, 'events', key)
}

async function findDeletedBySlugOrId(db: Db, table: 'parties' | 'events', key: string) {
  const { rows } = await sql<PartyTombstoneRow>`
    SELECT p.id, p.version, p.deleted_at, k.id AS deleted_by_id, k.name AS deleted_by_name, p.slug, p.name
    FROM ${sql.table(table)} p
    LEFT JOIN api_keys k ON k.id = p.deleted_by
    WHERE p.${sql.ref(isUuid(key) ? 'id' : 'slug')} = ${key.toLowerCase()} AND p.deleted_at IS NOT NULL
      AND (${isUuid(key)} OR NOT EXISTS (
        SELECT 1 FROM ${sql.table(table)} live WHERE live.slug = p.slug AND live.deleted_at IS NULL
      ))
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

/**
 * A row of the list of every tombstone: what every deleted record has, and what names it, by kind (null where
 * the kind has none). `party_*` is a claim's party, a review's reviewer, or the deleted party or event itself.
 */
export interface ListedTombstoneRow extends DeletionRow {
  kind: TombstoneKind
  text: string | null
  party_id: string | null
  party_slug: string | null
  party_name: string | null
  claim_id: string | null
  link_kind: string | null
  from_claim_id: string | null
  to_claim_id: string | null
  from_party_slug: string | null
  to_party_slug: string | null
}

export interface TombstoneFilter {
  kind?: TombstoneKind
  /** Deleted at or after this instant. */
  deletedAfter?: string
  /** Deleted before this instant. */
  deletedBefore?: string
}

export interface TombstoneListQuery extends TombstoneFilter {
  /** The deleted_at and id of the last row of the previous page (of the first, `backward`). */
  after?: [string, string]
  /** The records before `after` instead, nearest first: the page before. */
  backward?: boolean
  limit: number
}

function tombstoneConditions(filter: TombstoneFilter) {
  const conditions = [sql`t.deleted_at IS NOT NULL`]
  if (filter.deletedAfter !== undefined) conditions.push(sql`t.deleted_at >= ${filter.deletedAfter}::timestamptz`)
  if (filter.deletedBefore !== undefined) conditions.push(sql`t.deleted_at < ${filter.deletedBefore}::timestamptz`)
  return conditions
}

/** The deleted records matching the filters, of every kind (or one), for a count. */
export function matchingTombstones(filter: TombstoneFilter) {
  const where = sql.join(tombstoneConditions(filter), sql` AND `)
  const kinds = filter.kind === undefined ? TOMBSTONE_KINDS : [filter.kind]
  const branches = kinds.map(
    (kind) => sql`SELECT t.id FROM ${sql.raw(TOMBSTONE_BRANCHES[kind].table)} t WHERE ${where}`,
  )
  return sql`(${sql.join(branches, sql` UNION ALL `)})`
}

/**
 * The deleted records of each kind, as one list's branches: the same columns, each read newest deleted first
 * through its kind's index of deleted records.
 */
const TOMBSTONE_BRANCHES: Record<TombstoneKind, { table: string; columns: string; joins: string }> = {
  party: {
    table: 'parties',
    columns: `NULL::text AS text, t.id AS party_id, t.slug AS party_slug, t.name AS party_name, NULL::uuid AS claim_id,
              NULL::text AS link_kind, NULL::uuid AS from_claim_id, NULL::uuid AS to_claim_id,
              NULL::text AS from_party_slug, NULL::text AS to_party_slug`,
    joins: '',
  },
  event: {
    table: 'events',
    columns: `NULL::text AS text, t.id AS party_id, t.slug AS party_slug, t.name AS party_name, NULL::uuid AS claim_id,
              NULL::text AS link_kind, NULL::uuid AS from_claim_id, NULL::uuid AS to_claim_id,
              NULL::text AS from_party_slug, NULL::text AS to_party_slug`,
    joins: '',
  },
  claim: {
    table: 'claims',
    columns: `t.text, p.id AS party_id, p.slug AS party_slug, p.name AS party_name, NULL::uuid AS claim_id,
              NULL::text AS link_kind, NULL::uuid AS from_claim_id, NULL::uuid AS to_claim_id,
              NULL::text AS from_party_slug, NULL::text AS to_party_slug`,
    joins: 'JOIN parties p ON p.id = t.party_id',
  },
  review: {
    table: 'reviews',
    columns: `NULL::text AS text, p.id AS party_id, p.slug AS party_slug, p.name AS party_name, t.claim_id,
              NULL::text AS link_kind, NULL::uuid AS from_claim_id, NULL::uuid AS to_claim_id,
              NULL::text AS from_party_slug, NULL::text AS to_party_slug`,
    joins: 'JOIN parties p ON p.id = t.reviewer_party_id',
  },
  link: {
    table: 'links',
    columns: `NULL::text AS text, NULL::uuid AS party_id, NULL::text AS party_slug, NULL::text AS party_name,
              NULL::uuid AS claim_id, t.kind AS link_kind, t.from_claim_id, t.to_claim_id,
              fp.slug AS from_party_slug, tp.slug AS to_party_slug`,
    joins: 'JOIN parties fp ON fp.id = t.from_party_id JOIN parties tp ON tp.id = t.to_party_id',
  },
}

/**
 * Deleted records of every kind (or one), newest deleted first (backward: those before `after`, nearest first),
 * `limit` rows at most.
 */
export async function listTombstones(db: Db, query: TombstoneListQuery): Promise<ListedTombstoneRow[]> {
  const conditions = tombstoneConditions(query)
  if (query.after !== undefined) {
    const [deletedAt, id] = query.after
    const comparison = sql.raw(query.backward ? '>' : '<')
    conditions.push(sql`(t.deleted_at, t.id) ${comparison} (${deletedAt}::timestamptz, ${id}::uuid)`)
  }
  const direction = sql.raw(query.backward ? 'ASC' : 'DESC')
  const where = sql.join(conditions, sql` AND `)
  const kinds = query.kind === undefined ? TOMBSTONE_KINDS : [query.kind]
  const branches = kinds.map((kind) => {
    const { table, columns, joins } = TOMBSTONE_BRANCHES[kind]
    return sql`(SELECT ${kind}::text AS kind, t.id, t.version, t.deleted_at, t.deleted_by, ${sql.raw(columns)}
      FROM ${sql.raw(table)} t ${sql.raw(joins)}
      WHERE ${where}
      ORDER BY t.deleted_at ${direction}, t.id ${direction}
      LIMIT ${query.limit})`
  })
  const { rows } = await sql<ListedTombstoneRow>`
    SELECT d.*, k.id AS deleted_by_id, k.name AS deleted_by_name
    FROM (${sql.join(branches, sql` UNION ALL `)}) d
    LEFT JOIN api_keys k ON k.id = d.deleted_by
    ORDER BY d.deleted_at ${direction}, d.id ${direction}
    LIMIT ${query.limit}`.execute(db)
  return rows
}
