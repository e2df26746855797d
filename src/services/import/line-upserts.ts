import { unknownReference, unprocessableField } from '../../errors/problems.js'
import * as claims from '../../repositories/claim.repository.js'
import * as events from '../../repositories/event.repository.js'
import * as links from '../../repositories/link.repository.js'
import * as parties from '../../repositories/party.repository.js'
import * as reviews from '../../repositories/review.repository.js'
import { isStorableInstant } from '../../schemas/common.schema.js'
import type {
  DeletionLineInput,
  EventLineInput,
  LinkLineInput,
  PartyLineInput,
  ReviewLineInput,
} from '../../schemas/import.schema.js'
import { eventSlugTaken, recordEvent, removeEvent, restatedEventChanges, reviseEvent } from '../event.service.js'
import type { CreateReviewInput } from '../../schemas/review.schema.js'
import { recordClaim, removeClaim, restatedClaimChanges, reviseClaim, toClaim } from '../claim.service.js'
import { lockAnsweredAfter } from '../derived-state.js'
import { linkClaims, removeLink, reviseLink } from '../link.service.js'
import {
  lockPartyReference,
  recordParty,
  removeParty,
  restatedPartyChanges,
  reviseParty,
  slugTaken,
} from '../party.service.js'
import { recordReview, removeReview, restatedReviewChanges, reviseReview, toReview } from '../review.service.js'
import { assertSlugShape } from '../slug-shape.js'
import { storedInstant } from '../stored-instant.js'
import { findTombstone } from '../tombstone.js'
import { abortOnConflict, deletedRecord, type ImportContext, type Outcome } from './import-context.js'
import type { CheckedLine, ImportClaimLine } from './line-check.js'

/** How a link line names its two claims, for problems. */
export const LINE_ENDS = { from: { in: 'body', field: 'from' }, to: { in: 'body', field: 'to' } } as const

/**
 * Applies one line on its own: creates its record, or brings the record its ref names to what it says, or
 * deletes it.
 */
export function applyLine(ctx: ImportContext, { type, line }: CheckedLine): Promise<Outcome> {
  switch (type) {
    case 'party':
      return party(ctx, line as PartyLineInput)
    case 'event':
      return event(ctx, line as EventLineInput)
    case 'claim':
      return claim(ctx, line as ImportClaimLine)
    case 'link':
      return link(ctx, line as LinkLineInput)
    case 'review':
      return review(ctx, line as ReviewLineInput)
    case 'deletion':
      return deletion(ctx, line as DeletionLineInput)
  }
}

async function party(ctx: ImportContext, line: PartyLineInput): Promise<Outcome> {
  assertSlugShape(line.slug, 'a party')
  const side = line.side === undefined ? undefined : await ctx.refs.key('party', line.side, 'side')
  const known = await ctx.refs.known('party', line.ref)
  if (known !== undefined && ctx.existing === 'keep') return 'unchanged'
  // A party is known by its slug too: a new ref for a live party's slug adopts that party.
  const id = known ?? (await parties.findPartyId(ctx.trx, line.slug))
  if (id === undefined) {
    const { type: _type, ref: _ref, ...input } = line
    const party = await abortOnConflict(() => recordParty(ctx.trx, { ...input, side }, ctx.createdBy))
    await ctx.refs.bind('party', [{ ref: line.ref, id: party.id }])
    return 'created'
  }
  let outcome: Outcome = 'unchanged'
  if (ctx.existing === 'update') {
    const current = await parties.findPartyByKey(ctx.trx, id, { forUpdate: true })
    if (current === undefined) throw await deletedRecord(ctx.trx, 'party', line.ref, id)
    const sideId = side === undefined ? null : await lockPartyReference(ctx.trx, side, 'side')
    const patch = restatedPartyChanges(current, line, sideId)
    if (patch.slug !== undefined) {
      const holder = await parties.findPartyId(ctx.trx, patch.slug)
      if (holder !== undefined && holder !== current.id) throw slugTaken(patch.slug)
    }
    if (Object.keys(patch).length > 0) {
      await abortOnConflict(() => reviseParty(ctx.trx, current.id, patch, ctx.mayChange, { recordedBy: ctx.createdBy }))
      outcome = 'updated'
    }
  }
  if (known === undefined) await ctx.refs.bind('party', [{ ref: line.ref, id }])
  return outcome
}

