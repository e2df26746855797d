import { type Expression, type SqlBool, sql } from 'kysely'
import { violatesUniqueKey } from '../db/postgres-error-codes.js'
import type { Db, NewPartyRow } from '../db/schema.js'
import { isUuid } from '../schemas/common.schema.js'

function selectParties(db: Db) {
  return db
    .selectFrom('parties as p')
    .leftJoin('parties as s', 's.id', 'p.side_id')
    .select([
      'p.id',
      'p.slug',
      'p.name',
      'p.kind',
      'p.country',
      'p.wikidata',
      'p.description',
      'p.url',
      'p.logo',
      'p.version',
      'p.created_at',
      'p.created_by',
      'p.updated_at',
      's.id as side_id',
      's.slug as side_slug',
      's.name as side_name',
    ])
    .where('p.deleted_at', 'is', null)
}

export type PartyRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectParties>['executeTakeFirst']>>>

/** A key names a party by id when it has the shape of a uuid, else by slug (slugs are refused that shape). */
export async function findPartyByKey(db: Db, key: string, options: { forUpdate?: boolean } = {}) {
  let query = selectParties(db).where(isUuid(key) ? 'p.id' : 'p.slug', '=', key.toLowerCase())
  if (options.forUpdate) query = query.forUpdate('p')
  return query.executeTakeFirst()
}

/**
 * The id of the live party with this id or slug, if any. `forShare` keeps the row locked until the transaction
 * ends, so that a concurrent delete of the party waits, and then finds what this transaction made refer to it.
 */
export async function findPartyId(db: Db, key: string, options: { forShare?: boolean } = {}) {
  let query = db
    .selectFrom('parties')
    .select('id')
    .where(isUuid(key) ? 'id' : 'slug', '=', key.toLowerCase())
    .where('deleted_at', 'is', null)
  if (options.forShare) query = query.forShare()
  const row = await query.executeTakeFirst()
  return row?.id
}

export interface PartyFilter {
  kind?: string
  country?: string
  sideId?: string
}

export interface PartyListQuery extends PartyFilter {
  afterSlug?: string
  /** The parties before `afterSlug` instead, nearest first: the page before. */
  backward?: boolean
  limit: number
}

function partyFilter(filter: PartyFilter): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [sql<SqlBool>`p.deleted_at IS NULL`]
  if (filter.kind !== undefined) conditions.push(sql<SqlBool>`p.kind = ${filter.kind}`)
  if (filter.country !== undefined) conditions.push(sql<SqlBool>`p.country = ${filter.country}`)
  if (filter.sideId !== undefined) conditions.push(sql<SqlBool>`p.side_id = ${filter.sideId}`)
  return sql<SqlBool>`${sql.join(conditions, sql` AND `)}`
}

/** The ids of the live parties matching the filters, for a count. */
export function matchingParties(db: Db, filter: PartyFilter) {
  return db.selectFrom('parties as p').select('p.id').where(partyFilter(filter))
}

/** Live parties in slug order, from after `afterSlug` (backward: before it, nearest first); `limit` rows at most. */
export async function listParties(db: Db, query: PartyListQuery) {
  let select = selectParties(db)
    .where(partyFilter(query))
    .orderBy('p.slug', query.backward ? 'desc' : 'asc')
    .limit(query.limit)
  if (query.afterSlug !== undefined) select = select.where('p.slug', query.backward ? '<' : '>', query.afterSlug)
  return select.execute()
}

/** The unique index that keeps a slug to one live party. */
const LIVE_SLUG_KEY = 'parties_slug_live_key'

/**
 * Another live party holds the slug a write gave. Checks before the write cannot see a party that a concurrent
 * transaction records meanwhile; the database refuses it then, and has aborted the transaction.
 */
export class PartySlugTakenError extends Error {
  override name = 'PartySlugTakenError'
}

/** `write`, failing with PartySlugTakenError where it would give a live party another's slug. */
export async function refusingTakenSlug<T>(write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (error) {
    if (violatesUniqueKey(error, LIVE_SLUG_KEY)) throw new PartySlugTakenError('the slug is taken', { cause: error })
    throw error
  }
}

/** Fails with PartySlugTakenError when another live party has the slug. */
export async function insertParty(db: Db, values: NewPartyRow): Promise<string> {
  const row = await refusingTakenSlug(db.insertInto('parties').values(values).returning('id').executeTakeFirstOrThrow())
  return row.id
}

