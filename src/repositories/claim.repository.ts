import { type Expression, type SqlBool, sql } from 'kysely'
import { compiledOnce } from '../db/compiled-once.js'
import type {
  ClaimCertainty,
  ClaimSourceRecord,
  ClaimStanding,
  Db,
  NewClaimRow,
  TimePrecision,
  Verdict,
} from '../db/schema.js'
import type { EventRef } from '../schemas/event-ref.schema.js'
import type { PartyRef } from '../schemas/party.schema.js'
import { isUuid } from '../schemas/common.schema.js'
import { sideMemberIds } from './party.repository.js'
import { ratesCurrentWording } from './review.repository.js'
import { figuresJson, figuresOfClaim, insertFiguresStatement } from './claim-figure.repository.js'
import type { Figure } from '../schemas/claim.schema.js'

function selectClaims(db: Db) {
  return db
    .selectFrom('claims as c')
    .innerJoin('parties as p', 'p.id', 'c.party_id')
    .leftJoin('events as e', 'e.id', 'c.event_id')
    .select([
      'c.id',
      'c.text',
      'c.quote',
      'c.quote_language',
      'c.stated_at',
      'c.stated_at_precision',
      'c.event_at',
      'c.event_at_precision',
      'c.location_name',
      'c.location_lat',
      'c.location_lon',
      'c.language',
      'c.certainty',
      'c.tags',
      'c.sources',
      'c.rebuttal_count',
      'c.support_count',
      'c.repeat_count',
      'c.disputed_aspects',
      'c.disputed_measures',
      'c.last_response_at',
      'c.first_response_at',
      'c.disputed_since',
      'c.review_count',
      'c.standing',
      'c.version',
      'c.created_at',
      'c.created_by',
      'c.updated_at',
      'p.id as party_id',
      'p.slug as party_slug',
      'p.name as party_name',
      'c.event_id',
      'e.slug as event_slug',
      'e.name as event_name',
      rebuttingParties().as('rebutted_by'),
      reviewSummaries().as('reviews'),
      restatementsOf().as('restated_by'),
      restatementsBy().as('restates'),
      relayingParties().as('relayed_by_parties'),
      figuresOfClaim().as('figures'),
    ])
    .where('c.deleted_at', 'is', null)
}

/**
 * The parties whose live claims rebut claim `c`, by slug. Live links join live claims only (deleting a claim
 * deletes its links), so the links alone tell; the maintained count spares the lookup for unchallenged claims.
 */
function rebuttingParties() {
  return sql<PartyRef[]>`CASE WHEN c.rebuttal_count = 0 THEN '[]'::json ELSE (
    SELECT coalesce(json_agg(rp ORDER BY rp.slug), '[]')
    FROM (
      SELECT p.id, p.slug, p.name FROM parties p
      WHERE p.id IN (
        SELECT l.from_party_id FROM links l
        WHERE l.to_claim_id = c.id AND l.kind = 'rebuts' AND l.deleted_at IS NULL
      )
    ) rp
  ) END`
}

/** The parties that relayed claim `c`, in the order the claim gives them; most claims name none. */
function relayingParties() {
  return sql<PartyRef[]>`CASE WHEN cardinality(c.relayed_by) = 0 THEN '[]'::json ELSE (
    SELECT json_agg(json_build_object('id', p.id, 'slug', p.slug, 'name', p.name) ORDER BY relay.position)
    FROM unnest(c.relayed_by) WITH ORDINALITY AS relay (id, position)
    JOIN parties p ON p.id = relay.id
  ) END`
}

/** A correction or retraction seen from one of its two claims: its kind, and the claim at the other end. */
export interface RestatementRow {
  kind: 'corrects' | 'retracts'
  claim_id: string
}

/**
 * The live claims that correct or retract claim `c`, earliest stated first; the maintained standing spares the
 * lookup for the many claims that stand as said.
 */
function restatementsOf() {
  return sql<RestatementRow[]>`CASE WHEN c.standing = 'current' THEN '[]'::json ELSE (
    SELECT coalesce(json_agg(json_build_object('kind', l.kind, 'claim_id', l.from_claim_id)
                             ORDER BY l.from_claim_stated_at, l.from_claim_id), '[]')
    FROM links l
    WHERE l.to_claim_id = c.id AND l.kind IN ('corrects', 'retracts') AND l.deleted_at IS NULL
  ) END`
}

