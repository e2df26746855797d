import { inTransaction } from '../db/transaction.js'
import type { Db, EventRowUpdate } from '../db/schema.js'
import { ApiError, invalidField, unknownReference, unprocessableField } from '../errors/problems.js'
import * as events from '../repositories/event.repository.js'
import type { EventRecord } from '../repositories/event.repository.js'
import { type VersionAuthorship, insertVersions } from '../repositories/record-version.js'
import type { ApiKeyIdentity } from '../schemas/api-key.schema.js'
import { assertSlugShape } from './slug-shape.js'
import type { EventRef } from '../schemas/event-ref.schema.js'
import {
  type CreateEventInput,
  type Event,
  type EventListFilter,
  type EventVersion,
  EventVersionSchema,
  type UpdateEventInput,
} from '../schemas/event.schema.js'
import type { EventFigureRow, EventFigures, StatedFigure } from '../schemas/event-figures.schema.js'
import { atPrecision, filterBound, type PreciseTime } from '../schemas/time.schema.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { countList } from './list-count.js'
import type { Precondition } from './precondition.js'
import { listRecordHistory, readRecord, recordKind, removeRecord, reviseRecord, snapshotOf } from './record-revision.js'
import { precisionWithoutTime, storedTime } from './stored-time.js'

export function toEvent(row: EventRecord): Event {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    starts_at: row.starts_at.toISOString(),
    starts_at_precision: row.starts_at_precision,
    ends_at: row.ends_at?.toISOString() ?? null,
    ends_at_precision: row.ends_at === null ? null : row.ends_at_precision,
    location:
      row.location_name === null ? null : { name: row.location_name, lat: row.location_lat, lon: row.location_lon },
    tags: row.tags,
    description: row.description,
    claim_count: row.claim_count,
    disputed_claim_count: row.disputed_claim_count,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

const EVENT = recordKind('event', 'events', events.findEventByKey, toEvent, EventVersionSchema.properties.event)

export async function getEvent(db: Db, key: string): Promise<Event> {
  return readRecord(db, EVENT, key)
}

/** A position in the list: when the event began, then its id. */
export type EventListKey = [string, string]

const listQuery = (filter: EventListFilter) => ({
  tags: filter.tag,
  words: filter.q?.split(/\s+/).filter((word) => word !== ''),
  startsAfter: filterBound(filter.starts_after),
  startsBefore: filterBound(filter.starts_before),
})

/**
 * Up to `limit + 1` events, latest begun first: the extra one tells that another page follows. `backward`, the ones
 * before `after`, nearest first.
 */
export async function listEvents(
  db: Db,
  filter: EventListFilter,
  page: { limit: number; after?: EventListKey; backward?: boolean },
) {
  const rows = await events.listEvents(db, { ...listQuery(filter), ...page, limit: page.limit + 1 })
  return rows.map(toEvent)
}

/** How many events the list's filters match, as `count` asks. */
export async function countEvents(db: Db, filter: EventListFilter, kind: CountKind): Promise<ListTotal> {
  return countList(db, events.matchingEvents(db, listQuery(filter)), kind)
}

/** Every event of the list, latest begun first, read as the client takes them, in chunks (see keysetChunks). */
export async function exportEvents(db: Db, filter: EventListFilter, timeoutMs: number): Promise<AsyncIterable<Event>> {
  const query = listQuery(filter)
  const rows = keysetChunks(
    (after, limit) => events.listEvents(db, { ...query, after: after as EventListKey | undefined, limit }),
    (row) => [row.starts_at.toISOString(), row.id],
    timeoutMs,
  )
  return mapRows(rows, toEvent)
}

/** `createdBy`: the API key recording it (null from the command line), the one that may change it later. */
export async function createEvent(db: Db, input: CreateEventInput, createdBy: string | null): Promise<Event> {
  return inTransaction(db, (trx) => recordEvent(trx, input, createdBy))
}

/** The span an event's times name, as stored, with its end not before its start. */
function storedSpan(starts: PreciseTime, ends: PreciseTime | null, holder?: string) {
  if (ends !== null && Date.parse(ends.instant) < Date.parse(starts.instant)) {
    throw unprocessableField(
      'body',
      holder === undefined ? 'ends_at' : `${holder}.ends_at`,
      `must not be before starts_at: the event ends ${atPrecision(ends.instant, ends.precision)} and starts ` +
        atPrecision(starts.instant, starts.precision),
    )
  }
  return {
    starts_at: starts.instant,
    starts_at_precision: starts.precision,
    ends_at: ends?.instant ?? null,
    ends_at_precision: ends?.precision ?? null,
  }
}

/** Records an event and its first version, made by `createdBy`, within the caller's transaction. */
export async function recordEvent(
  trx: Db,
  input: CreateEventInput,
  createdBy: string | null,
  options: { id?: string } = {},
): Promise<Event> {
  assertSlugShape(input.slug, 'an event')
  const starts = storedTime(input.starts_at, input.starts_at_precision, 'starts_at')
  if (input.ends_at === undefined && input.ends_at_precision !== undefined) {
    throw precisionWithoutTime(undefined, 'ends_at')
  }
  const ends = input.ends_at === undefined ? null : storedTime(input.ends_at, input.ends_at_precision, 'ends_at')
  const id = await withSlugConflict(input.slug, () =>
    events.insertEvent(trx, {
      ...(options.id === undefined ? {} : { id: options.id }),
      slug: input.slug,
      name: input.name,
      ...storedSpan(starts, ends),
      location_name: input.location?.name ?? null,
      location_lat: input.location?.lat ?? null,
      location_lon: input.location?.lon ?? null,
      tags: input.tags ?? [],
      description: input.description ?? null,
      created_by: createdBy,
    }),
  )
  const event = await getEvent(trx, id)
  const snapshot = snapshotOf(event, EVENT.versions.fields)
  await insertVersions(trx, 'events', [{ recordId: id, version: event.version, snapshot }], { recordedBy: createdBy })
  return event
}

export async function updateEvent(
  db: Db,
  key: string,
  patch: UpdateEventInput,
  precondition: Precondition<Event>,
  recordedBy: string | null,
): Promise<Event> {
  if (patch.slug !== undefined) assertSlugShape(patch.slug, 'an event')
  return inTransaction(db, (trx) =>
    reviseEvent(trx, key, patch, precondition, { recordedBy, editNote: patch.edit_note }),
  )
}

/**
 * Edits an event within the caller's transaction, `authorship` saying who made the change and why; the caller
 * has checked the shape of a new slug.
 */
export async function reviseEvent(
  trx: Db,
  key: string,
  patch: UpdateEventInput,
  precondition: Precondition<Event>,
  authorship: VersionAuthorship,
): Promise<Event> {
  const revise = () =>
    reviseRecord(trx, EVENT, key, precondition, authorship, {
      changes: (current) => {
        const values: EventRowUpdate = {}
        if (patch.slug !== undefined) values.slug = patch.slug
        if (patch.name !== undefined) values.name = patch.name
        if (patch.tags !== undefined) values.tags = patch.tags
        if (patch.description !== undefined) values.description = patch.description
        if (patch.location !== undefined) Object.assign(values, mergedLocation(current, patch.location))
        Object.assign(values, restatedSpan(current, patch))
        return values
      },
    })
  // Only a new slug can collide with another event's.
  return patch.slug === undefined ? revise() : withSlugConflict(patch.slug, revise)
}

/**
 * The span an edit leaves: a time given alone takes the precision it is written to, or the one given beside it;
 * a precision given alone applies to the time the event has. The end, changed or not, must not precede the start.
 */
function restatedSpan(current: EventRecord, patch: UpdateEventInput): EventRowUpdate {
  const changesStart = patch.starts_at !== undefined || patch.starts_at_precision !== undefined
  const changesEnd = patch.ends_at !== undefined || patch.ends_at_precision !== undefined
  if (!changesStart && !changesEnd) return {}
  const starts = storedTime(
    patch.starts_at ?? { instant: current.starts_at.toISOString(), precision: current.starts_at_precision },
    patch.starts_at_precision,
    'starts_at',
  )
  let ends: PreciseTime | null
  if (patch.ends_at === null) {
    if (patch.ends_at_precision !== undefined) throw precisionWithoutTime(undefined, 'ends_at')
    ends = null
  } else {
    const time =
      patch.ends_at ??
      (current.ends_at === null
        ? undefined
        : { instant: current.ends_at.toISOString(), precision: current.ends_at_precision ?? 'second' })
    if (time === undefined && patch.ends_at_precision !== undefined) throw precisionWithoutTime(undefined, 'ends_at')
    ends = time === undefined ? null : storedTime(time, patch.ends_at_precision, 'ends_at')
  }
  return storedSpan(starts, ends)
}

/** A location patch merged into the event's current location: members it leaves out keep their value. */
function mergedLocation(current: EventRecord, patch: NonNullable<UpdateEventInput['location']> | null) {
  if (patch === null) return { location_name: null, location_lat: null, location_lon: null }
  const name = patch.name ?? current.location_name
  if (name === null) {
    throw invalidField('body', 'location.name', 'is required: the event has no location yet to merge into')
  }
  const lat = patch.lat !== undefined ? patch.lat : current.location_lat
  const lon = patch.lon !== undefined ? patch.lon : current.location_lon
  if ((lat === null) !== (lon === null)) {
    const missing = lat === null ? 'lat' : 'lon'
    throw invalidField('body', `location.${missing}`, 'must be set or cleared together with the other coordinate')
  }
  return { location_name: name, location_lat: lat, location_lon: lon }
}

export async function deleteEvent(
  db: Db,
  key: string,
  precondition: Precondition<Event>,
  deleter: ApiKeyIdentity | null,
): Promise<void> {
  await inTransaction(db, (trx) => removeEvent(trx, key, precondition, deleter))
}

/**
 * Deletes an event within the caller's transaction, at `at` when given (else now). Refused while live claims are
 * about it: they would name an event that answers 410; detach or delete them first.
 */
export async function removeEvent(
  trx: Db,
  key: string,
  precondition: Precondition<Event>,
  deleter: ApiKeyIdentity | null,
  at?: Date,
): Promise<void> {
  await removeRecord(
    trx,
    EVENT,
    key,
    precondition,
    { by: deleter?.id ?? null, at },
    {
      check: async (current) => {
        const claims = await events.countEventClaims(trx, current.id)
        if (claims > 0) {
          throw new ApiError(
            'conflict',
            `event ${current.slug} still has ${claims} live claim(s) about it; set their event to null or to ` +
              'another event, or delete them, first',
          )
        }
      },
    },
  )
}

/** Every version of an event (by id or slug), newest first; the first is the current one, or its deletion. */
export async function listEventHistory(db: Db, key: string, limit: number, beforeVersion: number | undefined) {
  return listRecordHistory(db, EVENT, key, limit, beforeVersion, (snapshot): Pick<EventVersion, 'event'> => ({
    event: snapshot as EventVersion['event'],
  }))
}

/** The id of the event a query parameter names by id or slug; a 422 naming the parameter when there is none. */
export async function resolveEventFilter(db: Db, key: string, parameter: string): Promise<string> {
  const event = await events.findEventRef(db, key)
  if (event === undefined) throw unknownReference('query', parameter, `no event has the id or slug ${key}`)
  return event.id
}

/**
 * The event a request body names by id or slug (a claim's event), locked until `trx` ends, so that a delete
 * racing with this write waits for it and then refuses; a 422 naming the field when there is none.
 */
export async function lockEventReference(trx: Db, key: string, field: string): Promise<EventRef> {
  const event = await events.findEventRef(trx, key, { forShare: true })
  if (event === undefined) throw unknownEvent(key, field)
  return event
}

export const unknownEvent = (key: string, field: string) =>
  unknownReference('body', field, `no event has the id or slug ${key}`)

/** The events that many references name by id or slug, each locked as lockEventReference locks it, in one query. */
export async function lockEventReferences(trx: Db, keys: string[]): Promise<Map<string, EventRef>> {
  const rows = await events.findEventsByKeys(trx, keys, { forShare: true })
  const byKey = new Map<string, EventRef>()
  for (const event of rows) {
    byKey.set(event.id, event)
    byKey.set(event.slug, event)
  }
  const found = new Map<string, EventRef>()
  for (const key of keys) {
    const event = byKey.get(key.toLowerCase())
    if (event !== undefined) found.set(key, event)
  }
  return found
}

export const eventSlugTaken = (slug: string) =>
  new ApiError('conflict', `an event with the slug ${slug} already exists`, {
    errors: [{ in: 'body', field: 'slug', message: 'is taken by another event' }],
  })

async function withSlugConflict<T>(slug: string, write: () => Promise<T>): Promise<T> {
  try {
    return await events.refusingTakenSlug(write())
  } catch (error) {
    if (error instanceof events.EventSlugTakenError) throw eventSlugTaken(slug)
    throw error
  }
}

const numberOrNull = (text: string | null) => (text === null ? null : Number(text))

function statedFigure(row: events.EventFigureRecord): StatedFigure {
  return {
    claim_id: row.claim_id,
    stated_at: row.stated_at.toISOString(),
    stated_at_precision: row.stated_at_precision,
    standing: row.standing,
    value: numberOrNull(row.value),
    low: numberOrNull(row.low),
    high: numberOrNull(row.high),
    unit: row.unit,
    qualifier: row.qualifier,
    as_of: row.as_of?.toISOString() ?? null,
    as_of_precision: row.as_of === null ? null : row.as_of_precision,
  }
}

/** The ends of the span a figure states: a value is both, an open end of a range takes the other end. */
const figureEnds = (figure: StatedFigure): [number, number] => {
  const low = figure.value ?? figure.low ?? figure.high ?? 0
  const high = figure.value ?? figure.high ?? figure.low ?? 0
  return [low, high]
}

/**
 * The contested quantities of an event (by id or slug): for each measure and unit its live claims state, each party's
 * latest figure (of its latest stated claim that is not retracted) and the others it stated, with each claim's
 * standing, and the spread between the parties' latest figures. 404 or 410 as the event itself.
 */
export async function getEventFigures(db: Db, key: string): Promise<EventFigures> {
  const event = await getEvent(db, key)
  const rows = await events.listEventFigures(db, event.id)
  const measures: EventFigures['measures'] = []
  for (const row of rows) {
    let measure = measures.at(-1)
    if (measure === undefined || measure.measure !== row.measure || measure.unit !== row.unit) {
      measure = { measure: row.measure, unit: row.unit, parties: [], spread: { low: null, high: null } }
      measures.push(measure)
    }
    let party = measure.parties.at(-1)
    if (party?.party.id !== row.party_id) {
      party = { party: { id: row.party_id, slug: row.party_slug, name: row.party_name }, latest: null, earlier: [] }
      measure.parties.push(party)
    }
    // Rows come latest stated first: the first that is not retracted is the party's latest figure.
    const figure = statedFigure(row)
    if (party.latest === null && figure.standing !== 'retracted') party.latest = figure
    else party.earlier.push(figure)
  }
  for (const measure of measures) {
    const ends = measure.parties.flatMap((party) => (party.latest === null ? [] : [figureEnds(party.latest)]))
    if (ends.length === 0) continue
    measure.spread = { low: Math.min(...ends.map(([low]) => low)), high: Math.max(...ends.map(([, high]) => high)) }
  }
  return { event: { id: event.id, slug: event.slug, name: event.name }, measures }
}

/** The table as CSV rows: one per figure, each party's latest first, then its others, latest stated first. */
export function eventFigureRows(table: EventFigures): EventFigureRow[] {
  return table.measures.flatMap((measure) =>
    measure.parties.flatMap((party) => [
      ...(party.latest === null
        ? []
        : [
            {
              measure: measure.measure,
              party: party.party,
              latest: true,
              figure: party.latest,
              spread: measure.spread,
            },
          ]),
      ...party.earlier.map((figure) => ({
        measure: measure.measure,
        party: party.party,
        latest: false,
        figure,
        spread: measure.spread,
      })),
    ]),
  )
}

/**
 * The changes that bring an event to a whole restatement of it (what a create request takes): a field the
 * restatement leaves out is cleared. Its times are compared as they would be stored.
 */
export function restatedEventChanges(current: EventRecord, wanted: CreateEventInput): UpdateEventInput {
  const patch: UpdateEventInput = {}
  if (wanted.slug !== current.slug) patch.slug = wanted.slug
  if (wanted.name !== current.name) patch.name = wanted.name
  if ((wanted.description ?? null) !== current.description) patch.description = wanted.description ?? null
  const tags = wanted.tags ?? []
  if (tags.length !== current.tags.length || tags.some((tag, i) => tag !== current.tags[i])) patch.tags = tags
  const starts = storedTime(wanted.starts_at, wanted.starts_at_precision, 'starts_at')
  if (starts.instant !== current.starts_at.toISOString() || starts.precision !== current.starts_at_precision) {
    patch.starts_at = starts.instant
    patch.starts_at_precision = starts.precision
  }
  const ends = wanted.ends_at === undefined ? null : storedTime(wanted.ends_at, wanted.ends_at_precision, 'ends_at')
  if (ends === null) {
    if (current.ends_at !== null) patch.ends_at = null
  } else if (ends.instant !== current.ends_at?.toISOString() || ends.precision !== current.ends_at_precision) {
    patch.ends_at = ends.instant
    patch.ends_at_precision = ends.precision
  }
  const location = wanted.location
  if (location === undefined) {
    if (current.location_name !== null) patch.location = null
  } else if (
    location.name !== current.location_name ||
    (location.lat ?? null) !== current.location_lat ||
    (location.lon ?? null) !== current.location_lon
  ) {
    patch.location = { name: location.name, lat: location.lat ?? null, lon: location.lon ?? null }
  }
  return patch
}
