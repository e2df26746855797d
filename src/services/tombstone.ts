import type { Db } from '../db/schema.js'
import { ApiError, type FieldError, notFound } from '../errors/problems.js'
import * as tombstones from '../repositories/tombstone.repository.js'
import type { DeletionRow, ListedTombstoneRow } from '../repositories/tombstone.repository.js'
import { filterBound } from '../schemas/time.schema.js'
import type { Tombstone, TombstoneKind, TombstoneListFilter } from '../schemas/tombstone.schema.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { countList } from './list-count.js'

/** How many characters of a claim's text its tombstone's label keeps, cut at a word. */
const LABEL_TEXT_CHARACTERS = 80

/** The first words of a text, up to LABEL_TEXT_CHARACTERS, with an ellipsis when cut. */
export function firstWords(text: string): string {
  const words = text.trim().split(/\s+/)
  let kept = ''
  for (const word of words) {
    const next = kept === '' ? word : `${kept} ${word}`
    if (next.length > LABEL_TEXT_CHARACTERS) return `${kept === '' ? word.slice(0, LABEL_TEXT_CHARACTERS) : kept}\u2026`
    kept = next
  }
  return kept
}

function deletion(kind: TombstoneKind, row: DeletionRow, label: string, history: string | null): Tombstone {
  return {
    kind,
    id: row.id,
    label,
    deleted_at: row.deleted_at.toISOString(),
    deleted_by:
      row.deleted_by_id === null || row.deleted_by_name === null
        ? null
        : { id: row.deleted_by_id, name: row.deleted_by_name },
    history,
  }
}

function claimTombstone(row: tombstones.ClaimTombstoneRow): Tombstone {
  return {
    ...deletion('claim', row, `${row.party_name}: ${firstWords(row.text)}`, `/v1/claims/${row.id}/history`),
    party: { id: row.party_id, slug: row.party_slug, name: row.party_name },
  }
}

const partyTombstone = (row: DeletionRow & { slug: string; name: string }) =>
  deletion('party', row, `${row.name} (${row.slug})`, `/v1/parties/${row.id}/history`)

const eventTombstone = (row: DeletionRow & { slug: string; name: string }) =>
  deletion('event', row, `${row.name} (${row.slug})`, `/v1/events/${row.id}/history`)

function reviewTombstone(row: tombstones.ReviewTombstoneRow): Tombstone {
  const label = `${row.reviewer_name}'s review of claim ${row.claim_id}`
  return {
    ...deletion('review', row, label, `/v1/reviews/${row.id}/history`),
    reviewer: { id: row.reviewer_id, slug: row.reviewer_slug, name: row.reviewer_name },
    claim_id: row.claim_id,
  }
}

function linkTombstone(row: tombstones.LinkTombstoneRow): Tombstone {
  const label = `${row.from_party_slug}'s claim ${row.kind} ${row.to_party_slug}'s claim`
  return {
    ...deletion('link', row, label, `/v1/links/${row.id}/history`),
    from_claim_id: row.from_claim_id,
    to_claim_id: row.to_claim_id,
    link_kind: row.kind,
  }
}

/** A deleted record with its version at deletion, which its history's last entry carries. */
export type VersionedTombstone = Tombstone & { version: number }

/** The tombstone of the record of this kind and key (an id, or a party's or event's slug), when it was deleted. */
export async function findTombstone(db: Db, kind: TombstoneKind, key: string): Promise<VersionedTombstone | undefined> {
  switch (kind) {
    case 'claim': {
      const [row] = await tombstones.findDeletedClaims(db, [key])
      return row && { ...claimTombstone(row), version: row.version }
    }
    case 'party': {
      const row = await tombstones.findDeletedParty(db, key)
      return row && { ...partyTombstone(row), version: row.version }
    }
    case 'event': {
      const row = await tombstones.findDeletedEvent(db, key)
      return row && { ...eventTombstone(row), version: row.version }
    }
    case 'review': {
      const row = await tombstones.findDeletedReview(db, key)
      return row && { ...reviewTombstone(row), version: row.version }
    }
    case 'link': {
      const row = await tombstones.findDeletedLink(db, key)
      return row && { ...linkTombstone(row), version: row.version }
    }
  }
}

/** The tombstones of the deleted claims among `ids`, by id (lower case). */
export async function findClaimTombstones(db: Db, ids: string[]): Promise<Map<string, Tombstone>> {
  const rows = await tombstones.findDeletedClaims(db, ids)
  return new Map(rows.map((row) => [row.id, claimTombstone(row)]))
}

