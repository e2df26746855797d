import { randomUUID } from 'node:crypto'
import { DISPUTED_ASPECTS } from '../schemas/aspect.schema.js'
import { inTransaction, type Transaction } from '../db/transaction.js'
import type { ClaimRowUpdate, Db, NewClaimRow } from '../db/schema.js'
import { ApiError, invalidField, unprocessableField } from '../errors/problems.js'
import * as claims from '../repositories/claim.repository.js'
import { type VersionAuthorship, insertVersions } from '../repositories/record-version.js'
import * as links from '../repositories/link.repository.js'
import * as reviews from '../repositories/review.repository.js'
import * as figures from '../repositories/claim-figure.repository.js'
import type { ClaimRecord } from '../repositories/claim.repository.js'
import {
  type Claim,
  type ClaimSource,
  type ClaimVersion,
  ClaimVersionSchema,
  type CreateClaimInput,
  type Figure,
  type FigureInput,
  SIMILAR_MIN_SCORE,
  SIMILAR_SEARCH_BOUNDS,
  type SimilarClaimsFilter,
  type UpdateClaimInput,
} from '../schemas/claim.schema.js'
import type { EventRef } from '../schemas/event-ref.schema.js'
import type { PartyRef } from '../schemas/party.schema.js'
import { lockEventReference, lockEventReferences, unknownEvent } from './event.service.js'
import { lockPartyReferences, resolvePartyFilter, unknownParty } from './party.service.js'
import * as derived from './derived-state.js'
import { storedInstant } from './stored-instant.js'
import { checkTimeOrderOfClaim, statedBefore, written } from './time-order.js'
import { fieldOf, precisionWithoutTime, storedTime } from './stored-time.js'
import { atPrecision, type PreciseTime } from '../schemas/time.schema.js'
import type { Precondition } from './precondition.js'
import { filterBound, parsePartialDateTime } from '../schemas/time.schema.js'
import { recordKind, listRecordHistory, readRecord, removeRecord, reviseRecord } from './record-revision.js'
import { type ApiKeyIdentity, grants } from '../schemas/api-key.schema.js'

