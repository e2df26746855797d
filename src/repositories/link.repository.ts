import { type Expression, type SqlBool, sql } from 'kysely'
import type { Db, LinkTable } from '../db/schema.js'
import { softDeletion } from './record-version.js'

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
      'l.version',
      'l.created_at',
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

/** The live link of this kind from one claim to another, if there is one: there can be only one. */
export async function findLinkId(db: Db, fromClaimId: string, toClaimId: string, kind: LinkKind) {
  const row = await db
    .selectFrom('links')
    .select('id')
    .where('from_claim_id', '=', fromClaimId)
    .where('to_claim_id', '=', toClaimId)
    .where('kind', '=', kind)
    .where('deleted_at', 'is', null)
    .executeTakeFirst()
  return row?.id
}

export interface NewLink {
  fromClaimId: string
  toClaimId: string
  fromPartyId: string
  toPartyId: string
  kind: LinkKind
  note: string | null
}

export async function insertLink(db: Db, link: NewLink): Promise<string> {
  const row = await db
    .insertInto('links')
    .values({
      from_claim_id: link.fromClaimId,
      to_claim_id: link.toClaimId,
      from_party_id: link.fromPartyId,
      to_party_id: link.toPartyId,
      kind: link.kind,
      note: link.note,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

export async function softDeleteLink(db: Db, id: string): Promise<void> {
  await db.updateTable('links').set(softDeletion()).where('id', '=', id).execute()
}

/** Deletes every live link from or to a claim: a deleted claim neither answers nor is answered. */
export async function softDeleteLinksOfClaim(db: Db, claimId: string): Promise<void> {
  await db
    .updateTable('links')
    .set(softDeletion())
    .where((eb) => eb.or([eb('from_claim_id', '=', claimId), eb('to_claim_id', '=', claimId)]))
    .where('deleted_at', 'is', null)
    .execute()
}

export interface LinkListQuery {
  /** Links from or to this claim. */
  claimId?: string
  /** Links whose responding or answered claim is this party's. */
  partyId?: string
  kind?: LinkKind
  /** The created_at and id of the last row of the previous page. */
  after?: [string, string]
  limit: number
}

/** Live links matching the filters, newest first, `limit` rows at most. */
export async function listLinks(db: Db, query: LinkListQuery) {
  const conditions: Expression<SqlBool>[] = []
  if (query.claimId !== undefined) {
    conditions.push(sql<SqlBool>`(l.from_claim_id = ${query.claimId} OR l.to_claim_id = ${query.claimId})`)
  }
  if (query.partyId !== undefined) {
    conditions.push(sql<SqlBool>`(l.from_party_id = ${query.partyId} OR l.to_party_id = ${query.partyId})`)
  }
  if (query.kind !== undefined) conditions.push(sql<SqlBool>`l.kind = ${query.kind}`)
  if (query.after !== undefined) {
    const [createdAt, id] = query.after
    conditions.push(sql<SqlBool>`(l.created_at, l.id) < (${createdAt}::timestamptz, ${id}::uuid)`)
  }
  let select = selectLinks(db).orderBy('l.created_at', 'desc').orderBy('l.id', 'desc').limit(query.limit)
  if (conditions.length > 0) select = select.where(sql<SqlBool>`${sql.join(conditions, sql` AND `)}`)
  return select.execute()
}

/**
 * The live links that answer one claim, with the responding claim's id, newest statement first: the rebuttals
 * (or supports) of a claim, one page at a time.
 */
export async function listResponsesTo(
  db: Db,
  claimId: string,
  kind: LinkKind,
  page: { after?: [string, string]; limit: number },
) {
  let select = selectLinks(db)
    .innerJoin('claims as rc', 'rc.id', 'l.from_claim_id')
    .select('rc.stated_at as responder_stated_at')
    .where('l.to_claim_id', '=', claimId)
    .where('l.kind', '=', kind)
    .where('rc.deleted_at', 'is', null)
  if (page.after !== undefined) {
    const [statedAt, id] = page.after
    select = select.where(sql<SqlBool>`(rc.stated_at, rc.id) < (${statedAt}::timestamptz, ${id}::uuid)`)
  }
  return select.orderBy('rc.stated_at', 'desc').orderBy('rc.id', 'desc').limit(page.limit).execute()
}
