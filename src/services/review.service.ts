import { randomUUID } from 'node:crypto'
import type { Db, NewReviewRow, ReviewRowUpdate } from '../db/schema.js'
import { inTransaction, type Transaction } from '../db/transaction.js'
import { ApiError, type FieldError, notFound, unknownReference, unprocessableField } from '../errors/problems.js'
import * as claims from '../repositories/claim.repository.js'
import * as reviews from '../repositories/review.repository.js'
import type { ReviewRecord } from '../repositories/review.repository.js'
import { type VersionAuthorship, insertVersions } from '../repositories/record-version.js'
import {
  type CreateReviewInput,
  type Review,
  type ReviewListFilter,
  type ReviewVersion,
  ReviewVersionSchema,
  type UpdateReviewInput,
} from '../schemas/review.schema.js'
import { storedInstant } from './stored-instant.js'
import * as derived from './derived-state.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { countList } from './list-count.js'
import { lockPartyReferences, resolvePartyFilter, unknownParty } from './party.service.js'
import type { Precondition } from './precondition.js'
import type { ApiKeyIdentity } from '../schemas/api-key.schema.js'
import type { Tombstone } from '../schemas/tombstone.schema.js'
import { findClaimTombstones, gone, missingRecord } from './tombstone.js'
import { recordKind, listRecordHistory, readRecord, removeRecord, reviseRecord } from './record-revision.js'