/**
 * The 410 of a deleted record, with its tombstone; `field` names where the request named it, when that was not
 * the path (a link's claim in a body, an import line's ref).
 */
export function gone(tombstone: Tombstone, field?: FieldError): ApiError {
  const by = tombstone.deleted_by === null ? '' : ` with the API key ${tombstone.deleted_by.name}`
  const history = tombstone.history === null ? '' : `; its history stays at ${tombstone.history}`
  const { version: _version, ...members } = tombstone as VersionedTombstone
  return new ApiError(
    'gone',
    `${tombstone.kind} ${tombstone.id} was deleted at ${tombstone.deleted_at}${by}${history}`,
    { members: { tombstone: members }, ...(field === undefined ? {} : { errors: [field] }) },
  )
}

/** The answer to a request for a record of this kind that no live record has: 410 when deleted, else 404. */
export async function missingRecord(db: Db, kind: TombstoneKind, key: string, what = `${kind} ${key}`) {
  const tombstone = await findTombstone(db, kind, key)
  return tombstone === undefined ? notFound(what) : gone(tombstone)
}

/** A column that the branch of the row's kind fills (the list's other branches leave it null). */
function filled(value: string | null, column: string): string {
  if (value === null) throw new Error(`a listed tombstone has no ${column}`)
  return value
}

/** A row of the list as the tombstone its record answers with. */
function listedTombstone(row: ListedTombstoneRow): Tombstone {
  // A claim's party, a review's reviewer, or the deleted party or event itself.
  const party = () => ({
    party_id: filled(row.party_id, 'party_id'),
    party_slug: filled(row.party_slug, 'party_slug'),
    party_name: filled(row.party_name, 'party_name'),
  })
  switch (row.kind) {
    case 'party':
      return partyTombstone({ ...row, slug: party().party_slug, name: party().party_name })
    case 'event':
      return eventTombstone({ ...row, slug: party().party_slug, name: party().party_name })
    case 'claim':
      return claimTombstone({ ...row, ...party(), text: filled(row.text, 'text') })
    case 'review':
      return reviewTombstone({
        ...row,
        claim_id: filled(row.claim_id, 'claim_id'),
        reviewer_id: party().party_id,
        reviewer_slug: party().party_slug,
        reviewer_name: party().party_name,
      })
    case 'link':
      return linkTombstone({
        ...row,
        kind: filled(row.link_kind, 'link_kind'),
        from_claim_id: filled(row.from_claim_id, 'from_claim_id'),
        to_claim_id: filled(row.to_claim_id, 'to_claim_id'),
        from_party_slug: filled(row.from_party_slug, 'from_party_slug'),
        to_party_slug: filled(row.to_party_slug, 'to_party_slug'),
      })
  }
}

/** A tombstone's position in the list: when its record was deleted, then its id. */
export type TombstoneListKey = [string, string]

const listQuery = (filter: TombstoneListFilter) => ({
  kind: filter.kind,
  deletedAfter: filterBound(filter.deleted_after),
  deletedBefore: filterBound(filter.deleted_before),
})

/** Up to `limit + 1` tombstones, newest deleted first, after the position `after` when given. */
export async function listTombstones(
  db: Db,
  filter: TombstoneListFilter,
  page: { limit: number; after: TombstoneListKey | undefined; backward?: boolean },
) {
  const rows = await tombstones.listTombstones(db, { ...listQuery(filter), ...page, limit: page.limit + 1 })
  return rows.map((row) => {
    const tombstone = listedTombstone(row)
    return { tombstone, key: [tombstone.deleted_at, tombstone.id] as TombstoneListKey }
  })
}

/** How many deleted records the list's filters match, as `count` asks. */
export async function countTombstones(db: Db, filter: TombstoneListFilter, kind: CountKind): Promise<ListTotal> {
  return countList(db, tombstones.matchingTombstones(listQuery(filter)), kind)
}

/** Every tombstone of the list, newest deleted first, read as the client takes them (see keysetChunks). */
export function exportTombstones(db: Db, filter: TombstoneListFilter, timeoutMs: number): AsyncIterable<Tombstone> {
  const query = listQuery(filter)
  const rows = keysetChunks(
    (after, limit) => tombstones.listTombstones(db, { ...query, after: after as TombstoneListKey | undefined, limit }),
    (row) => [row.deleted_at.toISOString(), row.id],
    timeoutMs,
  )
  return mapRows(rows, listedTombstone)
}
