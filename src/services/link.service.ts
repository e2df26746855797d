import { randomUUID } from 'node:crypto'
import { inTransaction, type Transaction } from '../db/transaction.js'
import type { Db } from '../db/schema.js'
import { ApiError, type FieldError, notFound, unknownReference, unprocessableField } from '../errors/problems.js'
import * as claims from '../repositories/claim.repository.js'
import * as links from '../repositories/link.repository.js'
import { sideChainPairs } from '../repositories/party.repository.js'
import { type VersionAuthorship, insertVersions } from '../repositories/record-version.js'
import type { LinkKind, LinkRecord } from '../repositories/link.repository.js'
import type { LinkAspect } from '../db/schema.js'
import type { CreateClaimInput } from '../schemas/claim.schema.js'
import {
  type CreateLinkInput,
  type CreateRebuttalInput,
  type Link,
  type LinkListFilter,
  type LinkVersion,
  LinkVersionSchema,
  type Rebuttal,
  type UpdateLinkInput,
} from '../schemas/link.schema.js'
import { getClaim, recordClaim, toClaim } from './claim.service.js'
import * as derived from './derived-state.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { countList } from './list-count.js'
import { resolvePartyFilter } from './party.service.js'
import type { Precondition } from './precondition.js'
import type { ApiKeyIdentity } from '../schemas/api-key.schema.js'
import type { Tombstone } from '../schemas/tombstone.schema.js'
import { findClaimTombstones, gone, missingRecord } from './tombstone.js'
import {
  listRecordHistory,
  readRecord,
  recordKind,
  removeRecord,
  type Revision,
  reviseRecord,
} from './record-revision.js'
import { NEW_CLAIM, outOfTimeOrder, statedBefore, written } from './time-order.js'