/** What still points at a party: live claims it made or relayed, its live reviews, live parties that speak for it. */
export async function countPartyDependents(db: Db, id: string) {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('claims')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('party_id', '=', id)
        .where('deleted_at', 'is', null)
        .as('claims'),
      eb
        .selectFrom('parties')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('side_id', '=', id)
        .where('deleted_at', 'is', null)
        .as('parties'),
      eb
        .selectFrom('reviews')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('reviewer_party_id', '=', id)
        .where('deleted_at', 'is', null)
        .as('reviews'),
      eb
        .selectFrom('claims')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where(sql<SqlBool>`relayed_by @> ARRAY[${id}::uuid]`)
        .where('deleted_at', 'is', null)
        .as('relayed'),
    ])
    .executeTakeFirstOrThrow()
  return {
    claims: Number(row.claims),
    parties: Number(row.parties),
    reviews: Number(row.reviews),
    relayed: Number(row.relayed),
  }
}

/**
 * Whether following `side` from party `startId` (itself included) reaches party `targetId`: setting the target's
 * side to the start would then close a cycle, and no party of it could ever be deleted.
 */
export async function sideChainReaches(db: Db, startId: string, targetId: string): Promise<boolean> {
  const { rows } = await sql<{ reaches: boolean }>`
    WITH RECURSIVE chain (id, side_id) AS (
      SELECT id, side_id FROM parties WHERE id = ${startId}
      UNION
      SELECT p.id, p.side_id FROM parties p JOIN chain ON p.id = chain.side_id
    )
    SELECT EXISTS (SELECT 1 FROM chain WHERE id = ${targetId}) AS reaches`.execute(db)
  return rows[0]?.reaches === true
}

/**
 * The ids of a side: the party itself and every live party that speaks for it, directly or through others. An
 * expression, for use in the queries of other repositories (`party_id IN (…)`).
 */
export function sideMemberIds(sideId: string) {
  return sql<string>`(
    WITH RECURSIVE members (id) AS (
      SELECT ${sideId}::uuid
      UNION
      SELECT p.id FROM parties p JOIN members ON p.side_id = members.id WHERE p.deleted_at IS NULL
    )
    SELECT id FROM members
  )`
}

/**
 * The live parties that `keys` name by id or slug, in one query. `forShare` locks them as findPartyId does, in
 * id order, so that two writers locking overlapping sets wait for each other instead of deadlocking.
 */
export async function findPartiesByKeys(db: Db, keys: string[], options: { forShare?: boolean } = {}) {
  const ids = keys.filter((key) => isUuid(key)).map((key) => key.toLowerCase())
  const slugs = keys.filter((key): boolean => !isUuid(key)).map((key) => key.toLowerCase())
  if (ids.length === 0 && slugs.length === 0) return []
  let query = db
    .selectFrom('parties')
    .select(['id', 'slug', 'name', 'kind'])
    .where((eb) =>
      eb.or([...(ids.length > 0 ? [eb('id', 'in', ids)] : []), ...(slugs.length > 0 ? [eb('slug', 'in', slugs)] : [])]),
    )
    .where('deleted_at', 'is', null)
    .orderBy('id')
  if (options.forShare) query = query.forShare()
  return query.execute()
}

/**
 * For each pair of parties, their slugs and whether they are on one side chain: the same party, or one speaks
 * for the other, directly or through others. One query for every pair.
 */
export async function sideChainPairs(db: Db, pairs: Array<{ a: string; b: string }>) {
  if (pairs.length === 0) return []
  const { rows } = await sql<{ a: string; b: string; a_slug: string; b_slug: string; related: boolean }>`
    WITH RECURSIVE pair (a, b) AS (
      SELECT * FROM unnest(${pairs.map((pair) => pair.a)}::uuid[], ${pairs.map((pair) => pair.b)}::uuid[])
    ), chain (start, id) AS (
      SELECT a, a FROM pair
      UNION
      SELECT b, b FROM pair
      UNION
      SELECT chain.start, p.side_id FROM chain JOIN parties p ON p.id = chain.id WHERE p.side_id IS NOT NULL
    )
    SELECT pair.a, pair.b, pa.slug AS a_slug, pb.slug AS b_slug,
           EXISTS (
             SELECT 1 FROM chain
             WHERE (chain.start = pair.a AND chain.id = pair.b) OR (chain.start = pair.b AND chain.id = pair.a)
           ) AS related
    FROM pair JOIN parties pa ON pa.id = pair.a JOIN parties pb ON pb.id = pair.b`.execute(db)
  return rows
}