export function toReview(row: ReviewRecord): Review {
  return {
    id: row.id,
    claim_id: row.claim_id,
    rates_current_wording: row.rates_current_wording,
    reviewer: { id: row.reviewer_id, slug: row.reviewer_slug, name: row.reviewer_name },
    ...storedReviewContent(row),
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

/**
 * What a review says, read from its stored columns: as every review read shows it, and so as each version keeps
 * it. A bulk insert derives its first versions from the rows it returns with this.
 */
function storedReviewContent(
  row: Pick<
    ReviewRecord,
    | 'verdict'
    | 'rating_label'
    | 'rating_value'
    | 'best_rating'
    | 'worst_rating'
    | 'url'
    | 'summary'
    | 'claim_summary'
    | 'claim_version'
    | 'published_at'
  >,
): ReviewVersion['review'] {
  return {
    verdict: row.verdict,
    rating_label: row.rating_label,
    rating_value: row.rating_value,
    best_rating: row.best_rating,
    worst_rating: row.worst_rating,
    url: row.url,
    summary: row.summary,
    claim_summary: row.claim_summary,
    claim_version: row.claim_version,
    published_at: row.published_at.toISOString(),
  }
}

const REVIEW = recordKind('review', 'reviews', reviews.findReviewById, toReview, ReviewVersionSchema.properties.review)

export async function getReview(db: Db, id: string): Promise<Review> {
  return readRecord(db, REVIEW, id)
}

/** How the request names the reviewed claim: the path of /v1/claims/{id}/reviews, or a field of a body. */
export type ClaimOfReview = { in: 'path' } | { in: FieldError['in']; field: string }

/** `createdBy`: the API key recording it, the one that may change it later. */
export async function createReview(
  db: Db,
  claimId: string,
  input: CreateReviewInput,
  createdBy: string | null,
): Promise<Review> {
  return inTransaction(db, (trx) => recordReview(trx, claimId, input, createdBy))
}

/**
 * Records a review of a claim within the caller's transaction, and recounts the claim's reviews. The claim is
 * locked first, as every writer of what a claim counts does; then the reviewer is held against deletion.
 * Every rule is checked before anything is written.
 */
export async function recordReview(
  trx: Transaction,
  claimId: string,
  input: CreateReviewInput,
  createdBy: string | null,
  claimOfReview: ClaimOfReview = { in: 'path' },
): Promise<Review> {
  const [outcome] = await recordReviews(trx, [{ claimId, input }], createdBy, claimOfReview)
  if (outcome === undefined || 'problem' in outcome) throw outcome?.problem ?? new Error('no outcome for the review')
  return getReview(trx, outcome.id)
}

/** A review to record: the reviewed claim's id, and what the API takes for it (the reviewer by id or slug). */
export interface NewReviewRequest {
  claimId: string
  input: CreateReviewInput
}

/**
 * What a set-based review did with one request: recorded it, or refused it with the problem of the first rule it
 * breaks; `existing` is the live review its reviewer already made of the claim, whichever rule refused it.
 */
export type ReviewOutcome = { id: string } | { problem: ApiError; existing?: { id: string } }

/**
 * Records many reviews as recordReview records one, in six statements however many they are: their claims locked
 * (all at once, in id order), then their reviewers, and the reviews already made by the same reviewers; each
 * checked by the rules; then the reviews, the claims' recount, and the first versions (from the rows the insert
 * returns). A second request for the same claim and reviewer meets the first as its existing review.
 */
export async function recordReviews(
  trx: Transaction,
  requests: NewReviewRequest[],
  createdBy: string | null,
  claimOfReview: ClaimOfReview,
): Promise<ReviewOutcome[]> {
  const wanted = requests.map((request) => ({ ...request, claimId: request.claimId.toLowerCase() }))
  const named = [...new Set(wanted.map((request) => request.claimId))]
  const locked = new Map((await derived.lockClaims(trx, named)).map((claim) => [claim.id, claim]))
  const deleted = await findClaimTombstones(
    trx,
    named.filter((id) => !locked.has(id)),
  )
  const claimVersions = await reviews.currentClaimVersions(trx, [...locked.keys()])
  const reviewers = await lockPartyReferences(trx, [...new Set(wanted.map(({ input }) => input.reviewer))])
  const pairs = wanted.flatMap(({ claimId, input }) => {
    const reviewer = reviewers.get(input.reviewer)
    return reviewer === undefined ? [] : [{ claimId, reviewerId: reviewer.id }]
  })
  const reviewed = new Map(
    (await reviews.findReviewsOf(trx, pairs)).map((row) => [`${row.claim_id}/${row.reviewer_party_id}`, row.id]),
  )
  const rows: Array<NewReviewRow & { id: string }> = []
  const outcomes = wanted.map(({ claimId, input }): ReviewOutcome => {
    const reviewer = reviewers.get(input.reviewer)
    const pair = `${claimId}/${reviewer?.id}`
    const existingId = reviewer === undefined ? undefined : reviewed.get(pair)
    try {
      const claim = locked.get(claimId)
      if (claim === undefined) throw claimNotLive(claimId, claimOfReview, deleted.get(claimId))
      if (reviewer === undefined) throw unknownParty(input.reviewer, 'reviewer')
      checkReviewer(reviewer, input.reviewer, claim.party_id)
      if (existingId !== undefined) {
        throw new ApiError(
          'conflict',
          `${reviewer.slug} has already reviewed this claim (review ${existingId}); edit that review instead`,
        )
      }
      const rating = checkedRating({
        rating_value: input.rating_value ?? null,
        best_rating: input.best_rating ?? null,
        worst_rating: input.worst_rating ?? null,
      })
      const current = claimVersions.get(claim.id) ?? 1
      const claimVersion =
        input.claim_version === undefined ? current : checkedClaimVersion(input.claim_version, current)
      // Made here, not by the database, so that each request knows its row whatever order the rows come back in.
      const id = randomUUID()
      rows.push({ ...newReviewRow(claim.id, claimVersion, reviewer.id, input, rating, createdBy), id })
      reviewed.set(pair, id)
      return { id }
    } catch (problem) {
      if (!(problem instanceof ApiError)) throw problem
      return existingId === undefined ? { problem } : { problem, existing: { id: existingId } }
    }
  })
  const stored = await reviews.insertReviews(trx, rows)
  await derived.reviewsChanged(
    trx,
    rows.map((row) => row.claim_id),
  )
  await insertVersions(
    trx,
    'reviews',
    stored.map((row) => ({ recordId: row.id, version: row.version, snapshot: storedReviewContent(row) })),
    { recordedBy: createdBy },
  )
  return outcomes
}

function claimNotLive(claimId: string, claimOfReview: ClaimOfReview, tombstone: Tombstone | undefined): ApiError {
  if (tombstone !== undefined) {
    const message = `names claim ${claimId}, which was deleted`
    return gone(tombstone, claimOfReview.in === 'path' ? undefined : { ...claimOfReview, message })
  }
  return claimOfReview.in === 'path'
    ? notFound(`claim ${claimId}`)
    : unknownReference(claimOfReview.in, claimOfReview.field, `no live claim has the id ${claimId}`)
}

/** The reviewer of a new review, found by `key` (undefined when no live party has it), checked by the rules. */
function checkReviewer<T extends { id: string; kind: string }>(
  reviewer: T | undefined,
  key: string,
  claimantId: string,
): asserts reviewer is T {
  if (reviewer?.kind !== 'fact-checker') {
    throw unprocessableField('body', 'reviewer', `must be a party of kind fact-checker; ${key} is not`)
  }
  if (reviewer.id === claimantId) {
    throw unprocessableField('body', 'reviewer', 'must be another party than the claimant: nobody reviews itself')
  }
}

/**
 * A claim version a review names, checked against the claim's current version: every version up to it is kept
 * (the versions of a live claim run from 1, one per edit), so a number in that range names one of them.
 */
function checkedClaimVersion(version: number, current: number): number {
  if (version > current) {
    throw unprocessableField(
      'body',
      'claim_version',
      `names no version of the claim: its versions run from 1 to ${current} (see its history)`,
    )
  }
  return version
}

/** The row of a new review whose rules have been checked, its rating by checkedRating. */
function newReviewRow(
  claimId: string,
  claimVersion: number,
  reviewerId: string,
  input: CreateReviewInput,
  rating: Rating,
  createdBy: string | null,
): NewReviewRow {
  return {
    claim_id: claimId,
    claim_version: claimVersion,
    reviewer_party_id: reviewerId,
    verdict: input.verdict,
    rating_label: input.rating_label,
    ...rating,
    url: input.url ?? null,
    summary: input.summary ?? null,
    claim_summary: input.claim_summary ?? null,
    published_at: storedInstant(input.published_at),
    created_by: createdBy,
  }
}

interface Rating {
  rating_value: number | null
  best_rating: number | null
  worst_rating: number | null
}

/**
 * The rating as it will be stored, checked the way the table's constraints check it, so a bad one is a 422
 * naming the field and not a failed statement. The schema has already made the three come together.
 */
function checkedRating(rating: Rating): Rating {
  const { rating_value: value, best_rating: best, worst_rating: worst } = rating
  if (value === null || best === null || worst === null) {
    if (value !== null || best !== null || worst !== null) {
      throw unprocessableField('body', 'rating_value', 'comes with best_rating and worst_rating, or none of them')
    }
    return rating
  }
  if (best === worst) throw unprocessableField('body', 'best_rating', 'must differ from worst_rating')
  if (value < Math.min(best, worst) || value > Math.max(best, worst)) {
    throw unprocessableField('body', 'rating_value', `must lie between worst_rating ${worst} and best_rating ${best}`)
  }
  return rating
}

export async function updateReview(
  db: Db,
  id: string,
  patch: UpdateReviewInput,
  precondition: Precondition<Review>,
  recordedBy: string | null,
): Promise<Review> {
  return inTransaction(db, (trx) =>
    reviseReview(trx, id, patch, precondition, { recordedBy, editNote: patch.edit_note }),
  )
}

/** Edits a review within the caller's transaction, making a new version that `authorship` says who made and why. */
export async function reviseReview(
  trx: Db,
  id: string,
  patch: UpdateReviewInput,
  precondition: Precondition<Review>,
  authorship: VersionAuthorship,
): Promise<Review> {
  return reviseRecord(trx, REVIEW, id, precondition, authorship, {
    changes: (current) => {
      const values: ReviewRowUpdate = {}
      if (patch.claim_version !== undefined) {
        values.claim_version = checkedClaimVersion(patch.claim_version, current.claim_current_version)
      }
      if (patch.verdict !== undefined) values.verdict = patch.verdict
      if (patch.rating_label !== undefined) values.rating_label = patch.rating_label
      if (patch.rating_value !== undefined) {
        Object.assign(
          values,
          checkedRating({
            rating_value: patch.rating_value,
            best_rating: patch.best_rating ?? null,
            worst_rating: patch.worst_rating ?? null,
          }),
        )
      }
      if (patch.url !== undefined) values.url = patch.url
      if (patch.summary !== undefined) values.summary = patch.summary
      if (patch.claim_summary !== undefined) values.claim_summary = patch.claim_summary
      if (patch.published_at !== undefined) values.published_at = storedInstant(patch.published_at)
      return values
    },
  })
}

/**
 * The changes that bring a review to a whole restatement of it (what a create request takes): a field the
 * restatement leaves out is cleared, but for the claim version it rates, which moves only when it is named; the
 * rating and its scale change together.
 */
export function restatedReviewChanges(current: Review, wanted: CreateReviewInput): UpdateReviewInput {
  const fields = {
    verdict: wanted.verdict,
    rating_label: wanted.rating_label,
    url: wanted.url ?? null,
    summary: wanted.summary ?? null,
    claim_summary: wanted.claim_summary ?? null,
    claim_version: wanted.claim_version ?? current.claim_version,
    published_at: storedInstant(wanted.published_at),
  }
  const patch: UpdateReviewInput = {}
  for (const [field, value] of Object.entries(fields)) {
    if (current[field as keyof typeof fields] !== value) Object.assign(patch, { [field]: value })
  }
  const rating = {
    rating_value: wanted.rating_value ?? null,
    best_rating: wanted.best_rating ?? null,
    worst_rating: wanted.worst_rating ?? null,
  }
  if (
    rating.rating_value !== current.rating_value ||
    rating.best_rating !== current.best_rating ||
    rating.worst_rating !== current.worst_rating
  ) {
    Object.assign(patch, rating)
  }
  return patch
}

export async function deleteReview(
  db: Db,
  id: string,
  precondition: Precondition<Review>,
  deleter: ApiKeyIdentity | null,
): Promise<void> {
  await inTransaction(db, (trx) => removeReview(trx, id, precondition, deleter))
}

/** Deletes a review within the caller's transaction, as deleteReview does, at `at` when given (else now). */
export async function removeReview(
  trx: Transaction,
  id: string,
  precondition: Precondition<Review>,
  deleter: ApiKeyIdentity | null,
  at?: Date,
): Promise<void> {
  await removeRecord(
    trx,
    REVIEW,
    id,
    precondition,
    { by: deleter?.id ?? null, at },
    {
      // The claim first, then the review: the order of every writer of a claim's reviews.
      lockBefore: (review) => derived.lockClaims(trx, [review.claim_id]),
      follow: (review) => derived.reviewsChanged(trx, [review.claim_id]),
    },
  )
}

/** Up to `limit + 1` reviews of a live claim, latest published first. */
export async function listReviews(
  db: Db,
  claimId: string,
  page: { limit: number; after: [string, string] | undefined; backward?: boolean },
) {
  const [claim] = await claims.findClaimsByIds(db, [claimId])
  if (claim === undefined) throw await missingRecord(db, 'claim', claimId)
  const rows = await reviews.listReviews(db, { claimId, ...page, limit: page.limit + 1 })
  return rows.map(toReview)
}

/** How many live reviews a claim has, as `count` asks. */
export async function countReviews(db: Db, claimId: string, kind: CountKind): Promise<ListTotal> {
  return countList(db, reviews.matchingReviews(db, { claimId }), kind)
}

/** Every review of a live claim, latest published first, read as the client takes them (see keysetChunks). */
export async function exportReviewsOfClaim(db: Db, claimId: string, timeoutMs: number): Promise<AsyncIterable<Review>> {
  const [claim] = await claims.findClaimsByIds(db, [claimId])
  if (claim === undefined) throw await missingRecord(db, 'claim', claimId)
  return exportReviewRows(db, { claimId }, timeoutMs)
}

/** The filters of the list of every review, resolved: an unknown claim or reviewer is a problem answer. */
async function reviewListQuery(db: Db, filter: ReviewListFilter) {
  const reviewerId =
    filter.reviewer === undefined ? undefined : await resolvePartyFilter(db, filter.reviewer, 'reviewer')
  if (filter.claim !== undefined && !(await claims.claimIdTaken(db, filter.claim))) {
    throw unknownReference('query', 'claim', `no claim has the id ${filter.claim}`)
  }
  return { claimId: filter.claim, reviewerId, verdict: filter.verdict }
}

/** Up to `limit + 1` reviews of any claim, latest published first. */
export async function listAllReviews(
  db: Db,
  filter: ReviewListFilter,
  page: { limit: number; after: [string, string] | undefined; backward?: boolean },
) {
  const query = await reviewListQuery(db, filter)
  const rows = await reviews.listReviews(db, { ...query, ...page, limit: page.limit + 1 })
  return rows.map(toReview)
}

/** How many reviews the list's filters match, as `count` asks. */
export async function countAllReviews(db: Db, filter: ReviewListFilter, kind: CountKind): Promise<ListTotal> {
  return countList(db, reviews.matchingReviews(db, await reviewListQuery(db, filter)), kind)
}

/** Every review of the list, latest published first, read as the client takes them. */
export async function exportAllReviews(
  db: Db,
  filter: ReviewListFilter,
  timeoutMs: number,
): Promise<AsyncIterable<Review>> {
  return exportReviewRows(db, await reviewListQuery(db, filter), timeoutMs)
}

function exportReviewRows(db: Db, query: Omit<reviews.ReviewListQuery, 'limit' | 'after'>, timeoutMs: number) {
  const rows = keysetChunks(
    (after, limit) => reviews.listReviews(db, { ...query, after: after as [string, string] | undefined, limit }),
    (row) => [row.published_at.toISOString(), row.id],
    timeoutMs,
  )
  return mapRows(rows, toReview)
}

/** Every version of a review, newest first; the first is the current one, or its deletion. */
export async function listReviewHistory(db: Db, id: string, limit: number, beforeVersion: number | undefined) {
  return listRecordHistory(db, REVIEW, id, limit, beforeVersion, (snapshot): Pick<ReviewVersion, 'review'> => ({
    review: snapshot as ReviewVersion['review'],
  }))
}
