import type { Kysely } from 'kysely'
import type { ClaimRowUpdate, Database } from '../db/schema.js'
import { notFound } from '../http/problem-details.js'
import * as claims from '../repositories/claim.repository.js'
import type { ClaimListOrder, ClaimRecord } from '../repositories/claim.repository.js'
import type {
  Claim,
  ClaimListFilter,
  ClaimSort,
  ClaimVersion,
  CreateClaimInput,
  UpdateClaimInput,
} from '../schemas/claim.schema.js'
import { lockPartyReference, type Precondition, resolvePartyFilter } from './party.service.js'

type Db = Kysely<Database>

export function toClaim(row: ClaimRecord): Claim {
  return {
    id: row.id,
    party: { id: row.party_id, slug: row.party_slug, name: row.party_name },
    text: row.text,
    quote: row.quote,
    stated_at: row.stated_at.toISOString(),
    event_at: row.event_at?.toISOString() ?? null,
    location:
      row.location_name === null ? null : { name: row.location_name, lat: row.location_lat, lon: row.location_lon },
    language: row.language,
    tags: row.tags,
    sources: row.sources,
    status: row.rebuttal_count > 0 ? 'disputed' : 'unchallenged',
    rebuttal_count: row.rebuttal_count,
    support_count: row.support_count,
    last_response_at: row.last_response_at?.toISOString() ?? null,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

/** What a claim says, as kept for each version: everything an edit can change. */
function contentOf(claim: Claim): ClaimVersion['claim'] {
  const { text, quote, stated_at, event_at, location, language, tags, sources } = claim
  return { text, quote, stated_at, event_at, location, language, tags, sources }
}

export async function getClaim(db: Db, id: string): Promise<Claim> {
  const row = await claims.findClaimById(db, id)
  if (row === undefined) throw notFound(`claim ${id}`)
  return toClaim(row)
}

export async function createClaim(db: Db, input: CreateClaimInput): Promise<Claim> {
  return db.transaction().execute(async (trx) => {
    const partyId = await lockPartyReference(trx, input.party, 'party')
    const id = await claims.insertClaim(trx, {
      party_id: partyId,
      text: input.text,
      quote: input.quote ?? null,
      stated_at: input.stated_at,
      event_at: input.event_at ?? null,
      location_name: input.location?.name ?? null,
      location_lat: input.location?.lat ?? null,
      location_lon: input.location?.lon ?? null,
      language: input.language,
      tags: input.tags,
      sources: input.sources === undefined ? undefined : JSON.stringify(input.sources),
    })
    const created = await getClaim(trx, id)
    await claims.insertClaimVersion(trx, id, created.version, contentOf(created))
    return created
  })
}

export async function updateClaim(
  db: Db,
  id: string,
  patch: UpdateClaimInput,
  precondition: Precondition<Claim>,
): Promise<Claim> {
  return db.transaction().execute(async (trx) => {
    const current = await claims.findClaimById(trx, id, { forUpdate: true })
    if (current === undefined) throw notFound(`claim ${id}`)
    precondition(toClaim(current))

    const values: ClaimRowUpdate = {}
    if (patch.text !== undefined) values.text = patch.text
    if (patch.quote !== undefined) values.quote = patch.quote
    if (patch.stated_at !== undefined) values.stated_at = patch.stated_at
    if (patch.event_at !== undefined) values.event_at = patch.event_at
    if (patch.location !== undefined) {
      values.location_name = patch.location?.name ?? null
      values.location_lat = patch.location?.lat ?? null
      values.location_lon = patch.location?.lon ?? null
    }
    if (patch.language !== undefined) values.language = patch.language
    if (patch.tags !== undefined) values.tags = patch.tags
    if (patch.sources !== undefined) values.sources = JSON.stringify(patch.sources)
    await claims.updateClaim(trx, id, values)

    const updated = await getClaim(trx, id)
    await claims.insertClaimVersion(trx, id, updated.version, contentOf(updated))
    return updated
  })
}

export async function deleteClaim(db: Db, id: string, precondition: Precondition<Claim>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const current = await claims.findClaimById(trx, id, { forUpdate: true })
    if (current === undefined) throw notFound(`claim ${id}`)
    precondition(toClaim(current))
    await claims.softDeleteClaim(trx, id)
  })
}

const ORDERS: Record<ClaimSort, { order: ClaimListOrder; descending: boolean }> = {
  '-stated_at': { order: 'stated_at', descending: true },
  stated_at: { order: 'stated_at', descending: false },
  '-created_at': { order: 'created_at', descending: true },
  created_at: { order: 'created_at', descending: false },
  relevance: { order: 'relevance', descending: true },
}

/** Up to `limit + 1` claims: the extra one tells the caller that another page follows. */
export async function listClaims(
  db: Db,
  filter: ClaimListFilter,
  sort: ClaimSort,
  after: [string | number, string] | undefined,
) {
  const partyId = filter.party === undefined ? undefined : await resolvePartyFilter(db, filter.party, 'party')
  const sideId = filter.side === undefined ? undefined : await resolvePartyFilter(db, filter.side, 'side')
  const rows = await claims.listClaims(db, {
    partyId,
    sideId,
    tags: filter.tag,
    language: filter.language,
    disputed: filter.status === undefined ? undefined : filter.status === 'disputed',
    statedAfter: filter.stated_after,
    statedBefore: filter.stated_before,
    text: filter.q,
    ...ORDERS[sort],
    after,
    limit: filter.limit + 1,
  })
  return rows.map((row) => ({ claim: toClaim(row), rank: row.rank }))
}

/** Every version of a live claim, newest first; the first is the current one. */
export async function listClaimHistory(db: Db, id: string, limit: number, beforeVersion: number | undefined) {
  await getClaim(db, id)
  const rows = await claims.listClaimVersions(db, id, limit + 1, beforeVersion)
  return rows.map((row): ClaimVersion => ({
    version: row.version,
    recorded_at: row.recorded_at.toISOString(),
    claim: row.snapshot as ClaimVersion['claim'],
  }))
}
