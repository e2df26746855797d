// The claim list: a page at a time, or whole as an export; and the keys its cursors hold.
import type { Db } from '../db/schema.js'
import * as claims from '../repositories/claim.repository.js'
import { CLAIM_CSV_HEADER, claimExportChunk } from '../repositories/claim-export.repository.js'
import type { ClaimListOrder } from '../repositories/claim.repository.js'
import type { Claim, ClaimListFilter, ClaimSort } from '../schemas/claim.schema.js'
import { toClaim } from './claim.service.js'
import { idChunks, keysetChunks, keysetTexts, mapRows } from './export-rows.js'
import { resolveEventFilter } from './event.service.js'
import { resolvePartyFilter } from './party.service.js'
import { filterBound } from '../schemas/time.schema.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { countList } from './list-count.js'

const ORDERS: Record<ClaimSort, { order: ClaimListOrder; descending: boolean }> = {
  '-stated_at': { order: 'stated_at', descending: true },
  stated_at: { order: 'stated_at', descending: false },
  '-created_at': { order: 'created_at', descending: true },
  created_at: { order: 'created_at', descending: false },
  relevance: { order: 'relevance', descending: true },
}

/** A claim's position in a list: the value it is sorted by, then the id that breaks ties. */
export type ClaimListKey = [string | number, string]

/** A sort value as a cursor holds it: timestamps as `toISOString()` text, ranks and counts as numbers. */
export const listKeyValue = (value: Date | number): string | number =>
  value instanceof Date ? value.toISOString() : value

/** The repository query of a claim list: its filters resolved (an unknown party is a 422), in the order asked. */
async function claimListQuery(db: Db, filter: ClaimListFilter, sort: ClaimSort) {
  const partyId = filter.party === undefined ? undefined : await resolvePartyFilter(db, filter.party, 'party')
  const sideId = filter.side === undefined ? undefined : await resolvePartyFilter(db, filter.side, 'side')
  const reviewedById =
    filter.reviewed_by === undefined ? undefined : await resolvePartyFilter(db, filter.reviewed_by, 'reviewed_by')
  const eventId = filter.event === undefined ? undefined : await resolveEventFilter(db, filter.event, 'event')
  const relayedById =
    filter.relayed_by === undefined ? undefined : await resolvePartyFilter(db, filter.relayed_by, 'relayed_by')
  const { order, descending } = ORDERS[sort]
  return {
    partyId,
    relayedById,
    eventId,
    sideId,
    tags: filter.tag,
    measures: filter.measure,
    language: filter.language,
    disputed: filter.status === undefined ? undefined : filter.status === 'disputed',
    unanswered: filter.status === 'unanswered',
    standings: filter.standing,
    certainties: filter.certainty,
    verdicts: filter.verdict,
    reviewedById,
    statedAfter: filterBound(filter.stated_after),
    statedBefore: filterBound(filter.stated_before),
    text: filter.q,
    order,
    descending,
  }
}

/**
 * Up to `limit + 1` claims (the extra one tells that another page follows), each with its list key; `backward`,
 * the ones before `after` in the list, nearest first.
 */
export async function listClaims(
  db: Db,
  filter: ClaimListFilter,
  page: { sort: ClaimSort; limit: number; after: ClaimListKey | undefined; backward?: boolean },
) {
  const query = await claimListQuery(db, filter, page.sort)
  const descending = page.backward ? !query.descending : query.descending
  const rows = await claims.listClaims(db, { ...query, descending, after: page.after, limit: page.limit + 1 })
  return rows.map((row) => {
    const claim = toClaim(row)
    return { claim, key: [listKeyValue(row.sort_key), claim.id] as ClaimListKey }
  })
}

/** How many claims the list's filters match, as `count` asks. */
export async function countClaims(db: Db, filter: ClaimListFilter, kind: CountKind): Promise<ListTotal> {
  const query = await claimListQuery(db, filter, '-stated_at')
  return countList(db, claims.matchingClaims(db, query), kind)
}

/**
 * Every claim of the list, in its order, read as the client takes them, in chunks (see keysetChunks). The
 * filters are resolved first, so that a bad one is still a problem answer. By relevance, every match is ranked
 * once, in one query under the statement timeout of every query, and then read in that order.
 */
export async function exportClaims(
  db: Db,
  filter: ClaimListFilter,
  sort: ClaimSort,
  timeoutMs: number,
): Promise<AsyncIterable<Claim>> {
  const query = await claimListQuery(db, filter, sort)
  if (query.order === 'relevance') {
    const ids = await claims.rankedClaimIds(db, query)
    return mapRows(
      idChunks(ids, (chunk) => claims.findClaimsByIds(db, chunk), timeoutMs),
      toClaim,
    )
  }
  const rows = keysetChunks(
    (after, limit) => claims.listClaims(db, { ...query, after, limit }),
    (row) => [listKeyValue(row.sort_key), row.id],
    timeoutMs,
  )
  return mapRows(rows, toClaim)
}

/**
 * The claim list as CSV or NDJSON, written by the database chunk after chunk (see keysetTexts), a CSV's header row
 * first: the rows of exportClaims, in an order other than relevance, with the columns of CLAIM_CSV_COLUMNS or as
 * the JSON of each claim. `rows`: only the first so many.
 */
export async function exportClaimsWritten(
  db: Db,
  filter: ClaimListFilter,
  sort: Exclude<ClaimSort, 'relevance'>,
  format: 'csv' | 'ndjson',
  options: { timeoutMs: number; rows?: number },
): Promise<AsyncIterable<string>> {
  const query = await claimListQuery(db, filter, sort)
  return keysetTexts<ClaimListKey>((after, limit) => claimExportChunk(db, { ...query, after, limit }, format), {
    head: format === 'csv' ? CLAIM_CSV_HEADER : '',
    limitMs: options.timeoutMs,
    rows: options.rows,
  })
}
