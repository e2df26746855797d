import type { Db } from '../db/schema.js'
import { ApiError, type FieldError, notFound } from '../errors/problems.js'
import * as tombstones from '../repositories/tombstone.repository.js'
import type { DeletionRow } from '../repositories/tombstone.repository.js'
import type { Tombstone, TombstoneKind } from '../schemas/tombstone.schema.js'

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

/** A deleted record with its version at deletion, which its history's last entry carries. */
export type VersionedTombstone = Tombstone & { version: number }

/** The tombstone of the record of this kind and key (an id, or a party's slug), when it was deleted. */
export async function findTombstone(db: Db, kind: TombstoneKind, key: string): Promise<VersionedTombstone | undefined> {
  switch (kind) {
    case 'claim': {
      const [row] = await tombstones.findDeletedClaims(db, [key])
      return row && { ...claimTombstone(row), version: row.version }
    }
    case 'party': {
      const row = await tombstones.findDeletedParty(db, key)
      if (row === undefined) return undefined
      const label = `${row.name} (${row.slug})`
      return { ...deletion('party', row, label, `/v1/parties/${row.id}/history`), version: row.version }
    }
    case 'review': {
      const row = await tombstones.findDeletedReview(db, key)
      if (row === undefined) return undefined
      const label = `${row.reviewer_name}'s review of claim ${row.claim_id}`
      return {
        ...deletion('review', row, label, `/v1/reviews/${row.id}/history`),
        reviewer: { id: row.reviewer_id, slug: row.reviewer_slug, name: row.reviewer_name },
        claim_id: row.claim_id,
        version: row.version,
      }
    }
    case 'link': {
      const row = await tombstones.findDeletedLink(db, key)
      if (row === undefined) return undefined
      const label = `${row.from_party_slug}'s claim ${row.kind} ${row.to_party_slug}'s claim`
      return {
        ...deletion('link', row, label, `/v1/links/${row.id}/history`),
        from_claim_id: row.from_claim_id,
        to_claim_id: row.to_claim_id,
        version: row.version,
      }
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