async function event(ctx: ImportContext, line: EventLineInput): Promise<Outcome> {
  assertSlugShape(line.slug, 'an event')
  const known = await ctx.refs.known('event', line.ref)
  if (known !== undefined && ctx.existing === 'keep') return 'unchanged'
  const { type: _type, ref: _ref, ...input } = line
  // An event is known by its slug too: a new ref for a live event's slug adopts that event.
  const id = known ?? (await events.findEventRef(ctx.trx, line.slug))?.id
  if (id === undefined) {
    const made = await abortOnConflict(() => recordEvent(ctx.trx, input, ctx.createdBy))
    await ctx.refs.bind('event', [{ ref: line.ref, id: made.id }])
    return 'created'
  }
  let outcome: Outcome = 'unchanged'
  if (ctx.existing === 'update') {
    const current = await events.findEventByKey(ctx.trx, id, { forUpdate: true })
    if (current === undefined) throw await deletedRecord(ctx.trx, 'event', line.ref, id)
    const patch = restatedEventChanges(current, input)
    if (patch.slug !== undefined) {
      const holder = await events.findEventRef(ctx.trx, patch.slug)
      if (holder !== undefined && holder.id !== current.id) throw eventSlugTaken(patch.slug)
    }
    if (Object.keys(patch).length > 0) {
      await abortOnConflict(() => reviseEvent(ctx.trx, current.id, patch, ctx.mayChange, { recordedBy: ctx.createdBy }))
      outcome = 'updated'
    }
  }
  if (known === undefined) await ctx.refs.bind('event', [{ ref: line.ref, id }])
  return outcome
}

async function claim(ctx: ImportContext, line: ImportClaimLine): Promise<Outcome> {
  const party = await ctx.refs.key('party', line.party, 'party')
  const about = line.event === undefined ? undefined : await ctx.refs.key('event', line.event, 'event')
  const id = await ctx.refs.known('claim', line.ref)
  if (id === undefined) {
    if (line.version !== undefined && line.version !== 1) {
      throw unprocessableField(
        'body',
        'version',
        `is ${line.version}, but no claim has the ref ${line.ref} yet: a claim's lines start at version 1`,
      )
    }
    const { type: _type, ref: _ref, id: ownId, version: _version, event: _event, ...input } = line
    const claim = await recordClaim(
      ctx.trx,
      { ...input, party, ...(about === undefined ? {} : { event: about }) },
      { createdBy: ctx.createdBy, id: ownId },
    )
    await ctx.refs.bind('claim', [{ ref: line.ref, id: claim.id }])
    return 'created'
  }
  if (ctx.existing === 'keep') return 'unchanged'
  // Compared under its lock: an edit that lands between a read and the write would keep fields the line resets.
  const row = await claims.findClaimById(ctx.trx, id, { forUpdate: true })
  if (row === undefined) throw await deletedRecord(ctx.trx, 'claim', line.ref, id)
  const partyId = await lockPartyReference(ctx.trx, party, 'party')
  if (partyId !== row.party_id) {
    throw unprocessableField(
      'body',
      'party',
      `differs from the party of the claim of ref ${line.ref}: a claim's party cannot change; give the line a ` +
        'new ref to record another claim',
    )
  }
  if (line.version !== undefined) {
    if (line.version <= row.version) return 'unchanged'
    if (line.version > row.version + 1) {
      throw unprocessableField(
        'body',
        'version',
        `is ${line.version}, but the claim of ref ${line.ref} is at version ${row.version}: its lines come in ` +
          'version order, each the next',
      )
    }
  }
  const { event: _event, ...content } = line
  const patch = restatedClaimChanges(toClaim(row), { ...content, ...(about === undefined ? {} : { event: about }) })
  // A line naming the next version makes it, even when it restates the last: the versions stay those it numbers.
  if (Object.keys(patch).length === 0 && line.version === undefined) return 'unchanged'
  const answered = patch.stated_at === undefined ? [] : await lockAnsweredAfter(ctx.trx, id)
  await reviseClaim(ctx.trx, id, patch, ctx.mayChange, answered, { recordedBy: ctx.createdBy })
  return 'updated'
}

async function link(ctx: ImportContext, line: LinkLineInput): Promise<Outcome> {
  const from = await ctx.refs.key('claim', line.from, 'from')
  const to = await ctx.refs.key('claim', line.to, 'to')
  const said = {
    note: line.note ?? null,
    prebuttal: line.prebuttal ?? false,
    aspect: line.aspect ?? null,
    measure: line.measure ?? null,
  }
  const known = await ctx.refs.known('link', line.ref)
  if (known !== undefined) {
    if (ctx.existing === 'keep') return 'unchanged'
    const current = await links.findLinkById(ctx.trx, known)
    if (current === undefined) throw await deletedRecord(ctx.trx, 'link', line.ref, known)
    if (current.from_claim_id !== from || current.to_claim_id !== to || current.kind !== line.kind) {
      throw unprocessableField(
        'body',
        'ref',
        `names a link ${current.from_claim_id} ${current.kind} ${current.to_claim_id}: a link's ends and kind ` +
          'cannot change; give the line a new ref',
      )
    }
    const revised = await reviseLink(ctx.trx, current, said, ctx.mayChange, {
      recordedBy: ctx.createdBy,
    })
    return revised ? 'updated' : 'unchanged'
  }
  // Two claims have one live link at most: the same link under a new ref is adopted (a data set keeps any link it
  // finds there); another kind is refused by linkClaims, as the API refuses it.
  const existing = await links.findLinkBetween(ctx.trx, from, to)
  if (existing !== undefined && (existing.kind === line.kind || ctx.existing === 'keep')) {
    let outcome: Outcome = 'unchanged'
    if (ctx.existing === 'update') {
      const current = await links.findLinkById(ctx.trx, existing.id)
      if (current === undefined) throw await deletedRecord(ctx.trx, 'link', line.ref, existing.id)
      const authorship = { recordedBy: ctx.createdBy }
      if (await reviseLink(ctx.trx, current, said, ctx.mayChange, authorship)) outcome = 'updated'
    }
    await ctx.refs.bind('link', [{ ref: line.ref, id: existing.id }])
    return outcome
  }
  const request = { fromClaimId: from, toClaimId: to, kind: line.kind, ...said, createdBy: ctx.createdBy }
  const made = await linkClaims(ctx.trx, request, LINE_ENDS, ctx.pairCounts)
  await ctx.refs.bind('link', [{ ref: line.ref, id: made.id }])
  return 'created'
}

