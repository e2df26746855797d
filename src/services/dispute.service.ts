import type { Db } from '../db/schema.js'
import * as disputes from '../repositories/dispute.repository.js'
import type { DisputeOrder } from '../repositories/dispute.repository.js'
import {
  type Dispute,
  type DisputeListFilter,
  type DisputeSort,
  LATEST_REBUTTALS,
  type Matrix,
  MATRIX_CELLS_DEFAULT,
  type MatrixFilter,
  type RebuttalSummary,
} from '../schemas/dispute.schema.js'
import { type ClaimListKey, listKeyValue } from './claim-list.service.js'
import { toClaim } from './claim.service.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { resolveEventFilter } from './event.service.js'
import { resolvePartyFilter } from './party.service.js'
import { filterBound } from '../schemas/time.schema.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { countList } from './list-count.js'

const ORDERS: Record<DisputeSort, DisputeOrder> = {
  '-last_response_at': 'last_response_at',
  '-disputed_since': 'disputed_since',
  '-rebuttal_count': 'rebuttal_count',
  '-stated_at': 'stated_at',
}

/** The repository query of the disputes list: its filters resolved (an unknown party is a 422), in the order asked. */
async function disputeListQuery(db: Db, filter: DisputeListFilter, sort: DisputeSort) {
  const [partyId, sideId, rebuttedById, reviewedById, eventId, relayedById] = await Promise.all([
    filter.party === undefined ? undefined : resolvePartyFilter(db, filter.party, 'party'),
    filter.side === undefined ? undefined : resolvePartyFilter(db, filter.side, 'side'),
    filter.rebutted_by === undefined ? undefined : resolvePartyFilter(db, filter.rebutted_by, 'rebutted_by'),
    filter.reviewed_by === undefined ? undefined : resolvePartyFilter(db, filter.reviewed_by, 'reviewed_by'),
    filter.event === undefined ? undefined : resolveEventFilter(db, filter.event, 'event'),
    filter.relayed_by === undefined ? undefined : resolvePartyFilter(db, filter.relayed_by, 'relayed_by'),
  ])
  return {
    partyId,
    relayedById,
    eventId,
    sideId,
    rebuttedById,
    verdicts: filter.verdict,
    reviewedById,
    tags: filter.tag,
    measures: filter.measure,
    text: filter.q,
    minRebuttals: filter.min_rebuttals,
    disputedAspects: filter.aspect,
    disputedMeasure: filter.disputed_measure,
    standings: filter.standing,
    certainties: filter.certainty,
    statedAfter: filterBound(filter.since),
    statedBefore: filterBound(filter.until),
    disputedAfter: filterBound(filter.disputed_after),
    disputedBefore: filterBound(filter.disputed_before),
    answeredAfter: filterBound(filter.answered_after),
    answeredBefore: filterBound(filter.answered_before),
    order: ORDERS[sort],
    descending: true,
  }
}

type DisputeListQuery = Awaited<ReturnType<typeof disputeListQuery>>

/** A rebutting claim in short, from its row (its stated_at a Date) or its JSON (PostgreSQL's text form). */
function toRebuttalSummary(row: Omit<disputes.LatestRebuttalJson, 'stated_at'> & { stated_at: Date | string }) {
  return {
    link_id: row.link_id,
    note: row.note,
    aspect: row.aspect,
    measure: row.measure,
    claim: {
      id: row.id,
      party: { id: row.party_id, slug: row.party_slug, name: row.party_name },
      text: row.text,
      stated_at: new Date(row.stated_at).toISOString(),
      stated_at_precision: row.stated_at_precision,
    },
  } satisfies RebuttalSummary
}

/** Up to `limit + 1` disputes (the extra one tells that another page follows), each with its list key. */
export async function listDisputes(
  db: Db,
  filter: DisputeListFilter,
  page: { sort: DisputeSort; limit: number; after: ClaimListKey | undefined; backward?: boolean },
) {
  const query = await disputeListQuery(db, filter, page.sort)
  const descending = page.backward ? !query.descending : query.descending
  return disputesAfter(db, { ...query, descending }, page.after, page.limit + 1, page.limit)
}

/**
 * Up to `limit` disputes after `after`, with the latest rebuttals of the first `withRebuttals` of them, asked for
 * in one query after the rows.
 */
async function disputesAfter(
  db: Db,
  query: DisputeListQuery,
  after: ClaimListKey | undefined,
  limit: number,
  withRebuttals = limit,
) {
  const rows = await disputes.listDisputedClaims(db, { ...query, after, limit })
  const latest = await disputes.latestRebuttals(
    db,
    rows.slice(0, withRebuttals).map((row) => row.id),
    LATEST_REBUTTALS,
  )
  const latestByClaim = new Map<string, RebuttalSummary[]>()
  for (const row of latest) {
    const summaries = latestByClaim.get(row.rebutted_id) ?? []
    summaries.push(toRebuttalSummary(row))
    latestByClaim.set(row.rebutted_id, summaries)
  }
  return rows.map((row) => {
    const dispute: Dispute = { claim: toClaim(row), latest_rebuttals: latestByClaim.get(row.id) ?? [] }
    return { dispute, key: [listKeyValue(row.sort_key), row.id] as ClaimListKey }
  })
}

/** How many disputes the list's filters match, as `count` asks. */
export async function countDisputes(db: Db, filter: DisputeListFilter, kind: CountKind): Promise<ListTotal> {
  const query = await disputeListQuery(db, filter, '-stated_at')
  return countList(db, disputes.matchingDisputedClaims(db, query), kind)
}

/** Every dispute of the list, in its order, read as the client takes them, page by page (see exportClaims). */
export async function exportDisputes(
  db: Db,
  filter: DisputeListFilter,
  sort: DisputeSort,
  timeoutMs: number,
): Promise<AsyncIterable<Dispute>> {
  const query = await disputeListQuery(db, filter, sort)
  const rows = keysetChunks(
    (after, limit) => disputes.disputedClaimsWithRebuttals(db, { ...query, after, limit }, LATEST_REBUTTALS),
    (row) => [listKeyValue(row.sort_key), row.id],
    timeoutMs,
  )
  return mapRows(rows, ({ latest_rebuttals, ...row }) => ({
    claim: toClaim(row),
    latest_rebuttals: latest_rebuttals.map(toRebuttalSummary),
  }))
}

export async function getMatrix(db: Db, filter: MatrixFilter): Promise<Matrix> {
  const by = filter.by ?? 'party'
  const kind = filter.kind ?? 'rebuts'
  const limit = filter.limit ?? MATRIX_CELLS_DEFAULT
  const rows = await disputes.rebuttalMatrix(db, {
    by,
    kind,
    tags: filter.tag,
    statedAfter: filterBound(filter.since),
    statedBefore: filterBound(filter.until),
    limit: limit + 1,
  })
  return {
    by,
    kind,
    cells: rows.slice(0, limit).map((row) => {
      const claimant = { id: row.claimant_id, slug: row.claimant_slug, name: row.claimant_name }
      const responder = { id: row.rebutter_id, slug: row.rebutter_slug, name: row.rebutter_name }
      const count = Number(row.rebuttals)
      // The rebuttal matrix keeps the names its cells first had, for the clients that read them.
      return kind === 'rebuts'
        ? { claimant, responder, count, rebutter: responder, rebuttals: count }
        : { claimant, responder, count }
    }),
    truncated: rows.length > limit,
  }
}
