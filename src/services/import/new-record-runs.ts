import type { LinkLineInput, ReviewLineInput } from '../../schemas/import.schema.js'
import { recordClaims } from '../claim.service.js'
import { linkClaimsMany } from '../link.service.js'
import { recordReviews } from '../review.service.js'
import type { ImportContext } from './import-context.js'
import type { CheckedLine, ImportClaimLine } from './line-check.js'
import { LINE_ENDS } from './line-upserts.js'

/** A claim line that creates its claim, waiting to be written with the lines of its run. */
export interface NewClaimLine {
  number: number
  line: ImportClaimLine
  /** The party as the API takes it: the line's id or slug, or the id its `{"ref": …}` names. */
  partyKey: string
  /** The event as the API takes it, the same way; none for a claim about no event. */
  eventKey?: string
}

/** A link line that makes a new link, waiting to be written with the lines of its run. */
export interface NewLinkLine {
  number: number
  line: LinkLineInput
  fromClaimId: string
  toClaimId: string
}

/** A review line that makes a new review, waiting to be written with the lines of its run. */
export interface NewReviewLine {
  number: number
  line: ReviewLineInput
  claimId: string
  /** The reviewer as the API takes it: the line's id or slug, or the id its `{"ref": …}` names. */
  reviewerKey: string
}

export type Run =
  | { type: 'claim'; lines: NewClaimLine[] }
  | { type: 'link'; lines: NewLinkLine[] }
  | { type: 'review'; lines: NewReviewLine[] }

/** What writing a run did: the records it made, and the lines that found theirs there already, to adopt it. */
export interface RunWritten {
  created: number
  adopting: CheckedLine[]
}

/** Records a bad line of a run: its number, its ref, and the problem. */
export type LineFailure = (number: number, ref: string, problem: unknown) => void

/**
 * Writes a run of new records set-based, by the owning service's rules for many, then binds their refs: a
 * statement per table for the whole run. A line refused writes nothing and is recorded with its problem; a link
 * or review line that meets the record it would make, already there, adopts it, on its own, as it would have
 * line by line.
 */
export async function writeRun(ctx: ImportContext, run: Run, fail: LineFailure): Promise<RunWritten> {
  if (run.type === 'claim') return createClaims(ctx, run.lines, fail)
  if (run.type === 'link') return createLinks(ctx, run.lines, fail)
  return createReviews(ctx, run.lines, fail)
}

async function createClaims(ctx: ImportContext, run: NewClaimLine[], fail: LineFailure): Promise<RunWritten> {
  const requests = run.map(({ line, partyKey, eventKey }) => {
    const { type: _type, ref: _ref, party: _party, event: _event, id, version: _version, ...input } = line
    return { input: { ...input, party: partyKey, ...(eventKey === undefined ? {} : { event: eventKey }) }, id }
  })
  const outcomes = await recordClaims(ctx.trx, requests, ctx.createdBy)
  return bindMade(ctx, 'claim', run, outcomes, fail)
}

async function createLinks(ctx: ImportContext, run: NewLinkLine[], fail: LineFailure): Promise<RunWritten> {
  const requests = run.map(({ line, fromClaimId, toClaimId }) => ({
    fromClaimId,
    toClaimId,
    kind: line.kind,
    note: line.note ?? null,
    prebuttal: line.prebuttal ?? false,
    aspect: line.aspect ?? null,
    measure: line.measure ?? null,
    createdBy: ctx.createdBy,
  }))
  const outcomes = await linkClaimsMany(ctx.trx, requests, LINE_ENDS, ctx.pairCounts)
  // Two claims have one live link at most: a line for a link of its kind already there adopts it (a data set
  // keeps a link of either kind).
  return bindMade(ctx, 'link', run, outcomes, fail, (existing, { line }) => {
    return existing.kind === line.kind || ctx.existing === 'keep'
  })
}

async function createReviews(ctx: ImportContext, run: NewReviewLine[], fail: LineFailure): Promise<RunWritten> {
  const requests = run.map(({ line, claimId, reviewerKey }) => {
    const { type: _type, ref: _ref, claim: _claim, ...fields } = line
    return { claimId, input: { ...fields, reviewer: reviewerKey } }
  })
  const outcomes = await recordReviews(ctx.trx, requests, ctx.createdBy, { in: 'body', field: 'claim' })
  // A fact-checker reviews a claim once: a line for a review already there adopts it.
  return bindMade(ctx, 'review', run, outcomes, fail, () => true)
}

type Made<E> = { id: string } | { problem: unknown; existing?: E }

/** Binds the refs of the records a run made, and sorts its other lines into failures and adoptions. */
async function bindMade<L extends { number: number; line: CheckedLine['line'] }, E>(
  ctx: ImportContext,
  type: Run['type'],
  run: L[],
  outcomes: Array<Made<E>>,
  fail: LineFailure,
  adopts?: (existing: E, line: L) => boolean,
): Promise<RunWritten> {
  const made: Array<{ ref: string; id: string }> = []
  const adopting: CheckedLine[] = []
  for (const [index, runLine] of run.entries()) {
    const outcome = outcomes[index]
    if (outcome === undefined) throw new Error(`line ${runLine.number} has no outcome`)
    if ('id' in outcome) made.push({ ref: runLine.line.ref, id: outcome.id })
    else if (outcome.existing !== undefined && adopts?.(outcome.existing, runLine)) {
      adopting.push({ number: runLine.number, type, line: runLine.line })
    } else fail(runLine.number, runLine.line.ref, outcome.problem)
  }
  await ctx.refs.bind(type, made)
  return { created: made.length, adopting }
}