async function review(ctx: ImportContext, line: ReviewLineInput): Promise<Outcome> {
  const claimId = await ctx.refs.key('claim', line.claim, 'claim')
  const reviewer = await ctx.refs.key('party', line.reviewer, 'reviewer')
  const { type: _type, ref: _ref, claim: _claim, ...fields } = line
  const input: CreateReviewInput = { ...fields, reviewer }
  const known = await ctx.refs.known('review', line.ref)
  if (known !== undefined && ctx.existing === 'keep') return 'unchanged'
  let id = known
  if (id === undefined) {
    // A fact-checker reviews a claim once: a new ref for a review already there adopts it.
    const reviewerId = await parties.findPartyId(ctx.trx, reviewer)
    const existing = reviewerId === undefined ? undefined : await reviews.findReviewOf(ctx.trx, claimId, reviewerId)
    if (existing === undefined) {
      const made = await recordReview(ctx.trx, claimId, input, ctx.createdBy, { in: 'body', field: 'claim' })
      await ctx.refs.bind('review', [{ ref: line.ref, id: made.id }])
      return 'created'
    }
    id = existing.id
  }
  let outcome: Outcome = 'unchanged'
  if (ctx.existing === 'update') {
    const row = await reviews.findReviewById(ctx.trx, id, { forUpdate: true })
    if (row === undefined) throw await deletedRecord(ctx.trx, 'review', line.ref, id)
    const reviewerId = await parties.findPartyId(ctx.trx, reviewer)
    if (row.claim_id !== claimId || row.reviewer_id !== reviewerId) {
      throw unprocessableField(
        'body',
        'ref',
        `names the review of claim ${row.claim_id} by ${row.reviewer_slug}: a review's claim and reviewer cannot ` +
          'change; give the line a new ref',
      )
    }
    const patch = restatedReviewChanges(toReview(row), input)
    if (Object.keys(patch).length > 0) {
      await reviseReview(ctx.trx, id, patch, ctx.mayChange, { recordedBy: ctx.createdBy })
      outcome = 'updated'
    }
  }
  if (known === undefined) await ctx.refs.bind('review', [{ ref: line.ref, id }])
  return outcome
}

/**
 * Deletes the record a deletion line's ref names, as DELETE does (its rules, what goes with it, what is recounted),
 * by the importing key and at the time the line gives. A record deleted already is left as it is, with its own
 * tombstone: the line is `unchanged`, so that a deletion imported again changes nothing.
 */
async function deletion(ctx: ImportContext, line: DeletionLineInput): Promise<Outcome> {
  const id = await ctx.refs.known(line.of, line.ref)
  if (id === undefined) throw unknownReference('body', 'ref', `no ${line.of} has the import ref ${line.ref}`)
  const at = line.deleted_at === undefined ? undefined : new Date(storedInstant(line.deleted_at))
  if (at !== undefined && (!isStorableInstant(at.getTime()) || at.getTime() > Date.now())) {
    throw unprocessableField(
      'body',
      'deleted_at',
      `is ${line.deleted_at}: a deletion line says when the record was deleted, between the year 1 and now`,
    )
  }
  if ((await findTombstone(ctx.trx, line.of, id)) !== undefined) return 'unchanged'
  switch (line.of) {
    case 'party':
      await removeParty(ctx.trx, id, ctx.mayChange, ctx.key, at)
      break
    case 'event':
      await removeEvent(ctx.trx, id, ctx.mayChange, ctx.key, at)
      break
    case 'claim':
      await removeClaim(ctx.trx, id, ctx.mayChange, ctx.key, { at, pairCounts: ctx.pairCounts })
      break
    case 'link':
      await removeLink(ctx.trx, id, ctx.mayChange, ctx.key, { at, pairCounts: ctx.pairCounts })
      break
    case 'review':
      await removeReview(ctx.trx, id, ctx.mayChange, ctx.key, at)
      break
  }
  return 'deleted'
}
