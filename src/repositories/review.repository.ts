import { sql } from 'kysely'
import type { Db, NewReviewRow } from '../db/schema.js'
import { type DeletionStamp, softDeletion } from './record-version.js'

/**
 * Whether the claim still says what the review rated: the rated version's text and quote are the claim's own.
 * `c` is the reviewed claim and `cv` the version the review rated.
 */
export const ratesCurrentWording = sql<boolean>`(cv.snapshot->>'text' = c.text AND cv.snapshot->>'quote' IS NOT DISTINCT FROM c.quote)`

function selectReviews(db: Db) {
  return db
    .selectFrom('reviews as r')
    .innerJoin('parties as p', 'p.id', 'r.reviewer_party_id')
    .innerJoin('claims as c', 'c.id', 'r.claim_id')
    .innerJoin('claim_versions as cv', (join) =>
      join.onRef('cv.claim_id', '=', 'r.claim_id').onRef('cv.version', '=', 'r.claim_version'),
    )
    .select([
      'r.id',
      'r.claim_id',
      'r.claim_version',
      ratesCurrentWording.as('rates_current_wording'),
      sql<string>`cv.snapshot->>'text'`.as('rated_text'),
      'c.version as claim_current_version',
      'r.verdict',
      'r.rating_label',
      'r.rating_value',
      'r.best_rating',
      'r.worst_rating',
      'r.url',
      'r.summary',
      'r.claim_summary',
      'r.published_at',
      'r.version',
      'r.created_at',
      'r.created_by',
      'r.updated_at',
      'p.id as reviewer_id',
      'p.slug as reviewer_slug',
      'p.name as reviewer_name',
      'p.kind as reviewer_kind',
      'p.wikidata as reviewer_wikidata',
      'p.url as reviewer_url',
      'p.logo as reviewer_logo',
    ])
    .where('r.deleted_at', 'is', null)
}

export type ReviewRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectReviews>['executeTakeFirst']>>>

/** A live review of a live claim. `forUpdate` locks the review (not its claim) until the transaction ends. */
export async function findReviewById(db: Db, id: string, options: { forUpdate?: boolean } = {}) {
  let query = selectReviews(db).where('r.id', '=', id).where('c.deleted_at', 'is', null)
  if (options.forUpdate) query = query.forUpdate('r')
  return query.executeTakeFirst()
}

/** The live review of a claim by a reviewer, if there is one: a fact-checker reviews a claim once. */
export async function findReviewOf(db: Db, claimId: string, reviewerId: string) {
  return selectReviews(db)
    .where('r.claim_id', '=', claimId)
    .where('r.reviewer_party_id', '=', reviewerId)
    .executeTakeFirst()
}

/** A claim's live reviews, latest published first, after `[published_at, id]` when given. */
export async function listReviewsOfClaim(db: Db, claimId: string, limit: number, after?: [string, string]) {
  let query = selectReviews(db).where('r.claim_id', '=', claimId)
  if (after !== undefined) {
    query = query.where(sql<boolean>`(r.published_at, r.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`)
  }
  return query.orderBy('r.published_at', 'desc').orderBy('r.id', 'desc').limit(limit).execute()
}

export interface ReviewFilter {
  claimId?: string
  reviewerId?: string
  verdict?: string
}

export interface ReviewListQuery extends ReviewFilter {
  /** After this `[published_at, id]` (before it, `backward`). */
  after?: [string, string]
  /** The reviews before `after` instead, nearest first: the page before. */
  backward?: boolean
  limit: number
}

function reviewFilter(filter: ReviewFilter) {
  const conditions = [sql<boolean>`r.deleted_at IS NULL`]
  if (filter.claimId !== undefined) conditions.push(sql<boolean>`r.claim_id = ${filter.claimId}`)
  if (filter.reviewerId !== undefined) conditions.push(sql<boolean>`r.reviewer_party_id = ${filter.reviewerId}`)
  if (filter.verdict !== undefined) conditions.push(sql<boolean>`r.verdict = ${filter.verdict}`)
  return sql<boolean>`${sql.join(conditions, sql` AND `)}`
}

/** The ids of the live reviews matching the filters, for a count. */
export function matchingReviews(db: Db, filter: ReviewFilter) {
  return db.selectFrom('reviews as r').select('r.id').where(reviewFilter(filter))
}

/**
 * Live reviews of any claim, latest published first (backward: before `after`, nearest first), filtered by
 * claim, reviewer or verdict.
 */
export async function listReviews(db: Db, query: ReviewListQuery) {
  let select = selectReviews(db).where(reviewFilter(query))
  if (query.after !== undefined) {
    const [publishedAt, id] = query.after
    const comparison = sql.raw(query.backward ? '>' : '<')
    select = select.where(sql<boolean>`(r.published_at, r.id) ${comparison} (${publishedAt}::timestamptz, ${id}::uuid)`)
  }
  const direction = query.backward ? 'asc' : 'desc'
  return select.orderBy('r.published_at', direction).orderBy('r.id', direction).limit(query.limit).execute()
}

/** A deleted claim's reviews go with it. */
export async function softDeleteReviewsOfClaim(db: Db, claimId: string, stamp: DeletionStamp): Promise<void> {
  await db
    .updateTable('reviews')
    .set(softDeletion(stamp))
    .where('claim_id', '=', claimId)
    .where('deleted_at', 'is', null)
    .execute()
}

/** The live reviews of each given (claim, reviewer) pair, in one query. */
export async function findReviewsOf(db: Db, pairs: Array<{ claimId: string; reviewerId: string }>) {
  if (pairs.length === 0) return []
  const { rows } = await sql<{ id: string; claim_id: string; reviewer_party_id: string }>`
    SELECT r.id, r.claim_id, r.reviewer_party_id
    FROM unnest(${pairs.map((pair) => pair.claimId)}::uuid[], ${pairs.map((pair) => pair.reviewerId)}::uuid[])
      AS pair (claim_id, reviewer_id)
    JOIN reviews r ON r.claim_id = pair.claim_id AND r.reviewer_party_id = pair.reviewer_id
    WHERE r.deleted_at IS NULL`.execute(db)
  return rows
}

/**
 * Inserts many reviews in one statement, and returns each stored row's id, version and content columns, for
 * their first versions.
 */
export async function insertReviews(db: Db, rows: NewReviewRow[]) {
  if (rows.length === 0) return []
  return db
    .insertInto('reviews')
    .values(rows)
    .returning([
      'id',
      'version',
      'claim_version',
      'verdict',
      'rating_label',
      'rating_value',
      'best_rating',
      'worst_rating',
      'url',
      'summary',
      'claim_summary',
      'published_at',
    ])
    .execute()
}

/** The current version of each of these claims, by id: the version a new review of it rates unless it names one. */
export async function currentClaimVersions(db: Db, claimIds: string[]): Promise<Map<string, number>> {
  if (claimIds.length === 0) return new Map()
  const rows = await db.selectFrom('claims').select(['id', 'version']).where('id', 'in', claimIds).execute()
  return new Map(rows.map((row) => [row.id, row.version]))
}