export function toLink(row: LinkRecord): Link {
  return {
    id: row.id,
    kind: row.kind,
    from_claim_id: row.from_claim_id,
    to_claim_id: row.to_claim_id,
    from_party: { id: row.from_party_id, slug: row.from_party_slug, name: row.from_party_name },
    to_party: { id: row.to_party_id, slug: row.to_party_slug, name: row.to_party_name },
    note: row.note,
    prebuttal: row.prebuttal,
    aspect: row.aspect,
    measure: row.measure,
    from_claim_stated_at: row.from_claim_stated_at.toISOString(),
    to_claim_stated_at: row.to_claim_stated_at.toISOString(),
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

const LINK = recordKind('link', 'links', links.findLinkById, toLink, LinkVersionSchema.properties.link)

/** The version 1 of new links, each made by the key its request names. */
async function recordFirstVersions(
  trx: Db,
  made: Array<{ id: string; createdBy: string | null } & LinkVersion['link']>,
): Promise<void> {
  for (const recordedBy of new Set(made.map((link) => link.createdBy))) {
    const versions = made
      .filter((link) => link.createdBy === recordedBy)
      .map(({ id, note, prebuttal, aspect, measure }) => ({
        recordId: id,
        version: 1,
        snapshot: { note, prebuttal, aspect, measure },
      }))
    await insertVersions(trx, 'links', versions, { recordedBy })
  }
}

export async function getLink(db: Db, id: string): Promise<Link> {
  return readRecord(db, LINK, id)
}

/** How the request names each end of a link, so that a problem points at the right field. */
export interface LinkEnds {
  from: { in: FieldError['in']; field: string }
  to: { in: FieldError['in']; field: string }
}

const BODY_ENDS: LinkEnds = {
  from: { in: 'body', field: 'from_claim_id' },
  to: { in: 'body', field: 'to_claim_id' },
}

/** A link to make: its two claims (by id), kind and note, and the key making it. */
export interface LinkRequest {
  fromClaimId: string
  toClaimId: string
  kind: LinkKind
  note: string | null
  /** Whether the response may be stated before the claim it answers. */
  prebuttal: boolean
  /** The part of the claim it answers (null: the whole), and for a figure its measure. */
  aspect: LinkAspect | null
  measure: string | null
  createdBy: string | null
}

/** The kinds of link that may name the part of the claim they answer. */
const ANSWERS_IN_PART: ReadonlySet<LinkKind> = new Set(['rebuts', 'supports'])

/**
 * Refuses an aspect on a link that does not answer a claim (a repeat, correction or retraction), and a measure
 * without the figure aspect; `where` is where the request gives them.
 */
export function assertAspect(
  link: { kind: LinkKind; aspect: LinkAspect | null; measure: string | null },
  where: FieldError['in'],
): void {
  if (link.aspect !== null && !ANSWERS_IN_PART.has(link.kind)) {
    throw unprocessableField(
      where,
      'aspect',
      `is ${link.aspect}, on a link of kind ${link.kind}: only a rebuttal or support answers a part of a claim`,
    )
  }
  if (link.measure !== null && link.aspect !== 'figure') {
    throw unprocessableField(
      where,
      'measure',
      `is ${link.measure}, with aspect ${link.aspect ?? 'null'}: a measure names the figure disputed, so it goes ` +
        'with aspect figure',
    )
  }
}

/**
 * What a set-based link did with one request: made the link, or refused it with the problem of the first rule it
 * breaks; `existing` is the live link already joining its two claims, when that is what refused it.
 */
export type LinkOutcome = { id: string } | { problem: ApiError; existing?: { id: string; kind: LinkKind } }

/**
 * Links one claim to another within the caller's transaction, and recounts the answered claim. Both claims are
 * locked first (in id order): a concurrent delete of either waits, and two links to one claim are counted one
 * after the other. The rebuttal matrix's count moves at once, or, when `pending` is given, is left to the
 * caller, which makes several links and moves the counts of all of them together, in key order.
 */
export async function linkClaims(
  trx: Transaction,
  request: LinkRequest,
  ends: LinkEnds = BODY_ENDS,
  pending?: derived.PendingPairCounts,
): Promise<Link> {
  const [outcome] = await linkClaimsMany(trx, [request], ends, pending)
  if (outcome === undefined || 'problem' in outcome) throw outcome?.problem ?? new Error('no outcome for the link')
  return getLink(trx, outcome.id)
}

/**
 * Links many pairs of claims as linkClaims links one, in four statements however many they are: their claims
 * locked (all at once, in id order), each checked by the rules against them and against the live links between
 * the same claims (one query), then the links and the answered claims' recount. The matrix's counts move as
 * linkClaims moves them.
 */
export async function linkClaimsMany(
  trx: Transaction,
  requests: LinkRequest[],
  ends: LinkEnds,
  pending?: derived.PendingPairCounts,
): Promise<LinkOutcome[]> {
  // Ids are compared with those the database returns, which are lower case; a uuid may arrive in either.
  const wanted = requests.map((request) => ({
    ...request,
    fromClaimId: request.fromClaimId.toLowerCase(),
    toClaimId: request.toClaimId.toLowerCase(),
  }))
  const named = [...new Set(wanted.filter(notSelfLink).flatMap((link) => [link.fromClaimId, link.toClaimId]))]
  const locked = await derived.lockClaims(trx, named)
  const deleted = await findClaimTombstones(
    trx,
    named.filter((id) => !locked.some((claim) => claim.id === id)),
  )
  const outcomes: LinkOutcome[] = []
  let valid: Array<{ index: number; link: LinkRequest } & ReturnType<typeof linkedClaims>> = []
  for (const [index, link] of wanted.entries()) {
    try {
      assertAspect(link, ends.from.in)
      const claims = linkedClaims(link, locked, deleted, ends)
      if (!link.prebuttal && statedBefore(claims.from, claims.to)) {
        throw outOfTimeOrder(claims.from, claims.to, prebuttalField(ends))
      }
      valid.push({ index, link, ...claims })
    } catch (problem) {
      if (!(problem instanceof ApiError)) throw problem
      outcomes[index] = { problem }
    }
  }
  const offLine = await restatementsAcrossSides(trx, valid, ends)
  for (const [index, problem] of offLine) outcomes[index] = { problem }
  valid = valid.filter(({ index }) => !offLine.has(index))
  const pair = (link: { fromClaimId: string; toClaimId: string }) => `${link.fromClaimId}/${link.toClaimId}`
  // One statement answers another one way: it cannot both rebut and support it.
  const existing = new Map<string, { id: string; kind: LinkKind }>(
    (
      await links.findLiveLinksBetween(
        trx,
        valid.map(({ link }) => link),
      )
    ).map((row) => [pair({ fromClaimId: row.from_claim_id, toClaimId: row.to_claim_id }), row]),
  )
  const made: Array<links.NewLink & { id: string }> = []
  for (const { index, link, from, to } of valid) {
    const other = existing.get(pair(link))
    if (other !== undefined) {
      outcomes[index] = { problem: linkTaken(link, other), existing: other }
      continue
    }
    const id = randomUUID()
    made.push({
      ...link,
      id,
      fromPartyId: from.party_id,
      toPartyId: to.party_id,
      toClaim: to,
      fromClaimStatedAt: from.stated_at,
    })
    existing.set(pair(link), { id, kind: link.kind })
    outcomes[index] = { id }
  }
  await links.insertLinks(trx, made)
  await recordFirstVersions(trx, made)
  await derived.linksAdded(trx, made, pending)
  return outcomes
}

/** Where a request says whether its link is a prebuttal: beside the responding claim. */
const prebuttalField = (ends: LinkEnds) => ({ in: ends.from.in, field: 'prebuttal' })

const notSelfLink = (link: { fromClaimId: string; toClaimId: string }) => link.fromClaimId !== link.toClaimId

const selfLink = (ends: LinkEnds) =>
  unprocessableField(ends.from.in, ends.from.field, 'must be another claim: a claim cannot answer itself')

type LockedClaim = Awaited<ReturnType<typeof derived.lockClaims>>[number]

/** The kinds of link by which a party corrects or withdraws its own earlier claim, rather than answers another's. */
const RESTATEMENTS: ReadonlySet<LinkKind> = new Set(['corrects', 'retracts'])
const isRestatement = (kind: LinkKind) => RESTATEMENTS.has(kind)

/**
 * The two claims of a new link, found among the claims locked for it (`lockClaims` returns live ones only), with
 * the problem of the first rule they break: a claim answering itself, a claim that is not there (or `deleted`), a
 * rebuttal or support between two claims of one party, a correction or retraction stated before what it corrects.
 * linkClaimsMany checks many links against one lock of all their claims with it; whether a correction's two
 * parties are on one side chain, it asks the database for all of them at once (restatementsAcrossSides).
 */
function linkedClaims(
  link: { fromClaimId: string; toClaimId: string; kind: LinkKind },
  locked: LockedClaim[],
  deleted: Map<string, Tombstone>,
  ends: LinkEnds,
): { from: LockedClaim; to: LockedClaim } {
  if (link.fromClaimId === link.toClaimId) throw selfLink(ends)
  const from = locked.find((claim) => claim.id === link.fromClaimId)
  const to = locked.find((claim) => claim.id === link.toClaimId)
  for (const [claim, end, id] of [
    [to, ends.to, link.toClaimId],
    [from, ends.from, link.fromClaimId],
  ] as const) {
    if (claim !== undefined) continue
    const tombstone = deleted.get(id)
    if (tombstone !== undefined) {
      throw gone(tombstone, end.in === 'path' ? undefined : { ...end, message: `names claim ${id}, which was deleted` })
    }
    if (end.in === 'path') throw notFound(`claim ${id}`)
    throw unknownReference(end.in, end.field, `no live claim has the id ${id}`)
  }
  if (from === undefined || to === undefined) throw new Error('unreachable: both ends were checked')
  if (isRestatement(link.kind)) {
    if (statedBefore(from, to)) throw restatementBeforeClaim(link, from, to, ends)
  } else if (from.party_id === to.party_id) throw samePartyLink(ends, link.kind)
  return { from, to }
}

/** The verb of a correction or retraction, for problems. */
const restating = (kind: LinkKind) => (kind === 'retracts' ? 'retracts' : 'corrects')

const restatementBeforeClaim = (link: { kind: LinkKind }, from: LockedClaim, to: LockedClaim, ends: LinkEnds) =>
  unprocessableField(
    ends.from.in,
    ends.from.field,
    `is claim ${from.id}, stated ${written(from)}, before claim ${to.id} that it ` +
      `${restating(link.kind)} (stated ${written(to)}): a correction or retraction ` +
      'comes after the claim it corrects or retracts',
  )

/**
 * The corrections and retractions among `valid` whose two claims are of parties on different side chains (neither
 * is the other nor speaks for it, directly or through others), each with its problem, by request index.
 */
async function restatementsAcrossSides(
  trx: Transaction,
  valid: Array<{ index: number; link: LinkRequest; from: LockedClaim; to: LockedClaim }>,
  ends: LinkEnds,
): Promise<Map<number, ApiError>> {
  const between = valid.filter(({ link, from, to }) => isRestatement(link.kind) && from.party_id !== to.party_id)
  const problems = new Map<number, ApiError>()
  if (between.length === 0) return problems
  const key = (a: string, b: string) => `${a}/${b}`
  const wanted = new Map(
    between.map(({ from, to }) => [key(from.party_id, to.party_id), { a: from.party_id, b: to.party_id }]),
  )
  const pairs = new Map((await sideChainPairs(trx, [...wanted.values()])).map((row) => [key(row.a, row.b), row]))
  for (const { index, link, from, to } of between) {
    const pair = pairs.get(key(from.party_id, to.party_id))
    if (pair === undefined) throw new Error(`no side chain answer for parties ${from.party_id} and ${to.party_id}`)
    if (pair.related) continue
    problems.set(
      index,
      unprocessableField(
        ends.from.in,
        ends.from.field,
        `is a claim of ${pair.a_slug}, and claim ${to.id} is one of ${pair.b_slug}: a claim ${restating(link.kind)} ` +
          'only a claim of its own party, or of a party on its side chain (one speaks for the other, directly or ' +
          'through others)',
      ),
    )
  }
  return problems
}

const samePartyLink = (ends: Pick<LinkEnds, 'from'>, kind: LinkKind = 'rebuts') =>
  unprocessableField(
    ends.from.in,
    ends.from.field,
    kind === 'repeats'
      ? 'is a claim of the same party: a repeat is an echo by another party (a party saying the same again ' +
          'makes no repeat of itself; it may correct or retract its own claims)'
      : 'is a claim of the same party: a rebuttal or support joins claims of different parties (a party corrects ' +
          'or retracts its own claims)',
  )

/** The conflict of a new link with the live link already between its two claims. */
const linkTaken = (link: { fromClaimId: string; toClaimId: string }, existing: { id: string; kind: LinkKind }) =>
  new ApiError(
    'conflict',
    `claim ${link.fromClaimId} already ${existing.kind} claim ${link.toClaimId} (link ${existing.id}); ` +
      'delete that link first to link them otherwise',
  )

/** `createdBy`: the API key making it, the one that may delete it later. */
export async function createLink(db: Db, input: CreateLinkInput, createdBy: string | null): Promise<Link> {
  const link = {
    fromClaimId: input.from_claim_id,
    toClaimId: input.to_claim_id,
    kind: input.kind,
    note: input.note ?? null,
    prebuttal: input.prebuttal ?? false,
    aspect: input.aspect ?? null,
    measure: input.measure ?? null,
    createdBy,
  }
  return inTransaction(db, (trx) => linkClaims(trx, link))
}

/** Changes a link's note, whether it is a prebuttal, or what part of the claim it answers: a new version. */
export async function updateLink(
  db: Db,
  id: string,
  patch: UpdateLinkInput,
  precondition: Precondition<Link>,
  recordedBy: string | null,
): Promise<Link> {
  const wanted = (current: LinkRecord): LinkVersion['link'] => {
    const aspect = patch.aspect === undefined ? current.aspect : patch.aspect
    // A measure belongs to a figure: changing the aspect away from figure takes the old one away with it.
    const kept = aspect === 'figure' ? current.measure : null
    return {
      note: patch.note === undefined ? current.note : patch.note,
      prebuttal: patch.prebuttal ?? current.prebuttal,
      aspect,
      measure: patch.measure === undefined ? kept : patch.measure,
    }
  }
  const movesCounts = patch.prebuttal === false || patch.aspect !== undefined || patch.measure !== undefined
  return inTransaction(db, (trx) =>
    reviseRecord(
      trx,
      LINK,
      id,
      precondition,
      { recordedBy, editNote: patch.edit_note },
      linkRevision(trx, wanted, movesCounts),
    ),
  )
}

/**
 * An edit of a link to `wanted` (from the link as it is). Turning prebuttal off checks both claims' times, and a
 * new aspect of a rebuttal moves the disputed aspects of the claim it answers: either locks both claims first, in
 * id order and before the link as every link writer does (`lockEnds`), since the link as read may be stale.
 */
function linkRevision(
  trx: Transaction,
  wanted: (current: LinkRecord) => LinkVersion['link'],
  lockClaimsFirst: boolean,
): Revision<'links', LinkRecord, Link> {
  return {
    lockBefore: (link) => (lockClaimsFirst ? lockEnds(trx, link) : Promise.resolve()),
    changes: async (current) => {
      const next = wanted(current)
      assertAspect({ kind: current.kind, ...next }, 'body')
      if (current.prebuttal && !next.prebuttal) await assertInTimeOrder(trx, current)
      return next
    },
    follow: async (current, values) => {
      const answersAnew = values.aspect !== current.aspect || values.measure !== current.measure
      if (answersAnew && current.kind === 'rebuts') await derived.rebuttalRestated(trx, current.to_claim_id)
    },
  }
}

/**
 * Locks a link's two claims, in id order and before the link itself as every link writer does, so that the times
 * read for its check are the ones committed, and no claim edit can move them until the link's change is in.
 */
const lockEnds = (trx: Transaction, link: Pick<Link, 'from_claim_id' | 'to_claim_id'>) =>
  derived.lockClaims(trx, [link.from_claim_id, link.to_claim_id])

/** A link stops being a prebuttal only when its responding claim is not stated before the claim it answers. */
async function assertInTimeOrder(trx: Db, link: LinkRecord): Promise<void> {
  const times = await links.statedTimes(trx, [link.from_claim_id, link.to_claim_id])
  const from = times.find((claim) => claim.id === link.from_claim_id)
  const to = times.find((claim) => claim.id === link.to_claim_id)
  if (from !== undefined && to !== undefined && statedBefore(from, to)) {
    throw outOfTimeOrder(from, to, { in: 'body', field: 'prebuttal' }, link.id)
  }
}

/**
 * Sets what an edit can change of a link (its ends and kind never change) within the caller's transaction, as a
 * new version that `authorship` says who made; false when it is so already.
 */
export async function reviseLink(
  trx: Transaction,
  current: LinkRecord,
  wanted: LinkVersion['link'],
  precondition: Precondition<Link>,
  authorship: VersionAuthorship,
): Promise<boolean> {
  const same = (Object.keys(wanted) as Array<keyof LinkVersion['link']>).every(
    (field) => current[field] === wanted[field],
  )
  if (same) return false
  const movesCounts = !wanted.prebuttal || wanted.aspect !== current.aspect || wanted.measure !== current.measure
  await reviseRecord(
    trx,
    LINK,
    current.id,
    precondition,
    authorship,
    linkRevision(trx, () => wanted, movesCounts),
  )
  return true
}

/** Every version of a link, newest first; the first is the current one, or its deletion. */
export async function listLinkHistory(db: Db, id: string, limit: number, beforeVersion: number | undefined) {
  // Versions from before links named an aspect keep none: they answered the whole claim.
  return listRecordHistory(db, LINK, id, limit, beforeVersion, (snapshot): Pick<LinkVersion, 'link'> => ({
    link: { aspect: null, measure: null, ...(snapshot as Partial<LinkVersion['link']>) } as LinkVersion['link'],
  }))
}

export async function deleteLink(
  db: Db,
  id: string,
  precondition: Precondition<Link>,
  deleter: ApiKeyIdentity | null,
): Promise<void> {
  await inTransaction(db, (trx) => removeLink(trx, id, precondition, deleter))
}

/**
 * Deletes a link within the caller's transaction, as deleteLink does; `options.at` dates the deletion (an import
 * stating when it happened), and `options.pairCounts` defers the matrix's counts to the caller's end.
 */
export async function removeLink(
  trx: Transaction,
  id: string,
  precondition: Precondition<Link>,
  deleter: ApiKeyIdentity | null,
  options: { at?: Date; pairCounts?: derived.PendingPairCounts } = {},
): Promise<void> {
  await removeRecord(
    trx,
    LINK,
    id,
    precondition,
    { by: deleter?.id ?? null, at: options.at },
    {
      // The answered claim is locked before the link, in the order every link writer takes them.
      lockBefore: (link) => derived.lockClaims(trx, [link.to_claim_id]),
      follow: (link) =>
        derived.linksRemoved(
          trx,
          [
            {
              kind: link.kind,
              fromPartyId: link.from_party_id,
              toPartyId: link.to_party_id,
              toClaimId: link.to_claim_id,
            },
          ],
          options.pairCounts,
        ),
    },
  )
}

/** A link's position in the list: when it was made, then its id. */
export type LinkListKey = [string, string]

/** The list's filters, resolved: an unknown party or claim is a problem answer. */
async function linkListQuery(db: Db, filter: LinkListFilter) {
  const partyId = filter.party === undefined ? undefined : await resolvePartyFilter(db, filter.party, 'party')
  if (filter.claim !== undefined && !(await claims.claimIdTaken(db, filter.claim))) {
    throw unknownReference('query', 'claim', `no claim has the id ${filter.claim}`)
  }
  return { claimId: filter.claim, partyId, kind: filter.kind }
}

/** Up to `limit + 1` links, newest first (`backward`: those before `after`, nearest first), each with its key. */
export async function listLinks(
  db: Db,
  filter: LinkListFilter,
  page: { limit: number; after: LinkListKey | undefined; backward?: boolean },
) {
  const query = await linkListQuery(db, filter)
  const rows = await links.listLinks(db, { ...query, ...page, limit: page.limit + 1 })
  return rows.map((row) => {
    const link = toLink(row)
    return { link, key: [link.created_at, link.id] as LinkListKey }
  })
}

/** How many links the list's filters match, as `count` asks. */
export async function countLinks(db: Db, filter: LinkListFilter, kind: CountKind): Promise<ListTotal> {
  return countList(db, links.matchingLinks(db, await linkListQuery(db, filter)), kind)
}

/** Every link of the list, newest first, read as the client takes them, in chunks (see keysetChunks). */
export async function exportLinks(db: Db, filter: LinkListFilter, timeoutMs: number): Promise<AsyncIterable<Link>> {
  const query = await linkListQuery(db, filter)
  const rows = keysetChunks(
    (after, limit) => links.listLinks(db, { ...query, after: after as LinkListKey | undefined, limit }),
    (row) => [row.created_at.toISOString(), row.id],
    timeoutMs,
  )
  return mapRows(rows, toLink)
}

/**
 * Records a rebuttal of claim `claimId`: links an existing claim (`claim_id`), or records the counter-claim and
 * its link together (`claim`), in one transaction, so that either both exist afterwards or neither does.
 */
export async function createRebuttal(
  db: Db,
  claimId: string,
  input: CreateRebuttalInput,
  createdBy: string | null,
): Promise<Rebuttal> {
  if ((input.claim_id === undefined) === (input.claim === undefined)) {
    const message = 'give exactly one of claim_id (an existing claim) or claim (a new one)'
    throw new ApiError('validation-failed', message, {
      errors: [
        { in: 'body', field: 'claim_id', message },
        { in: 'body', field: 'claim', message },
      ],
    })
  }
  return inTransaction(db, async (trx) => {
    const said = {
      note: input.note ?? null,
      prebuttal: input.prebuttal ?? false,
      aspect: input.aspect ?? null,
      measure: input.measure ?? null,
    }
    if (input.claim !== undefined) return rebutWithNewClaim(trx, claimId, input.claim, said, createdBy)
    const fromClaimId = input.claim_id as string
    const ends: LinkEnds = { from: { in: 'body', field: 'claim_id' }, to: { in: 'path', field: 'id' } }
    const request = { fromClaimId, toClaimId: claimId, kind: 'rebuts' as const, ...said, createdBy }
    const link = await linkClaims(trx, request, ends)
    return { link, claim: await getClaim(trx, fromClaimId) }
  })
}

/**
 * Records a counter-claim and its rebuttal link to claim `claimId`, within the caller's transaction, in fewer
 * statements than linking an existing claim takes: the rebutted claim is locked and read in one, the counter-claim
 * recorded in one, and the link inserted without looking for a link already there or locking the counter-claim,
 * since a claim made in this transaction can have neither. The rebutted claim is locked first: a counter-claim to
 * nothing is never recorded, and a rule broken afterwards rolls the whole transaction back.
 */
async function rebutWithNewClaim(
  trx: Transaction,
  claimId: string,
  input: CreateClaimInput,
  said: LinkVersion['link'],
  createdBy: string | null,
): Promise<Rebuttal> {
  const { note, prebuttal, aspect, measure } = said
  assertAspect({ kind: 'rebuts', aspect, measure }, 'body')
  const target = await claims.findClaimById(trx, claimId.toLowerCase(), { forUpdate: true })
  if (target === undefined) throw await missingRecord(trx, 'claim', claimId)
  const claim = await recordClaim(trx, input, { field: 'claim', createdBy })
  if (claim.party.id === target.party_id) throw samePartyLink({ from: { in: 'body', field: 'claim.party' } })
  const response = {
    id: claim.id,
    stated_at: new Date(claim.stated_at),
    stated_at_precision: claim.stated_at_precision,
  }
  if (!prebuttal && statedBefore(response, target)) {
    throw outOfTimeOrder(response, target, { in: 'body', field: 'prebuttal' }, NEW_CLAIM)
  }
  const inserted = await links.insertLink(trx, {
    fromClaimId: claim.id,
    toClaimId: target.id,
    fromPartyId: claim.party.id,
    toPartyId: target.party_id,
    kind: 'rebuts',
    note,
    prebuttal,
    aspect,
    measure,
    toClaim: target,
    fromClaimStatedAt: claim.stated_at,
    createdBy,
  })
  await recordFirstVersions(trx, [{ id: inserted.id, ...said, createdBy }])
  await derived.linksAdded(trx, [
    { kind: 'rebuts', fromPartyId: claim.party.id, toPartyId: target.party_id, toClaimId: target.id },
  ])
  const link: Link = {
    id: inserted.id,
    kind: 'rebuts',
    from_claim_id: claim.id,
    to_claim_id: target.id,
    from_party: claim.party,
    to_party: { id: target.party_id, slug: target.party_slug, name: target.party_name },
    note,
    prebuttal,
    aspect,
    measure,
    from_claim_stated_at: inserted.from_claim_stated_at.toISOString(),
    to_claim_stated_at: inserted.to_claim_stated_at.toISOString(),
    version: inserted.version,
    created_at: inserted.created_at.toISOString(),
    updated_at: inserted.updated_at.toISOString(),
  }
  return { link, claim }
}

/** How many live claims rebut a claim, as `count` asks. */
export async function countRebuttals(db: Db, claimId: string, kind: CountKind): Promise<ListTotal> {
  return countList(db, claims.matchingAnsweringClaims(db, claimId, 'rebuts'), kind)
}

/** A rebuttal's position in the list: when the rebutting claim was stated, then its id. */
export type RebuttalListKey = [string, string]

/**
 * Up to `limit + 1` rebuttals of a live claim, latest stated first (`backward`: those before `after`, nearest
 * first), each with its list key.
 */
export async function listRebuttals(
  db: Db,
  claimId: string,
  page: { limit: number; after?: RebuttalListKey; backward?: boolean },
) {
  await getClaim(db, claimId)
  const rows = await claims.listAnsweringClaims(db, claimId, 'rebuts', { ...page, limit: page.limit + 1 })
  return rows.map((row) => {
    const claim = toClaim(row)
    const link: Link = {
      id: row.link_id,
      kind: row.link_kind,
      from_claim_id: claim.id,
      to_claim_id: row.link_to_claim_id,
      from_party: claim.party,
      to_party: { id: row.link_to_party_id, slug: row.link_to_party_slug, name: row.link_to_party_name },
      note: row.link_note,
      prebuttal: row.link_prebuttal,
      aspect: row.link_aspect,
      measure: row.link_measure,
      from_claim_stated_at: row.link_from_claim_stated_at.toISOString(),
      to_claim_stated_at: row.link_to_claim_stated_at.toISOString(),
      version: row.link_version,
      created_at: row.link_created_at.toISOString(),
      updated_at: row.link_updated_at.toISOString(),
    }
    return { rebuttal: { link, claim }, key: [claim.stated_at, claim.id] as RebuttalListKey }
  })
}
