import { type Expression, type SqlBool, sql } from 'kysely'
import { violatesUniqueKey } from '../db/postgres-error-codes.js'
import type { ClaimStanding, Db, NewEventRow, TimePrecision } from '../db/schema.js'
import { isUuid } from '../schemas/common.schema.js'

function selectEvents(db: Db) {
  return db
    .selectFrom('events as e')
    .select([
      'e.id',
      'e.slug',
      'e.name',
      'e.starts_at',
      'e.starts_at_precision',
      'e.ends_at',
      'e.ends_at_precision',
      'e.location_name',
      'e.location_lat',
      'e.location_lon',
      'e.tags',
      'e.description',
      'e.version',
      'e.created_at',
      'e.created_by',
      'e.updated_at',
      // Counted through the partial index of live claims by event: an event holds tens of claims, not millions.
      sql<number>`(SELECT count(*) FROM claims c WHERE c.event_id = e.id AND c.deleted_at IS NULL)::int`.as(
        'claim_count',
      ),
      sql<number>`(
        SELECT count(*) FROM claims c WHERE c.event_id = e.id AND c.deleted_at IS NULL AND c.rebuttal_count > 0
      )::int`.as('disputed_claim_count'),
    ])
    .where('e.deleted_at', 'is', null)
}

export type EventRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectEvents>['executeTakeFirst']>>>

/** A key names an event by id when it has the shape of a uuid, else by slug (slugs are refused that shape). */
export async function findEventByKey(db: Db, key: string, options: { forUpdate?: boolean } = {}) {
  let query = selectEvents(db).where(isUuid(key) ? 'e.id' : 'e.slug', '=', key.toLowerCase())
  if (options.forUpdate) query = query.forUpdate('e')
  return query.executeTakeFirst()
}

/**
 * The live event with this id or slug, if any, as a claim names it. `forShare` keeps the row locked until the
 * transaction ends, so that a concurrent delete of the event waits, and then finds the claim that names it.
 */
export async function findEventRef(db: Db, key: string, options: { forShare?: boolean } = {}) {
  let query = db
    .selectFrom('events')
    .select(['id', 'slug', 'name'])
    .where(isUuid(key) ? 'id' : 'slug', '=', key.toLowerCase())
    .where('deleted_at', 'is', null)
  if (options.forShare) query = query.forShare()
  return query.executeTakeFirst()
}

/**
 * The live events that `keys` name by id or slug, in one query. `forShare` locks them as findEventRef does, in
 * id order, so that two writers locking overlapping sets wait for each other instead of deadlocking.
 */
export async function findEventsByKeys(db: Db, keys: string[], options: { forShare?: boolean } = {}) {
  const ids = keys.filter((key) => isUuid(key)).map((key) => key.toLowerCase())
  const slugs = keys.filter((key): boolean => !isUuid(key)).map((key) => key.toLowerCase())
  if (ids.length === 0 && slugs.length === 0) return []
  let query = db
    .selectFrom('events')
    .select(['id', 'slug', 'name'])
    .where((eb) =>
      eb.or([...(ids.length > 0 ? [eb('id', 'in', ids)] : []), ...(slugs.length > 0 ? [eb('slug', 'in', slugs)] : [])]),
    )
    .where('deleted_at', 'is', null)
    .orderBy('id')
  if (options.forShare) query = query.forShare()
  return query.execute()
}

export interface EventFilter {
  tags?: string[]
  /** Words that the name must contain, each. */
  words?: string[]
  startsAfter?: string
  startsBefore?: string
}

export interface EventListQuery extends EventFilter {
  /** The starts_at and id of the last row of the previous page (of the first, `backward`). */
  after?: [string, string]
  /** The rows before `after` instead, nearest first: the page before. */
  backward?: boolean
  limit: number
}