/** The live claims that claim `c` corrects or retracts, earliest stated first, through their small index. */
function restatementsBy() {
  return sql<RestatementRow[]>`(
    SELECT coalesce(json_agg(json_build_object('kind', l.kind, 'claim_id', l.to_claim_id)
                             ORDER BY l.to_claim_stated_at, l.to_claim_id), '[]')
    FROM links l
    WHERE l.from_claim_id = c.id AND l.kind IN ('corrects', 'retracts') AND l.deleted_at IS NULL
  )`
}

/** Claim `c`'s live reviews in short, latest published first; the maintained count spares unreviewed claims. */
function reviewSummaries() {
  return sql<ReviewSummaryRow[]>`CASE WHEN c.review_count = 0 THEN '[]'::json ELSE (
    SELECT coalesce(json_agg(json_build_object(
      'id', r.id, 'verdict', r.verdict, 'rating_label', r.rating_label, 'published_at', r.published_at,
      'reviewer', json_build_object('id', rp.id, 'slug', rp.slug, 'name', rp.name),
      'claim_version', r.claim_version, 'rates_current_wording', ${ratesCurrentWording}
    ) ORDER BY r.published_at DESC, r.id DESC), '[]')
    FROM reviews r JOIN parties rp ON rp.id = r.reviewer_party_id
    JOIN claim_versions cv ON cv.claim_id = r.claim_id AND cv.version = r.claim_version
    WHERE r.claim_id = c.id AND r.deleted_at IS NULL
  ) END`
}

/** A review summary as JSON gives it: `published_at` in PostgreSQL's own text form, not yet `toISOString()`'s. */
export interface ReviewSummaryRow {
  id: string
  verdict: Verdict
  rating_label: string
  published_at: string
  reviewer: PartyRef
  claim_version: number
  rates_current_wording: boolean
}

export type ClaimRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectClaims>['executeTakeFirst']>>>

const claimById = compiledOnce((db, id: string) => selectClaims(db).where('c.id', '=', id))

