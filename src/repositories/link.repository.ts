import { type Expression, type SqlBool, sql } from 'kysely'
import type { Db, LinkAspect, LinkTable, TimePrecision } from '../db/schema.js'
import { type AnsweredClaimCopy, linkCopies } from './derived-state.repository.js'
import { type DeletionStamp, softDeletion } from './record-version.js'

export type LinkKind = LinkTable['kind']

function selectLinks(db: Db) {
  return db
    .selectFrom('links as l')
    .innerJoin('parties as fp', 'fp.id', 'l.from_party_id')
    .innerJoin('parties as tp', 'tp.id', 'l.to_party_id')
    .select([
      'l.id',
      'l.kind',
      'l.from_claim_id',
      'l.to_claim_id',
      'l.note',
      'l.prebuttal',
      'l.aspect',
      'l.measure',
      'l.from_claim_stated_at',
      'l.to_claim_stated_at',
      'l.version',
      'l.created_at',
      'l.created_by',
      'l.updated_at',
      'fp.id as from_party_id',
      'fp.slug as from_party_slug',
      'fp.name as from_party_name',
      'tp.id as to_party_id',
      'tp.slug as to_party_slug',
      'tp.name as to_party_name',
    ])
    .where('l.deleted_at', 'is', null)
}

export type LinkRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectLinks>['executeTakeFirst']>>>

export async function findLinkById(db: Db, id: string, options: { forUpdate?: boolean } = {}) {
  let query = selectLinks(db).where('l.id', '=', id)
  if (options.forUpdate) query = query.forUpdate('l')
  return query.executeTakeFirst()
}

/** The live link from one claim to another, if there is one: there can be only one, of either kind. */
export async function findLinkBetween(db: Db, fromClaimId: string, toClaimId: string) {
  return db
    .selectFrom('links')
    .select(['id', 'kind'])
    .where('from_claim_id', '=', fromClaimId)
    .where('to_claim_id', '=', toClaimId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst()
}

export interface NewLink {
  fromClaimId: string
  toClaimId: string
  fromPartyId: string
  toPartyId: string
  kind: LinkKind
  note: string | null
  prebuttal: boolean
  /** The part of the answered claim it answers, and for a figure its measure; null for the whole claim. */
  aspect: LinkAspect | null
  measure: string | null
  /** The answered claim, as its links keep a copy of it. */
  toClaim: AnsweredClaimCopy
  /** When the responding claim was stated, as its links keep a copy of it. */
  fromClaimStatedAt: Date | string
  /** The API key making the link; null from the command line. */
  createdBy: string | null
}

/** A new link's row: its ends, their parties, and the copies it keeps of its two claims. */
function linkRow(link: NewLink) {
  return {
    from_claim_id: link.fromClaimId,
    to_claim_id: link.toClaimId,
    from_party_id: link.fromPartyId,
    to_party_id: link.toPartyId,
    kind: link.kind,
    note: link.note,
    prebuttal: link.prebuttal,
    aspect: link.aspect,
    measure: link.measure,
    ...linkCopies(link.toClaim, link.fromClaimStatedAt),
    created_by: link.createdBy,
  }
}

/** Inserts a link; returns what the database set on it. */
export async function insertLink(db: Db, link: NewLink) {
  return db
    .insertInto('links')
    .values(linkRow(link))
    .returning(['id', 'version', 'created_at', 'updated_at', 'from_claim_stated_at', 'to_claim_stated_at'])
    .executeTakeFirstOrThrow()
}

/**
 * Deletes every live link from or to a claim (a deleted claim neither answers nor is answered), and returns
 * what they joined, for the counts that follow them.
 */
export async function softDeleteLinksOfClaim(db: Db, claimId: string, stamp: DeletionStamp) {
  return db
    .updateTable('links')
    .set(softDeletion(stamp))
    .where((eb) => eb.or([eb('from_claim_id', '=', claimId), eb('to_claim_id', '=', claimId)]))
    .where('deleted_at', 'is', null)
    .returning(['kind', 'from_party_id', 'to_party_id', 'to_claim_id'])
    .execute()
}

export interface LinkFilter {
  /** Links from or to this claim. */
  claimId?: string
  /** Links whose responding or answered claim is this party's. */
  partyId?: string
  kind?: LinkKind
}

export interface LinkListQuery extends LinkFilter {
  /** The created_at and id of the last row of the previous page (of the first, `backward`). */
  after?: [string, string]
  /** The links before `after` instead, nearest first: the page before. */
  backward?: boolean
  limit: number
}

function linkFilter(filter: LinkFilter): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = []
  if (filter.claimId !== undefined) {
    conditions.push(sql<SqlBool>`(l.from_claim_id = ${filter.claimId} OR l.to_claim_id = ${filter.claimId})`)
  }
  if (filter.partyId !== undefined) {
    conditions.push(sql<SqlBool>`(l.from_party_id = ${filter.partyId} OR l.to_party_id = ${filter.partyId})`)
  }
  if (filter.kind !== undefined) conditions.push(sql<SqlBool>`l.kind = ${filter.kind}`)
  return conditions
}