function eventFilter(filter: EventFilter): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [sql<SqlBool>`e.deleted_at IS NULL`]
  if (filter.tags !== undefined && filter.tags.length > 0) {
    conditions.push(sql<SqlBool>`e.tags @> ${sql.val(filter.tags)}::text[]`)
  }
  for (const word of filter.words ?? []) conditions.push(sql<SqlBool>`strpos(lower(e.name), ${word.toLowerCase()}) > 0`)
  if (filter.startsAfter !== undefined) conditions.push(sql<SqlBool>`e.starts_at >= ${new Date(filter.startsAfter)}`)
  if (filter.startsBefore !== undefined) conditions.push(sql<SqlBool>`e.starts_at < ${new Date(filter.startsBefore)}`)
  return sql<SqlBool>`${sql.join(conditions, sql` AND `)}`
}

/** The ids of the live events matching the filters, for a count. */
export function matchingEvents(db: Db, filter: EventFilter) {
  return db.selectFrom('events as e').select('e.id').where(eventFilter(filter))
}

/** Live events, latest begun first, after `after` when given (backward: before it, earliest first); `limit` rows. */
export async function listEvents(db: Db, query: EventListQuery) {
  const direction = query.backward ? 'asc' : 'desc'
  let select = selectEvents(db)
    .where(eventFilter(query))
    .orderBy('e.starts_at', direction)
    .orderBy('e.id', direction)
    .limit(query.limit)
  if (query.after !== undefined) {
    const [startsAt, id] = query.after
    const comparison = sql.raw(query.backward ? '>' : '<')
    select = select.where(sql<SqlBool>`(e.starts_at, e.id) ${comparison} (${startsAt}::timestamptz, ${id}::uuid)`)
  }
  return select.execute()
}

/** The unique index that keeps a slug to one live event. */
const LIVE_SLUG_KEY = 'events_slug_live_key'

/**
 * Another live event holds the slug a write gave. Checks before the write cannot see an event that a concurrent
 * transaction records meanwhile; the database refuses it then, and has aborted the transaction.
 */
export class EventSlugTakenError extends Error {
  override name = 'EventSlugTakenError'
}

/** `write`, failing with EventSlugTakenError where it would give a live event another's slug. */
export async function refusingTakenSlug<T>(write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (error) {
    if (violatesUniqueKey(error, LIVE_SLUG_KEY)) throw new EventSlugTakenError('the slug is taken', { cause: error })
    throw error
  }
}

/** Fails with EventSlugTakenError when another live event has the slug. */
export async function insertEvent(db: Db, values: NewEventRow): Promise<string> {
  const row = await refusingTakenSlug(db.insertInto('events').values(values).returning('id').executeTakeFirstOrThrow())
  return row.id
}

/** How many live claims are about the event: what deleting it would leave pointing at a deleted event. */
export async function countEventClaims(db: Db, id: string): Promise<number> {
  const row = await db
    .selectFrom('claims')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('event_id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** A figure stated by a live claim about the event, with the claim and its party. */
export interface EventFigureRecord {
  measure: string
  value: string | null
  low: string | null
  high: string | null
  unit: string | null
  qualifier: string | null
  as_of: Date | null
  as_of_precision: TimePrecision | null
  claim_id: string
  stated_at: Date
  stated_at_precision: TimePrecision
  standing: ClaimStanding
  party_id: string
  party_slug: string
  party_name: string
}

/**
 * Every figure that a live claim about the event states, by measure, unit and party slug, then latest stated first
 * (then latest recorded, then latest as_of):
 * the event's claims through their partial index, and each claim's figures through its key.
 */
export async function listEventFigures(db: Db, eventId: string): Promise<EventFigureRecord[]> {
  const { rows } = await sql<EventFigureRecord>`
    SELECT f.measure, f.value::text, f.low::text, f.high::text, f.unit, f.qualifier, f.as_of, f.as_of_precision,
           c.id AS claim_id, c.stated_at, c.stated_at_precision, c.standing,
           p.id AS party_id, p.slug AS party_slug, p.name AS party_name
    FROM claims c
    JOIN claim_figures f ON f.claim_id = c.id
    JOIN parties p ON p.id = c.party_id
    WHERE c.event_id = ${eventId} AND c.deleted_at IS NULL
    ORDER BY f.measure, f.unit NULLS FIRST, p.slug, c.stated_at DESC, c.created_at DESC, c.id DESC,
             f.as_of DESC NULLS LAST, f.position`.execute(db)
  return rows
}