export function toClaim(row: ClaimRecord): Claim {
  return {
    id: row.id,
    party: { id: row.party_id, slug: row.party_slug, name: row.party_name },
    ...storedContent(row),
    status: row.rebuttal_count > 0 ? 'disputed' : 'unchallenged',
    rebuttal_count: row.rebuttal_count,
    support_count: row.support_count,
    repeat_count: row.repeat_count,
    rebutted_by: row.rebutted_by,
    disputed_aspects: inAspectOrder(row.disputed_aspects),
    disputed_measures: row.disputed_measures,
    last_response_at: row.last_response_at?.toISOString() ?? null,
    first_response_at: row.first_response_at?.toISOString() ?? null,
    disputed_since: row.disputed_since?.toISOString() ?? null,
    response_time_seconds:
      row.first_response_at === null
        ? null
        : Math.round((row.first_response_at.getTime() - row.stated_at.getTime()) / 1000),
    review_count: row.review_count,
    reviews: row.reviews.map((review) => ({ ...review, published_at: new Date(review.published_at).toISOString() })),
    standing: row.standing,
    corrected_by: restated(row.restated_by, 'corrects'),
    retracted_by: restated(row.restated_by, 'retracts'),
    corrects: restated(row.restates, 'corrects'),
    retracts: restated(row.restates, 'retracts'),
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

type DisputedAspect = (typeof DISPUTED_ASPECTS)[number]

/** Stored sorted by name; served in the order of the list of aspects, `whole` last. */
const inAspectOrder = (aspects: string[]) =>
  DISPUTED_ASPECTS.filter((aspect) => aspects.includes(aspect)) as DisputedAspect[]

/** The claims at the other end of a claim's corrections or retractions, of one kind. */
const restated = (links: claims.RestatementRow[], kind: claims.RestatementRow['kind']) =>
  links.filter((link) => link.kind === kind).map((link) => link.claim_id)

/** The columns that hold what a claim says. */
export type ClaimContentRow = Pick<
  ClaimRecord,
  | 'text'
  | 'quote'
  | 'quote_language'
  | 'stated_at'
  | 'stated_at_precision'
  | 'event_at'
  | 'event_at_precision'
  | 'location_name'
  | 'location_lat'
  | 'location_lon'
  | 'language'
  | 'certainty'
  | 'tags'
  | 'sources'
  | 'figures'
  | 'event_id'
  | 'event_slug'
  | 'event_name'
  | 'relayed_by_parties'
>

/**
 * What a claim says, read from its stored columns: as every claim read shows it, and so as each version keeps it.
 * A bulk insert derives its first versions from the rows it returns with this, as recordClaim does from a read.
 */
export function storedContent(row: ClaimContentRow): ClaimVersion['claim'] {
  return {
    text: row.text,
    quote: row.quote,
    quote_language: row.quote_language,
    stated_at: row.stated_at.toISOString(),
    stated_at_precision: row.stated_at_precision,
    event_at: row.event_at?.toISOString() ?? null,
    event_at_precision: row.event_at === null ? null : (row.event_at_precision ?? 'second'),
    location:
      row.location_name === null ? null : { name: row.location_name, lat: row.location_lat, lon: row.location_lon },
    language: row.language,
    certainty: row.certainty,
    tags: row.tags,
    sources: row.sources,
    figures: row.figures.map(storedFigure),
    event:
      row.event_id === null || row.event_slug === null || row.event_name === null
        ? null
        : { id: row.event_id, slug: row.event_slug, name: row.event_name },
    relayed_by: row.relayed_by_parties,
  }
}

/** A figure as every read shows it: its as_of as toISOString() writes an instant, whatever form it was read in. */
const storedFigure = (figure: Figure): Figure => ({
  ...figure,
  as_of: figure.as_of === null ? null : new Date(figure.as_of).toISOString(),
})

const CLAIM = recordKind('claim', 'claims', claims.findClaimById, toClaim, ClaimVersionSchema.properties.claim)

/** Sources as stored, each publication time as storedInstant keeps it, like every other timestamp. */
function storedSourceList(sources: ClaimSource[]): ClaimSource[] {
  return sources.map((source) =>
    source.published_at === undefined ? source : { ...source, published_at: storedInstant(source.published_at) },
  )
}

/** Sources as the column takes them: JSON text. */
function storedSources(sources: ClaimSource[]): string {
  return JSON.stringify(storedSourceList(sources))
}

/** The language of a claim that does not say, as the column's default has it. */
const DEFAULT_LANGUAGE = 'en'

export async function getClaim(db: Db, id: string): Promise<Claim> {
  return readRecord(db, CLAIM, id)
}

/** `createdBy`: the API key recording it (null from the command line), the one that may change it later. */
export async function createClaim(db: Db, input: CreateClaimInput, createdBy: string | null): Promise<Claim> {
  // One statement, atomic on its own: no transaction round trips around it.
  return recordClaim(db, input, { createdBy })
}

/**
 * Records a claim and its first version, in one statement: on its own, or within the caller's transaction (a
 * counter-claim is recorded with its rebuttal link). `field` names the body member that holds the claim, for
 * problems; `id` is for data sets that bring their own stable ids.
 */
export async function recordClaim(
  trx: Db,
  input: CreateClaimInput,
  options: { createdBy: string | null; field?: string; id?: string },
): Promise<Claim> {
  const partyField = options.field === undefined ? 'party' : `${options.field}.party`
  const event =
    input.event === undefined ? null : await lockEventReference(trx, input.event, fieldOf(options.field, 'event'))
  const relayField = fieldOf(options.field, 'relayed_by')
  const relayKeys = input.relayed_by ?? []
  const relays = relayingParties(await lockPartyReferences(trx, relayKeys), input.party, relayKeys, relayField)
  const values = newClaimValues(input, event, relays, options.id ?? randomUUID(), options.createdBy, options.field)
  const row = await claims.insertClaimOfParty(trx, input.party, values, contentOfValues(values))
  if (row === undefined) throw unknownParty(input.party, partyField)
  return toClaim(row)
}

/**
 * A new claim's values as stored, with the column defaults applied here, so that its first version can be
 * written with it. Times are kept to the millisecond as JavaScript reads them, so what is stored and what the
 * version says are the same instant.
 */
function newClaimValues(
  input: Omit<CreateClaimInput, 'party'>,
  about: EventRef | null,
  relays: PartyRef[],
  id: string,
  createdBy: string | null,
  field?: string,
): claims.NewClaimValues {
  const stated = storedTime(input.stated_at, input.stated_at_precision, fieldOf(field, 'stated_at'))
  const event =
    input.event_at === undefined
      ? undefined
      : storedTime(input.event_at, input.event_at_precision, fieldOf(field, 'event_at'))
  if (event === undefined && input.event_at_precision !== undefined) throw precisionWithoutTime(field, 'event_at')
  if (input.quote === undefined && input.quote_language !== undefined) throw quoteLanguageWithoutQuote(field)
  return {
    id,
    text: input.text,
    quote: input.quote ?? null,
    quote_language: input.quote_language ?? null,
    stated_at: stated.instant,
    stated_at_precision: stated.precision,
    event_at: event?.instant ?? null,
    event_at_precision: event?.precision ?? null,
    location_name: input.location?.name ?? null,
    location_lat: input.location?.lat ?? null,
    location_lon: input.location?.lon ?? null,
    language: input.language ?? DEFAULT_LANGUAGE,
    certainty: input.certainty ?? null,
    tags: input.tags ?? [],
    sources: storedSourceList(input.sources ?? []),
    figures: storedFigures(input.figures ?? [], field),
    event: about,
    relayed_by: relays,
    created_by: createdBy,
  }
}

/**
 * The parties that relayed a claim, as `keys` (ids or slugs) name them among `parties` (locked by the caller): 422
 * naming the member for a key that names no party, the claimant itself (`claimant`, its key or id), or a party
 * already named.
 */
function relayingParties(
  parties: Map<string, { id: string; slug: string; name: string }>,
  claimant: string,
  keys: string[],
  field: string,
): PartyRef[] {
  const relays: PartyRef[] = []
  for (const [index, key] of keys.entries()) {
    const party = parties.get(key)
    const member = `${field}[${index}]`
    if (party === undefined) throw unknownParty(key, member)
    if (party.id === claimant.toLowerCase() || party.slug === claimant.toLowerCase()) {
      throw unprocessableField(
        'body',
        member,
        `is ${party.slug}, the claimant itself: a party that relays a claim reports what another said`,
      )
    }
    if (relays.some((relay) => relay.id === party.id)) {
      throw unprocessableField('body', member, `names ${party.slug} again: each relaying party once`)
    }
    relays.push({ id: party.id, slug: party.slug, name: party.name })
  }
  return relays
}

/** What a claim of these values says, as a read of the stored claim would: a new claim's first version. */
function contentOfValues(values: claims.NewClaimValues): ClaimVersion['claim'] {
  return storedContent({
    ...values,
    stated_at: new Date(values.stated_at),
    event_at: values.event_at === null ? null : new Date(values.event_at),
    event_id: values.event?.id ?? null,
    event_slug: values.event?.slug ?? null,
    event_name: values.event?.name ?? null,
    relayed_by_parties: values.relayed_by,
  })
}

const quoteLanguageWithoutQuote = (holder: string | undefined) =>
  invalidField('body', fieldOf(holder, 'quote_language'), 'needs quote: there is no quote to be in a language')

/**
 * Figures as a claim stores them, every member present (null when not stated), each as_of at its precision; 422
 * for a figure that is both a number and a range, or neither, a range whose low end is above its high end, and
 * a second figure of the same measure, unit and as_of. `holder` is the body member holding the claim, if any.
 */
function storedFigures(input: FigureInput[], holder: string | undefined): Figure[] {
  const seen = new Map<string, number>()
  return input.map((figure, index) => {
    const field = fieldOf(holder, `figures[${index}]`)
    const value = figure.value ?? null
    const low = figure.low ?? null
    const high = figure.high ?? null
    if (value !== null && (low !== null || high !== null)) {
      throw unprocessableField('body', `${field}.value`, 'excludes low and high: a figure is one number or a range')
    }
    if (value === null && low === null && high === null) {
      throw unprocessableField('body', field, 'needs a value, or a range of low and high (either may be open)')
    }
    if (low !== null && high !== null && low > high) {
      throw unprocessableField('body', `${field}.low`, `is above high (${low} > ${high})`)
    }
    let asOf: PreciseTime | null = null
    if (figure.as_of !== undefined && figure.as_of !== null) {
      asOf = storedTime(figure.as_of, figure.as_of_precision ?? undefined, `${field}.as_of`)
    } else if (figure.as_of_precision !== undefined && figure.as_of_precision !== null) {
      throw invalidField('body', `${field}.as_of_precision`, 'needs as_of: there is no time to be precise about')
    }
    const unit = figure.unit ?? null
    const key = JSON.stringify([figure.measure, unit, asOf?.instant ?? null])
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      throw unprocessableField(
        'body',
        field,
        `states ${figure.measure}${unit === null ? '' : ` in ${unit}`} ${asOf === null ? 'without an as_of' : `as of ${atPrecision(asOf.instant, asOf.precision)}`} ` +
          `again: figures[${earlier}] does already (one figure per measure, unit and as_of)`,
      )
    }
    seen.set(key, index)
    return {
      measure: figure.measure,
      value,
      low,
      high,
      unit,
      qualifier: figure.qualifier ?? null,
      as_of: asOf?.instant ?? null,
      as_of_precision: asOf?.precision ?? null,
    }
  })
}

/** A claim of a set-based create: what the API takes (the party by id or slug), and its id, when it brings one. */
export interface NewClaimRequest {
  input: CreateClaimInput
  id?: string
}

/**
 * Records many claims as recordClaim records one, in three statements however many they are: their parties
 * locked (all at once, in id order), the claims, and their first versions (from the rows the insert returns, by
 * the mapping every claim read uses). Each request gets its claim's id, or the problem of the rule it breaks.
 */
export async function recordClaims(
  trx: Transaction,
  requests: NewClaimRequest[],
  createdBy: string | null,
): Promise<Array<{ id: string } | { problem: ApiError }>> {
  const partyKeys = requests.flatMap(({ input }) => [input.party, ...(input.relayed_by ?? [])])
  const parties = await lockPartyReferences(trx, [...new Set(partyKeys)])
  const relaysOf = new Map<string, PartyRef[]>()
  const eventKeys = requests.flatMap(({ input }) => (input.event === undefined ? [] : [input.event]))
  const events = await lockEventReferences(trx, [...new Set(eventKeys)])
  const eventsById = new Map([...events.values()].map((event) => [event.id, event]))
  const rows: NewClaimRow[] = []
  const figuresOf = new Map<string, Figure[]>()
  const outcomes = requests.map(({ input, id }): { id: string } | { problem: ApiError } => {
    const party = parties.get(input.party)
    if (party === undefined) return { problem: unknownParty(input.party, 'party') }
    const event = input.event === undefined ? null : events.get(input.event)
    if (event === undefined) return { problem: unknownEvent(input.event ?? '', 'event') }
    const { party: _party, ...content } = input
    let relays: PartyRef[]
    try {
      relays = relayingParties(parties, input.party, input.relayed_by ?? [], 'relayed_by')
    } catch (problem) {
      if (problem instanceof ApiError) return { problem }
      throw problem
    }
    // Made here, not by the database, so that each request knows its row whatever order the rows come back in.
    // A rule it breaks (a range whose low end is above its high end) refuses this request alone.
    let made: ReturnType<typeof newClaimValues>
    try {
      made = newClaimValues(content, event, relays, id ?? randomUUID(), createdBy)
    } catch (error) {
      if (error instanceof ApiError) return { problem: error }
      throw error
    }
    const { figures: stated, event: _event, relayed_by: _relays, ...values } = made
    rows.push({
      ...values,
      sources: JSON.stringify(values.sources),
      party_id: party.id,
      event_id: event?.id ?? null,
      relayed_by: relays.map((relay) => relay.id),
    })
    figuresOf.set(values.id, stated)
    relaysOf.set(values.id, relays)
    return { id: values.id }
  })
  const stored = await claims.insertClaims(trx, rows)
  await figures.insertFigures(
    trx,
    stored.map((row) => ({ claim_id: row.id, figures: figuresOf.get(row.id) ?? [] })),
  )
  await insertVersions(
    trx,
    'claims',
    stored.map((row) => {
      const event = row.event_id === null ? undefined : eventsById.get(row.event_id)
      const content = storedContent({
        ...row,
        figures: figuresOf.get(row.id) ?? [],
        event_slug: event?.slug ?? null,
        event_name: event?.name ?? null,
        relayed_by_parties: relaysOf.get(row.id) ?? [],
      })
      return { recordId: row.id, version: row.version, snapshot: content }
    }),
    { recordedBy: createdBy },
  )
  return outcomes
}

export async function updateClaim(
  db: Db,
  id: string,
  patch: UpdateClaimInput,
  precondition: Precondition<Claim>,
  recordedBy: string | null,
): Promise<Claim> {
  return inTransaction(db, async (trx) => {
    // A new stated_at moves the last response time of the claims this one answers: they are recounted.
    const answered = patch.stated_at === undefined ? [] : await derived.lockClaimWithAnswered(trx, id)
    return reviseClaim(trx, id, patch, precondition, answered, { recordedBy, editNote: patch.edit_note })
  })
}

/**
 * Edits a claim within the caller's transaction, making a new version that `authorship` says who made and why.
 * `answered` are the claims it answers, locked by the caller after the claim itself when the patch moves
 * stated_at, for their recount.
 */
export async function reviseClaim(
  trx: Transaction,
  id: string,
  patch: UpdateClaimInput,
  precondition: Precondition<Claim>,
  answered: string[],
  authorship: VersionAuthorship,
): Promise<Claim> {
  // Checked with the other changes, before anything is written; written once the claim row is.
  let restatedFigures: Figure[] | undefined
  return reviseRecord(trx, CLAIM, id, precondition, authorship, {
    changes: async (current) => {
      const values: ClaimRowUpdate = {}
      if (patch.figures !== undefined) restatedFigures = storedFigures(patch.figures ?? [], undefined)
      if (patch.text !== undefined) values.text = patch.text
      if (patch.quote !== undefined) values.quote = patch.quote
      Object.assign(values, quoteLanguageChange(current, patch))
      Object.assign(values, restatedTimes(current, patch))
      if (patch.location !== undefined) {
        const location = patch.location === null ? null : mergeLocation(current, patch.location)
        values.location_name = location?.name ?? null
        values.location_lat = location?.lat ?? null
        values.location_lon = location?.lon ?? null
      }
      if (patch.language !== undefined) values.language = patch.language
      if (patch.certainty !== undefined) values.certainty = patch.certainty
      if (patch.tags !== undefined) values.tags = patch.tags
      if (patch.sources !== undefined) values.sources = storedSources(patch.sources)
      if (patch.event !== undefined) {
        values.event_id = patch.event === null ? null : (await lockEventReference(trx, patch.event, 'event')).id
      }
      if (patch.relayed_by !== undefined) {
        const keys = patch.relayed_by ?? []
        const relays = relayingParties(await lockPartyReferences(trx, keys), current.party_id, keys, 'relayed_by')
        values.relayed_by = relays.map((relay) => relay.id)
      }
      return values
    },
    follow: async (current, values) => {
      if (restatedFigures !== undefined) await figures.replaceFigures(trx, current.id, restatedFigures)
      if (values.stated_at !== undefined) {
        await keepRestatementsInOrder(trx, current.id)
        await checkTimeOrderOfClaim(trx, current.id, { in: 'body', field: 'stated_at' })
      }
      await derived.claimRestated(
        trx,
        { id: current.id, tags: values.tags ?? current.tags, stated_at: values.stated_at ?? current.stated_at },
        { tags: values.tags !== undefined, statedAt: values.stated_at !== undefined },
        answered,
      )
    },
  })
}

/**
 * Refuses a new stated_at that would put a correction or retraction before the claim it corrects or retracts, as
 * linking them in that order is refused: 422, naming both times. Times are compared as the spans they are (a
 * correction dated to the day of the claim it corrects is not before it). Runs after the claim's update.
 */
async function keepRestatementsInOrder(trx: Transaction, id: string): Promise<void> {
  for (const link of await links.restatementsOfClaim(trx, id)) {
    if (!statedBefore(link.from, link.to)) continue
    throw unprocessableField(
      'body',
      'stated_at',
      `would put claim ${link.from.id} (stated ${written(link.from)}) before claim ${link.to.id} (stated ` +
        `${written(link.to)}) that it ${link.kind === 'retracts' ? 'retracts' : 'corrects'}: a correction or ` +
        'retraction comes after the claim it corrects or retracts',
    )
  }
}

/** The quote language a patch leaves: the quote's, so clearing the quote clears it, and without one none is set. */
function quoteLanguageChange(current: ClaimRecord, patch: UpdateClaimInput): ClaimRowUpdate {
  const quote = patch.quote !== undefined ? patch.quote : current.quote
  if (quote === null) {
    if (patch.quote_language !== undefined && patch.quote_language !== null) throw quoteLanguageWithoutQuote(undefined)
    return current.quote_language === null ? {} : { quote_language: null }
  }
  return patch.quote_language === undefined ? {} : { quote_language: patch.quote_language }
}

/**
 * The time columns a patch changes. A time given alone takes the precision it is written to, or the one given
 * beside it; a precision given alone applies to the time the claim has, known no more finely than it was.
 */
function restatedTimes(current: ClaimRecord, patch: UpdateClaimInput): ClaimRowUpdate {
  const values: ClaimRowUpdate = {}
  if (patch.stated_at !== undefined || patch.stated_at_precision !== undefined) {
    const time = patch.stated_at ?? { instant: current.stated_at.toISOString(), precision: current.stated_at_precision }
    const stated = storedTime(time, patch.stated_at_precision, 'stated_at')
    values.stated_at = stated.instant
    values.stated_at_precision = stated.precision
  }
  if (patch.event_at === null) {
    if (patch.event_at_precision !== undefined) throw precisionWithoutTime(undefined, 'event_at')
    values.event_at = null
    values.event_at_precision = null
  } else if (patch.event_at !== undefined || patch.event_at_precision !== undefined) {
    const time =
      patch.event_at ??
      (current.event_at === null
        ? undefined
        : { instant: current.event_at.toISOString(), precision: current.event_at_precision ?? 'second' })
    if (time === undefined) throw precisionWithoutTime(undefined, 'event_at')
    const event = storedTime(time, patch.event_at_precision, 'event_at')
    values.event_at = event.instant
    values.event_at_precision = event.precision
  }
  return values
}

/**
 * The changes that bring a claim to a whole restatement of what it says (what a create request takes): a field
 * the restatement leaves out is cleared. Its times are taken as they would be stored, so that a time given finer
 * than a millisecond compares equal.
 */
export function restatedClaimChanges(current: Claim, wanted: Omit<CreateClaimInput, 'party'>): UpdateClaimInput {
  const {
    event: _event,
    relayed_by: _relays,
    ...content
  } = contentOfValues(newClaimValues(wanted, null, [], current.id, null))
  const patch: UpdateClaimInput = {}
  for (const [field, value] of Object.entries(content)) {
    if (!sameJson(current[field as keyof typeof content], value)) Object.assign(patch, { [field]: value })
  }
  // The event is named by id or slug: a new key that names the claim's own event changes nothing.
  const eventKey = wanted.event?.toLowerCase()
  if (
    eventKey === undefined ? current.event !== null : eventKey !== current.event?.id && eventKey !== current.event?.slug
  ) {
    patch.event = wanted.event ?? null
  }
  // Relaying parties are named by id or slug: the same parties in the same order change nothing.
  const relayKeys = (wanted.relayed_by ?? []).map((key) => key.toLowerCase())
  const sameRelays =
    relayKeys.length === current.relayed_by.length &&
    relayKeys.every((key, index) => key === current.relayed_by[index]?.id || key === current.relayed_by[index]?.slug)
  if (!sameRelays) patch.relayed_by = wanted.relayed_by ?? []
  // A time and its precision change together: a time alone would take the precision it is written to.
  if (patch.stated_at !== undefined || patch.stated_at_precision !== undefined) {
    patch.stated_at = content.stated_at
    patch.stated_at_precision = content.stated_at_precision
  }
  if (patch.event_at !== undefined || patch.event_at_precision !== undefined) {
    patch.event_at = content.event_at
    if (content.event_at_precision === null) delete patch.event_at_precision
    else patch.event_at_precision = content.event_at_precision
  }
  return patch
}

/** Equality of JSON values, whatever the order of object members (jsonb keeps its own). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined)
  const bKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined)
  if (aKeys.length !== bKeys.length) return false
  return aKeys.every((key) => sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}

/** A location patch merged into the claim's current location: members it leaves out keep their value. */
function mergeLocation(current: ClaimRecord, patch: NonNullable<UpdateClaimInput['location']>) {
  const name = patch.name ?? current.location_name
  if (name === null) {
    throw invalidField('body', 'location.name', 'is required: the claim has no location yet to merge into')
  }
  const lat = patch.lat !== undefined ? patch.lat : current.location_lat
  const lon = patch.lon !== undefined ? patch.lon : current.location_lon
  if ((lat === null) !== (lon === null)) {
    const missing = lat === null ? 'lat' : 'lon'
    throw invalidField('body', `location.${missing}`, 'must be set or cleared together with the other coordinate')
  }
  return { name, lat, lon }
}

/**
 * Deletes a claim, with its links and reviews. `deleter` is the key deleting it: a claim is its creator's to
 * delete (the precondition checks that), but the links and reviews of it that other keys made are theirs, so
 * only an admin key deletes a claim while it has any.
 */
export async function deleteClaim(
  db: Db,
  id: string,
  precondition: Precondition<Claim>,
  deleter: ApiKeyIdentity | null,
): Promise<void> {
  await inTransaction(db, (trx) => removeClaim(trx, id, precondition, deleter))
}

/**
 * Deletes a claim within the caller's transaction, as deleteClaim does; `options.at` dates the deletion (an
 * import stating when it happened), and `options.pairCounts` defers the matrix's counts to the caller's end.
 */
export async function removeClaim(
  trx: Transaction,
  id: string,
  precondition: Precondition<Claim>,
  deleter: ApiKeyIdentity | null,
  options: { at?: Date; pairCounts?: derived.PendingPairCounts } = {},
): Promise<void> {
  const stamp = { by: deleter?.id ?? null, at: options.at }
  await derived.lockClaimWithAnswered(trx, id)
  await removeRecord(trx, CLAIM, id, precondition, stamp, {
    check: async (current) => {
      if (deleter !== null && grants(deleter.scopes, 'admin')) return
      const others = await claims.othersWorkOnClaim(trx, current.id, deleter?.id ?? null)
      if (others.links > 0 || others.reviews > 0) {
        throw new ApiError(
          'conflict',
          `claim ${current.id} has ${others.links} link(s) and ${others.reviews} review(s) made with other API ` +
            'keys, which deleting it would delete too; their keys may delete them first, or an admin key the claim',
        )
      }
    },
    // A deleted claim neither answers nor is answered: its links go with it, and the claims it answered no
    // longer count it.
    follow: async (current) => {
      const removed = await links.softDeleteLinksOfClaim(trx, current.id, stamp)
      await reviews.softDeleteReviewsOfClaim(trx, current.id, stamp)
      await derived.claimDeleted(
        trx,
        current.id,
        removed.map((link) => ({
          kind: link.kind,
          fromPartyId: link.from_party_id,
          toPartyId: link.to_party_id,
          toClaimId: link.to_claim_id,
        })),
        options.pairCounts,
      )
    },
  })
}

/** Every version of a claim, newest first; the first is the current one, or its deletion. */
export async function listClaimHistory(db: Db, id: string, limit: number, beforeVersion: number | undefined) {
  return listRecordHistory(db, CLAIM, id, limit, beforeVersion, (snapshot): Pick<ClaimVersion, 'claim'> => {
    const claim = snapshot as ClaimVersion['claim']
    // Versions kept before times had a precision hold full instants, to the second; those kept before quote
    // languages and certainty had neither.
    return {
      claim: {
        ...claim,
        quote_language: claim.quote_language ?? null,
        certainty: claim.certainty ?? null,
        stated_at_precision: claim.stated_at_precision ?? 'second',
        // Versions kept before claims had events were of claims about none.
        event: claim.event ?? null,
        // Versions kept before claims named who relayed them name none.
        relayed_by: claim.relayed_by ?? [],
        event_at_precision: claim.event_at === null ? null : (claim.event_at_precision ?? 'second'),
        // Versions kept before claims stated figures state none.
        figures: claim.figures ?? [],
      },
    }
  })
}

/** How similar (pg_trgm's similarity of the texts) a new claim and a live one of its party are to be duplicates. */
export const DUPLICATE_MIN_SCORE = 0.8
/** How far apart, in days either way of the new claim's stated_at, a duplicate may have been stated. */
export const DUPLICATE_WINDOW_DAYS = 7
const DUPLICATE_CANDIDATES = 5

/** A live claim that a new one closely matches. */
export interface DuplicateCandidate {
  id: string
  score: number
}

/**
 * The live claims of the new claim's party, stated within DUPLICATE_WINDOW_DAYS of it, whose text is at least
 * DUPLICATE_MIN_SCORE similar to its own, best first. A claim the create would refuse anyway (an unknown party, a
 * time that is no time) has none.
 */
export async function findDuplicateClaims(
  db: Db,
  input: Pick<CreateClaimInput, 'party' | 'text' | 'stated_at'>,
): Promise<DuplicateCandidate[]> {
  const stated = parsePartialDateTime(input.stated_at)
  if (stated === undefined) return []
  return claims.duplicateCandidates(db, {
    partyKey: input.party,
    text: input.text,
    statedAt: stated.instant,
    windowDays: DUPLICATE_WINDOW_DAYS,
    minScore: DUPLICATE_MIN_SCORE,
    limit: DUPLICATE_CANDIDATES,
  })
}

/** The refusal of a new claim that duplicates others, when the caller asked for strict handling. */
export function duplicateClaimProblem(candidates: DuplicateCandidate[], field?: string): ApiError {
  const named = candidates.map((candidate) => `${candidate.id} (${candidate.score.toFixed(2)})`).join(', ')
  return new ApiError(
    'duplicate-claim',
    `${field === undefined ? 'the claim' : field} closely matches live claims of its party stated within ` +
      `${DUPLICATE_WINDOW_DAYS} days of it: ${named}; nothing was recorded (send it without Prefer: ` +
      'handling=strict to record it anyway)',
    {
      members: {
        duplicates: candidates.map((candidate) => ({ ...candidate, href: `/v1/claims/${candidate.id}` })),
      },
      headers: { 'preference-applied': 'handling=strict' },
    },
  )
}

/**
 * The live claims whose text is most similar to claim `id`'s, best first, among those sharing its distinctive
 * words, with what was searched; 404 or 410 for a claim that does not exist or was deleted.
 */
export async function listSimilarClaims(db: Db, id: string, query: SimilarClaimsFilter) {
  const claim = await getClaim(db, id)
  const partyId = query.party === undefined ? undefined : await resolvePartyFilter(db, query.party, 'party')
  const { rows, scope } = await claims.similarClaims(db, {
    id: claim.id,
    partyId,
    statedAfter: filterBound(query.stated_after),
    statedBefore: filterBound(query.stated_before),
    minScore: query.min_score ?? SIMILAR_MIN_SCORE,
    limit: query.limit ?? 10,
    ...SIMILAR_SEARCH_BOUNDS,
  })
  return {
    data: rows.map((row) => ({ score: Math.round(row.score * 1000) / 1000, claim: toClaim(row) })),
    searched: { words: scope.words, claims: scope.scored, complete: scope.complete },
  }
}