/** The ids of the live links matching the filters, for a count. */
export function matchingLinks(db: Db, filter: LinkFilter) {
  return db
    .selectFrom('links as l')
    .select('l.id')
    .where(sql<SqlBool>`${sql.join([sql`l.deleted_at IS NULL`, ...linkFilter(filter)], sql` AND `)}`)
}

/** Live links matching the filters, newest first (backward: before `after`, nearest first), `limit` rows at most. */
export async function listLinks(db: Db, query: LinkListQuery) {
  const conditions = linkFilter(query)
  if (query.after !== undefined) {
    const [createdAt, id] = query.after
    const comparison = sql.raw(query.backward ? '>' : '<')
    conditions.push(sql<SqlBool>`(l.created_at, l.id) ${comparison} (${createdAt}::timestamptz, ${id}::uuid)`)
  }
  const direction = query.backward ? 'asc' : 'desc'
  let select = selectLinks(db).orderBy('l.created_at', direction).orderBy('l.id', direction).limit(query.limit)
  if (conditions.length > 0) select = select.where(sql<SqlBool>`${sql.join(conditions, sql` AND `)}`)
  return select.execute()
}

/** Inserts many links in one statement; each comes with its id, made by the caller. */
export async function insertLinks(db: Db, rows: Array<NewLink & { id: string }>): Promise<void> {
  if (rows.length === 0) return
  await db
    .insertInto('links')
    .values(rows.map((link) => ({ id: link.id, ...linkRow(link) })))
    .execute()
}

/** The live links between each given pair of claims (from one to the other), in one query. */
export async function findLiveLinksBetween(db: Db, pairs: Array<{ fromClaimId: string; toClaimId: string }>) {
  if (pairs.length === 0) return []
  const { rows } = await sql<{ id: string; kind: LinkKind; from_claim_id: string; to_claim_id: string }>`
    SELECT l.id, l.kind, l.from_claim_id, l.to_claim_id
    FROM unnest(${pairs.map((pair) => pair.fromClaimId)}::uuid[], ${pairs.map((pair) => pair.toClaimId)}::uuid[])
      AS pair (from_claim_id, to_claim_id)
    JOIN links l ON l.from_claim_id = pair.from_claim_id AND l.to_claim_id = pair.to_claim_id
    WHERE l.deleted_at IS NULL`.execute(db)
  return rows
}

/** When a claim was stated, and how finely that is known. */
export interface StatedTime {
  id: string
  stated_at: Date
  stated_at_precision: TimePrecision
}

/**
 * The live links from or to a claim that are not prebuttals, each with when its two claims were stated: the links
 * a change of the claim's time could put out of order.
 */
export async function nonPrebuttalLinksOfClaim(db: Db, claimId: string) {
  const { rows } = await sql<{
    id: string
    from_id: string
    from_stated_at: Date
    from_precision: TimePrecision
    to_id: string
    to_stated_at: Date
    to_precision: TimePrecision
  }>`
    SELECT l.id, f.id AS from_id, f.stated_at AS from_stated_at, f.stated_at_precision AS from_precision,
           t.id AS to_id, t.stated_at AS to_stated_at, t.stated_at_precision AS to_precision
    FROM links l
    JOIN claims f ON f.id = l.from_claim_id
    JOIN claims t ON t.id = l.to_claim_id
    WHERE (l.from_claim_id = ${claimId} OR l.to_claim_id = ${claimId}) AND l.deleted_at IS NULL AND NOT l.prebuttal`.execute(
    db,
  )
  return rows.map((row) => ({
    id: row.id,
    from: { id: row.from_id, stated_at: row.from_stated_at, stated_at_precision: row.from_precision },
    to: { id: row.to_id, stated_at: row.to_stated_at, stated_at_precision: row.to_precision },
  }))
}

/** When two claims were stated, by id. */
export async function statedTimes(db: Db, ids: string[]): Promise<StatedTime[]> {
  if (ids.length === 0) return []
  return db.selectFrom('claims').select(['id', 'stated_at', 'stated_at_precision']).where('id', 'in', ids).execute()
}

/** The live corrections and retractions of or by a claim, with both claims' times as they now are. */
export async function restatementsOfClaim(db: Db, claimId: string) {
  const { rows } = await sql<{
    kind: LinkKind
    from_id: string
    from_stated_at: Date
    from_precision: TimePrecision
    to_id: string
    to_stated_at: Date
    to_precision: TimePrecision
  }>`
    SELECT l.kind, f.id AS from_id, f.stated_at AS from_stated_at, f.stated_at_precision AS from_precision,
           t.id AS to_id, t.stated_at AS to_stated_at, t.stated_at_precision AS to_precision
    FROM links l
    JOIN claims f ON f.id = l.from_claim_id
    JOIN claims t ON t.id = l.to_claim_id
    WHERE (l.from_claim_id = ${claimId} OR l.to_claim_id = ${claimId}) AND l.deleted_at IS NULL
      AND l.kind IN ('corrects', 'retracts')`.execute(db)
  return rows.map((row) => ({
    kind: row.kind,
    from: { id: row.from_id, stated_at: row.from_stated_at, stated_at_precision: row.from_precision },
    to: { id: row.to_id, stated_at: row.to_stated_at, stated_at_precision: row.to_precision },
  }))
}