export async function findClaimById(
  db: Db,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ClaimRecord | undefined> {
  if (options.forUpdate) return selectClaims(db).where('c.id', '=', id).forUpdate('c').executeTakeFirst()
  return (await claimById(db, id))[0]
}

/**
 * The orders a list of claims comes in. The last two are the disputes page's: by most recent response, and by
 * most rebutted.
 */
export type ClaimListOrder =
  'stated_at' | 'created_at' | 'relevance' | 'last_response_at' | 'disputed_since' | 'rebuttal_count'

export interface ClaimFilter {
  partyId?: string
  /** Claims about this event. */
  eventId?: string
  /** Claims that this party relayed. */
  relayedById?: string
  /** Claims by this party and by the parties that speak for it, directly or through others. */
  sideId?: string
  tags?: string[]
  /** Claims that state a figure of one of these measures. */
  measures?: string[]
  language?: string
  disputed?: boolean
  /** Claims rebutted by a live claim of this party. */
  rebuttedById?: string
  /** Claims that a live review gives one of these verdicts. */
  verdicts?: Verdict[]
  /** Claims that this party has reviewed. */
  reviewedById?: string
  minRebuttals?: number
  /** Claims a live rebuttal disputes on one of these aspects ('whole': a rebuttal naming none). */
  disputedAspects?: string[]
  /** Claims a live rebuttal disputes on a figure of this measure. */
  disputedMeasure?: string
  /** Claims whose standing is one of these. */
  standings?: ClaimStanding[]
  /** Claims asserted as firmly as one of these. */
  certainties?: ClaimCertainty[]
  statedAfter?: string
  statedBefore?: string
  /** When the claim became disputed (its first live rebuttal was stated): at or after, and before. */
  disputedAfter?: string
  disputedBefore?: string
  /** When the latest response to the claim was stated: at or after, and before. */
  answeredAfter?: string
  answeredBefore?: string
  /** Claims that nothing answers: no live rebuttal and no live support. */
  unanswered?: boolean
  /** Full-text query, web search syntax. */
  text?: string
}

export interface ClaimListQuery extends ClaimFilter {
  order: ClaimListOrder
  descending: boolean
  /** The sort key and id of the last row of the previous page. */
  after?: [string | number, string]
  limit: number
}

/**
 * A full-text query as the claims' vectors were stemmed: in the language filtered on when there is one, else in
 * every language's reading at once (claim_search_query, in the migrations). Immutable, so the planner reads it once
 * and estimates its matches from the column's statistics.
 */
function searchQuery(text: string, language: string | undefined) {
  const words = withoutRepeatedWords(text)
  return language === undefined
    ? sql`claim_search_query(${words}::text)`
    : sql`websearch_to_tsquery(claim_search_config(${language}::text), ${words}::text)`
}

/**
 * How well claim `c` matches a full-text query, by the reading of its own language (and of its quote's, when that
 * reads it better): the same rank as by the ORed readings, which cost ten times as much to rank by.
 */
function searchRank(text: string, language: string | undefined) {
  if (language !== undefined) return sql`ts_rank_cd(c.search, ${searchQuery(text, language)})`
  const words = withoutRepeatedWords(text)
  const rankIn = (column: 'c.language' | 'c.quote_language') =>
    sql`ts_rank_cd(c.search, websearch_to_tsquery(claim_search_config(${sql.raw(column)}), ${words}::text))`
  return sql`CASE WHEN c.quote_language IS NULL THEN ${rankIn('c.language')}
    ELSE greatest(${rankIn('c.language')}, ${rankIn('c.quote_language')}) END`
}

/** A word of a web search excluded with `-`. */
const NEGATED_WORD = /(^|\s)-[^\s-]/

/**
 * The condition that claim `c` matches a full-text query. Every language's reading ORed finds each claim that its
 * own reading matches, through the index; but a word excluded in one reading is not in the others, so a query that
 * excludes one is checked again, on those rows only, in the claim's own languages.
 */
function searchCondition(text: string, language: string | undefined) {
  const indexed = sql<SqlBool>`c.search @@ ${searchQuery(text, language)}`
  if (language !== undefined || !NEGATED_WORD.test(text)) return indexed
  const words = withoutRepeatedWords(text)
  return sql<SqlBool>`${indexed} AND (
    c.search @@ websearch_to_tsquery(claim_search_config(c.language), ${words}::text)
    OR (c.quote_language IS NOT NULL
        AND c.search @@ websearch_to_tsquery(claim_search_config(c.quote_language), ${words}::text))
  )`
}

/**
 * A search of plain words with each word once: they are all required, so a repeat changes nothing of what
 * matches, but ranking works through every term of the query, repeats included (a word pasted 16 times made
 * ranking 16 times as slow). Queries with a phrase or an OR are left as they are: there, order and grouping count.
 */
export function withoutRepeatedWords(text: string): string {
  const words = text.split(/\s+/).filter((word) => word !== '')
  if (text.includes('"') || words.some((word) => word.toLowerCase() === 'or')) return text
  const seen = new Set<string>()
  return words.filter((word) => !seen.has(word.toLowerCase()) && seen.add(word.toLowerCase())).join(' ')
}

/** The condition that claim `c` passes every filter given. */
export function claimFilter(filter: ClaimFilter) {
  const conditions: Expression<SqlBool>[] = [sql<SqlBool>`true`]
  if (filter.partyId !== undefined) conditions.push(sql<SqlBool>`c.party_id = ${filter.partyId}`)
  if (filter.eventId !== undefined) conditions.push(sql<SqlBool>`c.event_id = ${filter.eventId}`)
  if (filter.relayedById !== undefined) {
    conditions.push(sql<SqlBool>`c.relayed_by @> ARRAY[${filter.relayedById}]::uuid[]`)
  }
  if (filter.sideId !== undefined) conditions.push(sql<SqlBool>`c.party_id IN ${sideMemberIds(filter.sideId)}`)
  if (filter.tags !== undefined && filter.tags.length > 0) {
    conditions.push(sql<SqlBool>`c.tags @> ${sql.val(filter.tags)}::text[]`)
  }
  if (filter.measures !== undefined && filter.measures.length > 0) {
    conditions.push(sql<SqlBool>`c.id IN (
      SELECT f.claim_id FROM claim_figures f WHERE f.measure = ANY(${filter.measures}::text[])
    )`)
  }
  if (filter.language !== undefined) {
    conditions.push(sql<SqlBool>`lower(c.language) = ${filter.language.toLowerCase()}`)
  }
  // Written as the partial indexes of the disputes queries are, so that the planner can use them.
  if (filter.disputed === true) conditions.push(sql<SqlBool>`c.rebuttal_count > 0`)
  if (filter.disputed === false) conditions.push(sql<SqlBool>`c.rebuttal_count = 0`)
  if (filter.minRebuttals !== undefined) conditions.push(sql<SqlBool>`c.rebuttal_count >= ${filter.minRebuttals}`)
  // Read from the maintained arrays of the claim as its index walk meets it: no look at its links.
  if (filter.disputedAspects !== undefined) {
    conditions.push(sql<SqlBool>`c.disputed_aspects && ${filter.disputedAspects}::text[]`)
  }
  if (filter.disputedMeasure !== undefined) {
    conditions.push(sql<SqlBool>`c.disputed_measures @> ARRAY[${filter.disputedMeasure}]::text[]`)
  }
  if (filter.standings !== undefined && filter.standings.length > 0) {
    conditions.push(sql<SqlBool>`c.standing = ANY(${filter.standings}::text[])`)
  }
  if (filter.certainties !== undefined && filter.certainties.length > 0) {
    conditions.push(sql<SqlBool>`c.certainty = ANY(${filter.certainties}::text[])`)
  }
  if (filter.rebuttedById !== undefined) {
    conditions.push(sql<SqlBool>`c.id IN (
      SELECT l.to_claim_id FROM links l
      WHERE l.from_party_id = ${filter.rebuttedById} AND l.kind = 'rebuts' AND l.deleted_at IS NULL
    )`)
  }
  // The maintained count answers for the many unreviewed claims without a look at the reviews.
  if (filter.verdicts !== undefined && filter.verdicts.length > 0) {
    conditions.push(sql<SqlBool>`c.review_count > 0 AND c.id IN (
      SELECT r.claim_id FROM reviews r WHERE r.verdict = ANY(${filter.verdicts}::text[]) AND r.deleted_at IS NULL
    )`)
  }
  if (filter.reviewedById !== undefined) {
    conditions.push(sql<SqlBool>`c.review_count > 0 AND c.id IN (
      SELECT r.claim_id FROM reviews r WHERE r.reviewer_party_id = ${filter.reviewedById} AND r.deleted_at IS NULL
    )`)
  }
  if (filter.statedAfter !== undefined) conditions.push(sql<SqlBool>`c.stated_at >= ${new Date(filter.statedAfter)}`)
  if (filter.statedBefore !== undefined) conditions.push(sql<SqlBool>`c.stated_at < ${new Date(filter.statedBefore)}`)
  if (filter.disputedAfter !== undefined) {
    conditions.push(sql<SqlBool>`c.disputed_since >= ${new Date(filter.disputedAfter)}`)
  }
  if (filter.disputedBefore !== undefined) {
    conditions.push(sql<SqlBool>`c.disputed_since < ${new Date(filter.disputedBefore)}`)
  }
  if (filter.answeredAfter !== undefined) {
    conditions.push(sql<SqlBool>`c.last_response_at >= ${new Date(filter.answeredAfter)}`)
  }
  if (filter.answeredBefore !== undefined) {
    conditions.push(sql<SqlBool>`c.last_response_at < ${new Date(filter.answeredBefore)}`)
  }
  if (filter.unanswered === true) conditions.push(sql<SqlBool>`c.rebuttal_count = 0 AND c.support_count = 0`)
  if (filter.text !== undefined) {
    conditions.push(searchCondition(filter.text, filter.language))
  }
  return sql<SqlBool>`${sql.join(conditions, sql` AND `)}`
}

/** The column a list is sorted by, and how a cursor's value is cast to compare with it. */
export function sortColumn(order: ClaimListOrder, filter: ClaimFilter) {
  switch (order) {
    case 'relevance':
      if (filter.text === undefined) throw new Error('a relevance order needs a full-text query')
      return { key: searchRank(filter.text, filter.language), type: sql`real` }
    case 'rebuttal_count':
      return { key: sql.ref('c.rebuttal_count'), type: sql`integer` }
    default:
      return { key: sql.ref(`c.${order}`), type: sql`timestamptz` }
  }
}

/** The live claims matching the filters, in no order: what a list's `count` counts. */
export function matchingClaims(db: Db, filter: ClaimFilter) {
  return db.selectFrom('claims as c').select('c.id').where('c.deleted_at', 'is', null).where(claimFilter(filter))
}

/**
 * Live claims matching the filters, in the order asked, after `query.after` when given, each with `sort_key`:
 * the value it is sorted by (a timestamp, a rank or a count), for the cursor of the next page. Unlimited: a page
 * limits it, an export streams all of it.
 */
export function orderedClaims(db: Db, query: Omit<ClaimListQuery, 'limit'>) {
  const direction = sql.raw(query.descending ? 'desc' : 'asc')
  const { key, type } = sortColumn(query.order, query)
  let select = selectClaims(db)
    .select(sql<Date | number>`${key}`.as('sort_key'))
    .where(claimFilter(query))
  if (query.after !== undefined) {
    const [value, id] = query.after
    const comparison = sql.raw(query.descending ? '<' : '>')
    select = select.where(sql<SqlBool>`(${key}, c.id) ${comparison} (${value}::${type}, ${id}::uuid)`)
  }
  return select.orderBy(sql`${key} ${direction}`).orderBy(sql`c.id ${direction}`)
}

/**
 * How many matches a page by relevance ranks: the most recently stated ones. Ranking needs every candidate's
 * rank before the first row, and a common word matches a large part of all claims (half a million at 1M claims,
 * seconds of ranking, past the statement timeout under load); past this many, relevance is among the newest.
 * Large search APIs bound their results the same way (GitHub's to 1,000). An export ranks every match.
 */
export const RELEVANCE_CANDIDATES = 1000

/** One page of `orderedClaims`: `limit` rows at most. */
export async function listClaims(db: Db, query: ClaimListQuery) {
  let select = orderedClaims(db, query)
  if (query.order === 'relevance') {
    // The filters again, in a subquery of their own: the planner walks the stated_at index back and checks each
    // claim, or looks the matches up and keeps the newest, whichever the word's frequency makes cheaper.
    select = select.where(sql<SqlBool>`c.id IN (
      SELECT c.id FROM claims c
      WHERE c.deleted_at IS NULL AND ${claimFilter(query)}
      ORDER BY c.stated_at DESC, c.id DESC
      LIMIT ${sql.lit(RELEVANCE_CANDIDATES)}
    )`)
  }
  return select.limit(query.limit).execute()
}

/**
 * The ids of every claim of `orderedClaims` by relevance, best first: the order an export reads them in, ranked
 * once (a rank is computed per query, so no keyset could resume it without ranking every match again).
 */
export async function rankedClaimIds(db: Db, query: Omit<ClaimListQuery, 'limit' | 'after'>) {
  const { key } = sortColumn('relevance', query)
  const rows = await db
    .selectFrom('claims as c')
    .select('c.id')
    .where('c.deleted_at', 'is', null)
    .where(claimFilter(query))
    .orderBy(sql`${key} desc`)
    .orderBy('c.id', 'desc')
    .execute()
  return rows.map((row) => row.id)
}

/** A new claim's stored values, defaults applied, with the id it is given. */
export interface NewClaimValues {
  id: string
  text: string
  quote: string | null
  quote_language: string | null
  stated_at: string
  stated_at_precision: TimePrecision
  event_at: string | null
  event_at_precision: TimePrecision | null
  location_name: string | null
  location_lat: number | null
  location_lon: number | null
  language: string
  certainty: ClaimCertainty | null
  tags: string[]
  sources: ClaimSourceRecord[]
  figures: Figure[]
  /** The event it is about, as locked by the caller. */
  event: EventRef | null
  /** The parties that relayed it, as locked by the caller. */
  relayed_by: PartyRef[]
  created_by: string | null
}

/**
 * Records a claim by the live party `partyKey` (an id or slug) and its first version, in one statement: the
 * party is locked against deletion (FOR SHARE) until the transaction ends, and without it nothing is written
 * (the answer is then undefined). One round trip where a lookup, an insert, a read back and a version insert
 * took four. Returns the claim as `findClaimById` reads it; a new claim has no responses, no reviews and no
 * corrections.
 */
export async function insertClaimOfParty(
  db: Db,
  partyKey: string,
  values: NewClaimValues,
  snapshot: unknown,
): Promise<ClaimRecord | undefined> {
  const partyColumn = sql.ref(isUuid(partyKey) ? 'id' : 'slug')
  const figures = figuresJson([{ claim_id: values.id, figures: values.figures }])
  type Inserted = Omit<
    ClaimRecord,
    | 'rebutted_by'
    | 'reviews'
    | 'restated_by'
    | 'restates'
    | 'figures'
    | 'event_slug'
    | 'event_name'
    | 'relayed_by_parties'
  >
  const { rows } = await sql<Inserted>`
    WITH party AS (
      SELECT id, slug, name FROM parties
      WHERE ${partyColumn} = ${partyKey.toLowerCase()} AND deleted_at IS NULL
      FOR SHARE
    ), claim AS (
      INSERT INTO claims (id, party_id, event_id, text, quote, quote_language, stated_at, stated_at_precision,
                          event_at, event_at_precision, location_name, location_lat, location_lon, language,
                          certainty, tags, sources, relayed_by, created_by)
      SELECT ${values.id}::uuid, party.id, ${values.event?.id ?? null}::uuid, ${values.text}::text, ${values.quote}::text,
             ${values.quote_language}::text,
             ${values.stated_at}::timestamptz, ${values.stated_at_precision}::text, ${values.event_at}::timestamptz,
             ${values.event_at_precision}::text, ${values.location_name}::text,
             ${values.location_lat}::float8, ${values.location_lon}::float8, ${values.language}::text,
             ${values.certainty}::text, ${values.tags}::text[], ${JSON.stringify(values.sources)}::jsonb,
             ${values.relayed_by.map((relay) => relay.id)}::uuid[], ${values.created_by}::uuid
      FROM party
      RETURNING id, party_id, event_id, text, quote, quote_language, stated_at, stated_at_precision, event_at,
                event_at_precision, location_name, location_lat, location_lon, language, certainty, tags, sources,
                rebuttal_count, support_count, repeat_count, disputed_aspects, disputed_measures, last_response_at,
                first_response_at, disputed_since, review_count, standing, relayed_by, version, created_at,
                created_by, updated_at
    ), first_version AS (
      INSERT INTO claim_versions (claim_id, version, snapshot, recorded_by)
      SELECT id, version, ${JSON.stringify(snapshot)}::jsonb, created_by FROM claim
    ), figures AS (
      -- None without the claim: no party, nothing written.
      ${insertFiguresStatement(sql`(SELECT ${figures} FROM claim)`)}
    )
    SELECT claim.*, party.slug AS party_slug, party.name AS party_name
    FROM claim JOIN party ON party.id = claim.party_id`.execute(db)
  const row = rows[0]
  if (row === undefined) return undefined
  const event = { event_slug: values.event?.slug ?? null, event_name: values.event?.name ?? null }
  return {
    ...row,
    ...event,
    rebutted_by: [],
    reviews: [],
    restated_by: [],
    restates: [],
    figures: values.figures,
    relayed_by_parties: values.relayed_by,
  }
}

/**
 * The claim row alone, without the party's lock or the first version that insertClaimOfParty writes with it: the
 * plain insert that the benchmark's baseline server sends, as the floor a create is measured against.
 */
export async function insertClaim(db: Db, values: NewClaimRow): Promise<string> {
  const row = await db.insertInto('claims').values(values).returning('id').executeTakeFirstOrThrow()
  return row.id
}

/**
 * The live links from or to a claim, and its live reviews, made with another key than `keyId`, or with none: the
 * work of others that deleting the claim would take with it.
 */
export async function othersWorkOnClaim(db: Db, claimId: string, keyId: string | null) {
  const { rows } = await sql<{ links: number; reviews: number }>`
    SELECT
      (SELECT count(*) FROM links
       WHERE (from_claim_id = ${claimId} OR to_claim_id = ${claimId}) AND deleted_at IS NULL
         AND created_by IS DISTINCT FROM ${keyId}::uuid)::int AS links,
      (SELECT count(*) FROM reviews
       WHERE claim_id = ${claimId} AND deleted_at IS NULL AND created_by IS DISTINCT FROM ${keyId}::uuid)::int AS reviews`.execute(
    db,
  )
  return rows[0] ?? { links: 0, reviews: 0 }
}

/** The live claims among `ids`, in no particular order. */
export async function findClaimsByIds(db: Db, ids: string[]) {
  if (ids.length === 0) return []
  return selectClaims(db).where('c.id', 'in', ids).execute()
}

/** Whether a claim, live or deleted, has this id. */
export async function claimIdTaken(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('claims').select('id').where('id', '=', id).executeTakeFirst()
  return row !== undefined
}

/**
 * The live claims that answer claim `claimId` with a link of this kind, latest stated first, `limit` at most,
 * each with its link: the rebuttals (or supports) of a claim, one page at a time.
 */
export async function listAnsweringClaims(
  db: Db,
  claimId: string,
  kind: 'rebuts' | 'supports',
  page: { after?: [string, string]; backward?: boolean; limit: number },
) {
  let select = selectClaims(db)
    .innerJoin('links as l', 'l.from_claim_id', 'c.id')
    .innerJoin('parties as tp', 'tp.id', 'l.to_party_id')
    .select([
      'l.id as link_id',
      'l.kind as link_kind',
      'l.to_claim_id as link_to_claim_id',
      'l.note as link_note',
      'l.prebuttal as link_prebuttal',
      'l.aspect as link_aspect',
      'l.measure as link_measure',
      'l.from_claim_stated_at as link_from_claim_stated_at',
      'l.to_claim_stated_at as link_to_claim_stated_at',
      'l.version as link_version',
      'l.created_at as link_created_at',
      'l.updated_at as link_updated_at',
      'tp.slug as link_to_party_slug',
      'tp.name as link_to_party_name',
      'tp.id as link_to_party_id',
    ])
    .where('l.to_claim_id', '=', claimId)
    .where('l.kind', '=', kind)
    .where('l.deleted_at', 'is', null)
  if (page.after !== undefined) {
    const [statedAt, id] = page.after
    const comparison = sql.raw(page.backward ? '>' : '<')
    select = select.where(sql<SqlBool>`(c.stated_at, c.id) ${comparison} (${statedAt}::timestamptz, ${id}::uuid)`)
  }
  const direction = page.backward ? 'asc' : 'desc'
  return select.orderBy('c.stated_at', direction).orderBy('c.id', direction).limit(page.limit).execute()
}

/** The live claims that answer a claim with live links of this kind, for a count. */
export function matchingAnsweringClaims(db: Db, claimId: string, kind: 'rebuts' | 'supports') {
  return db
    .selectFrom('links as l')
    .innerJoin('claims as c', 'c.id', 'l.from_claim_id')
    .select('l.id')
    .where('l.to_claim_id', '=', claimId)
    .where('l.kind', '=', kind)
    .where('l.deleted_at', 'is', null)
    .where('c.deleted_at', 'is', null)
}

/**
 * Inserts many claims in one statement, and returns each stored row's id, version and content columns: what the
 * database made of the values (defaults, rounding), for their first versions.
 */
export async function insertClaims(db: Db, rows: NewClaimRow[]) {
  if (rows.length === 0) return []
  return db
    .insertInto('claims')
    .values(rows)
    .returning([
      'id',
      'version',
      'event_id',
      'text',
      'quote',
      'quote_language',
      'stated_at',
      'stated_at_precision',
      'event_at',
      'event_at_precision',
      'location_name',
      'location_lat',
      'location_lon',
      'language',
      'certainty',
      'tags',
      'sources',
    ])
    .execute()
}

/** A claim of a similarity search, with its trigram similarity (0..1) to the text searched for. */
export type ScoredClaimRecord = ClaimRecord & { score: number }

/** Which claims a similarity search scored: how many, on which words, and whether that was every candidate. */
export interface SimilarityScope {
  scored: number
  words: string[]
  complete: boolean
}

/**
 * The live claims most similar to claim `id` (pg_trgm's similarity of the texts, at least `minScore`), best first,
 * `limit` at most, among those that share at least two of its distinctive words (`candidates` of them at most).
 * Words are the full-text index's lexemes, and that index finds the candidates: a trigram index cannot rule out
 * enough texts of a sentence or more, and scoring every claim of a time window costs as much as the window holds.
 * A word is distinctive when the planner's statistics give it a share of the claims below `distinctiveFrequency`
 * (every word is, before the table is first analysed, and any word they do not list); `maxWords` of them at most,
 * the rarest. A claim with fewer than two is matched on its two rarest words that are in fewer than
 * `maxFrequency` of the claims, or on its one word when it has only one.
 */
export async function similarClaims(
  db: Db,
  query: {
    id: string
    partyId?: string
    statedAfter?: string
    statedBefore?: string
    minScore: number
    limit: number
    candidates: number
    maxWords: number
    distinctiveFrequency: number
    maxFrequency: number
  },
): Promise<{ rows: ScoredClaimRecord[]; scope: SimilarityScope }> {
  const filters = [sql`c.deleted_at IS NULL`, sql`c.id <> ${query.id}::uuid`]
  if (query.partyId !== undefined) filters.push(sql`c.party_id = ${query.partyId}::uuid`)
  if (query.statedAfter !== undefined) filters.push(sql`c.stated_at >= ${query.statedAfter}::timestamptz`)
  if (query.statedBefore !== undefined) filters.push(sql`c.stated_at < ${query.statedBefore}::timestamptz`)
  const { rows } = await sql<{
    words: string[]
    scored: number
    matched: number
    best: Array<{ id: string; score: number }>
  }>`
    WITH claim AS (
      SELECT text, search FROM claims WHERE id = ${query.id}::uuid
    ), common AS (
      SELECT coalesce(most_common_elems::text::text[], '{}') AS words, most_common_elem_freqs AS frequencies
      FROM (SELECT 1) one LEFT JOIN pg_stats
        ON schemaname = current_schema() AND tablename = 'claims' AND attname = 'search' AND NOT inherited
    ), ranked AS (
      SELECT lexeme, frequency, row_number() OVER (ORDER BY frequency, length(lexeme) DESC, lexeme) AS n
      FROM (
        SELECT lexeme, coalesce(common.frequencies[array_position(common.words, lexeme)], 0) AS frequency
        FROM claim, common, unnest(tsvector_to_array(claim.search)) AS lexeme
      ) lexemes
    ), chosen AS (
      -- The distinctive words; a claim with fewer than two is matched on its two rarest, if they are rare enough.
      SELECT lexeme, n FROM ranked
      WHERE (frequency < ${query.distinctiveFrequency}::real OR n <= 2) AND frequency < ${query.maxFrequency}::real
        AND n <= ${query.maxWords}::int
    ), literals AS (
      -- Each lexeme as a tsquery literal: quoted, with its quotes and backslashes doubled.
      SELECT n, lexeme, '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''' AS literal FROM chosen
    ), matching AS (
      SELECT CASE
        WHEN (SELECT count(*) FROM chosen) >= 2
          THEN (SELECT string_agg(a.literal || ' & ' || b.literal, ' | ') FROM literals a JOIN literals b ON a.n < b.n)
        ELSE (SELECT string_agg(literal, ' | ') FROM literals)
      END::tsquery AS query
    ), candidates AS (
      SELECT c.id, c.text FROM claims c, matching
      WHERE c.search @@ matching.query AND ${sql.join(filters, sql` AND `)}
      LIMIT ${query.candidates + 1}::int
    ), scored AS (
      SELECT candidates.id, similarity(candidates.text, claim.text) AS score
      FROM (SELECT * FROM candidates LIMIT ${query.candidates}::int) candidates, claim
    )
    SELECT
      (SELECT coalesce(array_agg(lexeme ORDER BY n), '{}') FROM chosen) AS words,
      (SELECT count(*)::int FROM scored) AS scored,
      (SELECT count(*)::int FROM candidates) AS matched,
      (SELECT coalesce(json_agg(json_build_object('id', b.id, 'score', b.score) ORDER BY b.score DESC, b.id), '[]')
       FROM (SELECT id, score FROM scored WHERE score >= ${query.minScore}::real
             ORDER BY score DESC, id LIMIT ${query.limit}::int) b) AS best`.execute(db)
  const found = rows[0]!
  // Not complete when more claims matched than were scored, or when no word was rare enough to search by.
  const scope: SimilarityScope = {
    scored: found.scored,
    words: found.words,
    complete: found.words.length > 0 && found.matched <= query.candidates,
  }
  if (found.best.length === 0) return { rows: [], scope }
  const ids = found.best.map((entry) => entry.id)
  const records = new Map(
    (await selectClaims(db).where('c.id', 'in', ids).where('c.deleted_at', 'is', null).execute()).map((record) => [
      record.id,
      record,
    ]),
  )
  // A claim deleted between the two statements is left out rather than answered half.
  const scoredRows = found.best.flatMap((entry) => {
    const record = records.get(entry.id)
    return record === undefined ? [] : [{ ...record, score: entry.score }]
  })
  return { rows: scoredRows, scope }
}

/**
 * The live claims of the live party `partyKey` (an id or slug) stated within `windowDays` of `statedAt` whose
 * text is at least `minScore` similar to `text`, best first, `limit` at most: the candidates a new claim may
 * duplicate. The party's claims of those days come from its own index, and only they are scored.
 */
export async function duplicateCandidates(
  db: Db,
  candidate: { partyKey: string; text: string; statedAt: string; windowDays: number; minScore: number; limit: number },
) {
  const partyColumn = sql.ref(isUuid(candidate.partyKey) ? 'p.id' : 'p.slug')
  const window = sql`make_interval(days => ${candidate.windowDays}::int)`
  // The window is a range of (party, stated_at), which only the party's index can serve. New claims are stated
  // after the newest that the statistics know of: estimating no claim in the window, the planner would otherwise
  // walk the time index and score every party's claims stated in it.
  const { rows } = await sql<{ id: string; score: number }>`
    SELECT c.id, similarity(c.text, ${candidate.text}::text) AS score
    FROM parties p JOIN claims c ON c.party_id = p.id
      AND (c.party_id, c.stated_at) >= (p.id, ${candidate.statedAt}::timestamptz - ${window})
      AND (c.party_id, c.stated_at) <= (p.id, ${candidate.statedAt}::timestamptz + ${window})
    WHERE ${partyColumn} = ${candidate.partyKey.toLowerCase()} AND p.deleted_at IS NULL AND c.deleted_at IS NULL
      AND similarity(c.text, ${candidate.text}::text) >= ${candidate.minScore}::real
    ORDER BY score DESC, c.id
    LIMIT ${candidate.limit}::int`.execute(db)
  return rows
}
