import { type Expression, type SqlBool, sql } from 'kysely'
import type { ClaimRowUpdate, Db, NewClaimRow } from '../db/schema.js'
import { sideMemberIds } from './party.repository.js'
import { nextVersion, softDeletion } from './record-version.js'

function selectClaims(db: Db) {
  return db
    .selectFrom('claims as c')
    .innerJoin('parties as p', 'p.id', 'c.party_id')
    .select([
      'c.id',
      'c.text',
      'c.quote',
      'c.stated_at',
      'c.event_at',
      'c.location_name',
      'c.location_lat',
      'c.location_lon',
      'c.language',
      'c.tags',
      'c.sources',
      'c.rebuttal_count',
      'c.support_count',
      'c.last_response_at',
      'c.version',
      'c.created_at',
      'c.updated_at',
      'p.id as party_id',
      'p.slug as party_slug',
      'p.name as party_name',
    ])
    .where('c.deleted_at', 'is', null)
}

export type ClaimRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectClaims>['executeTakeFirst']>>>

export async function findClaimById(db: Db, id: string, options: { forUpdate?: boolean } = {}) {
  let query = selectClaims(db).where('c.id', '=', id)
  if (options.forUpdate) query = query.forUpdate('c')
  return query.executeTakeFirst()
}

export type ClaimListOrder = 'stated_at' | 'created_at' | 'relevance'

export interface ClaimListQuery {
  partyId?: string
  /** Claims by this party and by the parties that speak for it, directly or through others. */
  sideId?: string
  tags?: string[]
  language?: string
  disputed?: boolean
  statedAfter?: string
  statedBefore?: string
  /** Full-text query, web search syntax. */
  text?: string
  order: ClaimListOrder
  descending: boolean
  /** The sort key and id of the last row of the previous page. */
  after?: [string | number, string]
  limit: number
}

const searchQuery = (text: string) => sql`websearch_to_tsquery('english', ${text})`

/** Live claims matching the filters, in the order asked, `limit` rows at most, each with `rank` when searching. */
export async function listClaims(db: Db, query: ClaimListQuery) {
  const direction = query.descending ? 'desc' : 'asc'
  const comparison = query.descending ? '<' : '>'
  const rank =
    query.text !== undefined ? sql<number>`ts_rank_cd(c.search, ${searchQuery(query.text)})` : sql<number>`0::real`
  let select = selectClaims(db).select(rank.as('rank')).limit(query.limit)

  if (query.partyId !== undefined) select = select.where('c.party_id', '=', query.partyId)
  if (query.sideId !== undefined) select = select.where(sql<SqlBool>`c.party_id IN ${sideMemberIds(query.sideId)}`)
  if (query.tags !== undefined && query.tags.length > 0) {
    select = select.where('c.tags', '@>', sql<string[]>`${sql.val(query.tags)}::text[]`)
  }
  if (query.language !== undefined) select = select.where(sql`lower(c.language)`, '=', query.language.toLowerCase())
  if (query.disputed !== undefined) {
    select = select.where('c.rebuttal_count', query.disputed ? '>' : '=', 0)
  }
  if (query.statedAfter !== undefined) select = select.where('c.stated_at', '>=', new Date(query.statedAfter))
  if (query.statedBefore !== undefined) select = select.where('c.stated_at', '<', new Date(query.statedBefore))
  if (query.text !== undefined) select = select.where(sql<SqlBool>`c.search @@ ${searchQuery(query.text)}`)

  const sortKey: Expression<unknown> =
    query.order === 'relevance' ? rank : query.order === 'stated_at' ? sql.ref('c.stated_at') : sql.ref('c.created_at')
  if (query.after !== undefined) {
    const [value, id] = query.after
    const typed = query.order === 'relevance' ? sql`${String(value)}::real` : sql`${value}::timestamptz`
    select = select.where(sql<SqlBool>`(${sortKey}, c.id) ${sql.raw(comparison)} (${typed}, ${id}::uuid)`)
  }
  return select.orderBy(sortKey, direction).orderBy('c.id', direction).execute()
}

export async function insertClaim(db: Db, values: NewClaimRow): Promise<string> {
  const row = await db.insertInto('claims').values(values).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function updateClaim(db: Db, id: string, values: ClaimRowUpdate): Promise<void> {
  await db
    .updateTable('claims')
    .set({ ...values, ...nextVersion() })
    .where('id', '=', id)
    .execute()
}

export async function softDeleteClaim(db: Db, id: string): Promise<void> {
  await db.updateTable('claims').set(softDeletion()).where('id', '=', id).execute()
}

export async function insertClaimVersion(db: Db, claimId: string, version: number, snapshot: unknown): Promise<void> {
  await db
    .insertInto('claim_versions')
    .values({ claim_id: claimId, version, snapshot: JSON.stringify(snapshot) })
    .execute()
}

/** Versions of a claim, newest first, below `beforeVersion` when given. */
export async function listClaimVersions(db: Db, claimId: string, limit: number, beforeVersion?: number) {
  let select = db
    .selectFrom('claim_versions')
    .select(['version', 'snapshot', 'recorded_at'])
    .where('claim_id', '=', claimId)
    .orderBy('version', 'desc')
    .limit(limit)
  if (beforeVersion !== undefined) select = select.where('version', '<', beforeVersion)
  return select.execute()
}
