import { inTransaction } from '../db/transaction.js'
import type { Db, PartyRowUpdate } from '../db/schema.js'
import { ApiError, invalidField, unknownReference } from '../errors/problems.js'
import * as parties from '../repositories/party.repository.js'
import type { PartyRecord } from '../repositories/party.repository.js'
import { type VersionAuthorship, insertVersions } from '../repositories/record-version.js'
import { assertSlugShape } from './slug-shape.js'
import {
  type CreatePartyInput,
  type Party,
  type PartyListFilter,
  type PartyVersion,
  PartyVersionSchema,
  type UpdatePartyInput,
} from '../schemas/party.schema.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { countList } from './list-count.js'
import type { Precondition } from './precondition.js'
import type { ApiKeyIdentity } from '../schemas/api-key.schema.js'
import { listRecordHistory, readRecord, recordKind, removeRecord, reviseRecord, snapshotOf } from './record-revision.js'

export function toParty(row: PartyRecord): Party {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    kind: row.kind as Party['kind'],
    country: row.country,
    side:
      row.side_id !== null && row.side_slug !== null && row.side_name !== null
        ? { id: row.side_id, slug: row.side_slug, name: row.side_name }
        : null,
    wikidata: row.wikidata,
    description: row.description,
    url: row.url,
    logo: row.logo,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

const PARTY = recordKind('party', 'parties', parties.findPartyByKey, toParty, PartyVersionSchema.properties.party)

export async function getParty(db: Db, key: string): Promise<Party> {
  return readRecord(db, PARTY, key)
}

/** The list's filters, resolved: an unknown side is a problem answer. */
async function partyListQuery(db: Db, filter: PartyListFilter) {
  const sideId = filter.side === undefined ? undefined : await resolvePartyFilter(db, filter.side, 'side')
  return { kind: filter.kind, country: filter.country, sideId }
}

/**
 * Up to `limit + 1` parties in slug order: the extra one tells that another page follows. `backward`, the ones
 * before `afterSlug`, nearest first.
 */
export async function listParties(
  db: Db,
  filter: PartyListFilter,
  page: { limit: number; afterSlug?: string; backward?: boolean },
) {
  const query = await partyListQuery(db, filter)
  const rows = await parties.listParties(db, { ...query, ...page, limit: page.limit + 1 })
  return rows.map(toParty)
}

/** How many parties the list's filters match, as `count` asks. */
export async function countParties(db: Db, filter: PartyListFilter, kind: CountKind): Promise<ListTotal> {
  return countList(db, parties.matchingParties(db, await partyListQuery(db, filter)), kind)
}

/** Every party of the list, in slug order, read as the client takes them, in chunks (see keysetChunks). */
export async function exportParties(db: Db, filter: PartyListFilter, timeoutMs: number): Promise<AsyncIterable<Party>> {
  const query = await partyListQuery(db, filter)
  const rows = keysetChunks(
    // A live slug names one party: the slug alone orders them.
    (after, limit) => parties.listParties(db, { ...query, afterSlug: after?.[0] as string | undefined, limit }),
    (row) => [row.slug, row.id],
    timeoutMs,
  )
  return mapRows(rows, toParty)
}

/** `createdBy`: the API key recording it (null from the command line), the one that may change it later. */
export async function createParty(db: Db, input: CreatePartyInput, createdBy: string | null): Promise<Party> {
  return inTransaction(db, (trx) => recordParty(trx, input, createdBy))
}

/** Records a party and its first version, made by `createdBy`, within the caller's transaction. */
export async function recordParty(trx: Db, input: CreatePartyInput, createdBy: string | null): Promise<Party> {
  assertSlugShape(input.slug, 'a party')
  const sideId = input.side === undefined ? null : await lockPartyReference(trx, input.side, 'side')
  const id = await withSlugConflict(input.slug, () =>
    parties.insertParty(trx, {
      slug: input.slug,
      name: input.name,
      kind: input.kind,
      country: input.country ?? null,
      side_id: sideId,
      wikidata: input.wikidata ?? null,
      description: input.description ?? null,
      url: input.url ?? null,
      logo: input.logo ?? null,
      created_by: createdBy,
    }),
  )
  const party = await getParty(trx, id)
  const snapshot = snapshotOf(party, PARTY.versions.fields)
  await insertVersions(trx, 'parties', [{ recordId: id, version: party.version, snapshot }], { recordedBy: createdBy })
  return party
}

export async function updateParty(
  db: Db,
  key: string,
  patch: UpdatePartyInput,
  precondition: Precondition<Party>,
  recordedBy: string | null,
): Promise<Party> {
  if (patch.slug !== undefined) assertSlugShape(patch.slug, 'a party')
  return inTransaction(db, (trx) =>
    reviseParty(trx, key, patch, precondition, { recordedBy, editNote: patch.edit_note }),
  )
}

/**
 * Edits a party within the caller's transaction, `authorship` saying who made the change and why; the caller has
 * checked the shape of a new slug.
 */
export async function reviseParty(
  trx: Db,
  key: string,
  patch: UpdatePartyInput,
  precondition: Precondition<Party>,
  authorship: VersionAuthorship,
): Promise<Party> {
  const revise = () =>
    reviseRecord(trx, PARTY, key, precondition, authorship, {
      changes: async (current) => {
        const values: PartyRowUpdate = {}
        if (patch.slug !== undefined) values.slug = patch.slug
        if (patch.name !== undefined) values.name = patch.name
        if (patch.kind !== undefined) values.kind = patch.kind
        if (patch.country !== undefined) values.country = patch.country
        if (patch.wikidata !== undefined) values.wikidata = patch.wikidata
        if (patch.description !== undefined) values.description = patch.description
        if (patch.url !== undefined) values.url = patch.url
        if (patch.logo !== undefined) values.logo = patch.logo
        if (patch.side !== undefined) {
          values.side_id = patch.side === null ? null : await lockPartyReference(trx, patch.side, 'side')
          if (values.side_id === current.id) throw invalidField('body', 'side', 'cannot be the party itself')
          if (values.side_id !== null && (await parties.sideChainReaches(trx, values.side_id, current.id))) {
            throw invalidField('body', 'side', 'would make a cycle: that party already speaks for this one')
          }
        }
        return values
      },
    })
  // Only a new slug can collide with another party's.
  return patch.slug === undefined ? revise() : withSlugConflict(patch.slug, revise)
}

/**
 * The changes that bring a party to a whole restatement of it (what a create request takes, with its side found
 * and locked): a field the restatement leaves out is cleared.
 */
export function restatedPartyChanges(
  current: PartyRecord,
  wanted: Pick<CreatePartyInput, 'slug' | 'name' | 'kind' | 'country' | 'wikidata' | 'description' | 'url' | 'logo'>,
  sideId: string | null,
): UpdatePartyInput {
  const fields: Required<{ [K in keyof PartyRowUpdate & keyof UpdatePartyInput]: unknown }> = {
    slug: wanted.slug,
    name: wanted.name,
    kind: wanted.kind,
    country: wanted.country ?? null,
    wikidata: wanted.wikidata ?? null,
    description: wanted.description ?? null,
    url: wanted.url ?? null,
    logo: wanted.logo ?? null,
  }
  const patch: UpdatePartyInput = {}
  for (const [field, value] of Object.entries(fields)) {
    if (current[field as keyof typeof fields] !== value) Object.assign(patch, { [field]: value })
  }
  if (sideId !== current.side_id) patch.side = sideId
  return patch
}

export async function deleteParty(
  db: Db,
  key: string,
  precondition: Precondition<Party>,
  deleter: ApiKeyIdentity | null,
): Promise<void> {
  await inTransaction(db, (trx) => removeParty(trx, key, precondition, deleter))
}

/** Deletes a party within the caller's transaction, as deleteParty does, at `at` when given (else now). */
export async function removeParty(
  trx: Db,
  key: string,
  precondition: Precondition<Party>,
  deleter: ApiKeyIdentity | null,
  at?: Date,
): Promise<void> {
  await removeRecord(
    trx,
    PARTY,
    key,
    precondition,
    { by: deleter?.id ?? null, at },
    {
      check: async (current) => {
        const dependents = await parties.countPartyDependents(trx, current.id)
        if (dependents.claims > 0 || dependents.parties > 0 || dependents.reviews > 0 || dependents.relayed > 0) {
          throw new ApiError(
            'conflict',
            `party ${current.slug} still has ${dependents.claims} claim(s), ${dependents.reviews} review(s), ` +
              `${dependents.relayed} claim(s) it relayed and ${dependents.parties} party(ies) speaking for it; ` +
              'delete or move those first',
          )
        }
      },
    },
  )
}

/** Every version of a party (by id or slug), newest first; the first is the current one, or its deletion. */
export async function listPartyHistory(db: Db, key: string, limit: number, beforeVersion: number | undefined) {
  return listRecordHistory(db, PARTY, key, limit, beforeVersion, (snapshot): Pick<PartyVersion, 'party'> => ({
    party: snapshot as PartyVersion['party'],
  }))
}

/** The id of the party a query parameter names by id or slug; a 422 naming the parameter when there is none. */
export async function resolvePartyFilter(db: Db, key: string, parameter: string): Promise<string> {
  const id = await parties.findPartyId(db, key)
  if (id === undefined) throw unknownReference('query', parameter, `no party has the id or slug ${key}`)
  return id
}

/**
 * The id of the party a request body refers to by id or slug (a claim's party, a party's side); a 422 naming the
 * field when there is none. The party stays locked until `trx` ends: a delete racing with this write waits for it
 * and then refuses, instead of leaving a live record that points at a deleted party.
 */
export async function lockPartyReference(trx: Db, key: string, field: string): Promise<string> {
  const id = await parties.findPartyId(trx, key, { forShare: true })
  if (id === undefined) throw unknownParty(key, field)
  return id
}

export const unknownParty = (key: string, field: string) =>
  unknownReference('body', field, `no party has the id or slug ${key}`)

/**
 * The parties that many references name by id or slug, each locked as lockPartyReference locks it, in one query.
 * A key that names no live party has no entry: its line gets `unknownParty`.
 */
export async function lockPartyReferences(trx: Db, keys: string[]): Promise<Map<string, LockedParty>> {
  const rows = await parties.findPartiesByKeys(trx, keys, { forShare: true })
  const byKey = new Map<string, LockedParty>()
  for (const party of rows) {
    byKey.set(party.id, party)
    byKey.set(party.slug, party)
  }
  const found = new Map<string, LockedParty>()
  for (const key of keys) {
    const party = byKey.get(key.toLowerCase())
    if (party !== undefined) found.set(key, party)
  }
  return found
}

type LockedParty = { id: string; slug: string; name: string; kind: string }

export const slugTaken = (slug: string) =>
  new ApiError('conflict', `a party with the slug ${slug} already exists`, {
    errors: [{ in: 'body', field: 'slug', message: 'is taken by another party' }],
  })

async function withSlugConflict<T>(slug: string, write: () => Promise<T>): Promise<T> {
  try {
    return await parties.refusingTakenSlug(write())
  } catch (error) {
    if (error instanceof parties.PartySlugTakenError) throw slugTaken(slug)
    throw error
  }
}
