import { type RawBuilder, type SqlBool, sql } from 'kysely'
import type { Db } from '../db/schema.js'
import { DISPUTED_ASPECTS } from '../schemas/aspect.schema.js'
import { CLAIM_CSV_COLUMNS } from '../schemas/export.schema.js'
import { type ClaimListQuery, claimFilter, sortColumn } from './claim.repository.js'
import { csvDouble, csvInstant, csvPlain, csvRecord, csvText } from './csv-fields.js'

// The claim list's CSV as PostgreSQL writes it: the columns of CLAIM_CSV_COLUMNS, in their order, each formatted
// in SQL as the service's encoder formats the claim's JSON form (an export test holds the two to the same bytes).

const o = (column: string) => sql.ref(`o.${column}`)
const v = (column: string) => sql.ref(`v.${column}`)

/** Each CSV column's field, from the claim row `o` and the lists `v` gathers for it. */
const CLAIM_CSV_FIELDS: Record<string, RawBuilder<string>> = {
  id: csvPlain(o('id')),
  party_id: csvPlain(o('party_id')),
  party_slug: csvText(o('party_slug')),
  party_name: csvText(o('party_name')),
  text: csvText(o('text')),
  quote: csvText(o('quote')),
  quote_language: csvText(o('quote_language')),
  stated_at: csvInstant(o('stated_at')),
  stated_at_precision: csvPlain(o('stated_at_precision')),
  event_slug: csvText(o('event_slug')),
  event_at: csvInstant(o('event_at')),
  event_at_precision: sql<string>`CASE WHEN o.event_at IS NULL THEN '' ELSE coalesce(o.event_at_precision, 'second') END`,
  location_name: csvText(o('location_name')),
  // A claim without a place has no coordinates to show.
  location_lat: sql<string>`CASE WHEN o.location_name IS NULL THEN '' ELSE ${csvDouble(o('location_lat'))} END`,
  location_lon: sql<string>`CASE WHEN o.location_name IS NULL THEN '' ELSE ${csvDouble(o('location_lon'))} END`,
  language: csvText(o('language')),
  certainty: csvPlain(o('certainty')),
  tags: csvText(v('tags')),
  relayed_by: csvText(v('relayed_by')),
  source_urls: csvText(v('source_urls')),
  status: sql<string>`CASE WHEN o.rebuttal_count > 0 THEN 'disputed' ELSE 'unchallenged' END`,
  rebuttal_count: csvPlain(o('rebuttal_count')),
  support_count: csvPlain(o('support_count')),
  repeat_count: csvPlain(o('repeat_count')),
  rebutted_by: csvText(v('rebutted_by')),
  disputed_aspects: csvText(v('disputed_aspects')),
  disputed_measures: csvText(v('disputed_measures')),
  last_response_at: csvInstant(o('last_response_at')),
  first_response_at: csvInstant(o('first_response_at')),
  disputed_since: csvInstant(o('disputed_since')),
  // Whole seconds between the two instants, rounded half up as Math.round does.
  response_time_seconds: sql<string>`CASE WHEN o.first_response_at IS NULL THEN '' ELSE
    floor(extract(epoch FROM o.first_response_at) - extract(epoch FROM o.stated_at) + 0.5)::bigint::text END`,
  standing: csvPlain(o('standing')),
  corrected_by: csvPlain(v('corrected_by')),
  retracted_by: csvPlain(v('retracted_by')),
  review_count: csvPlain(o('review_count')),
  verdicts: csvText(v('verdicts')),
  version: csvPlain(o('version')),
  created_at: csvInstant(o('created_at')),
  updated_at: csvInstant(o('updated_at')),
}

const CLAIM_CSV_RECORD = csvRecord(
  CLAIM_CSV_COLUMNS.map(({ name }) => {
    const field = CLAIM_CSV_FIELDS[name]
    if (field === undefined) throw new Error(`the CSV column ${name} has no SQL`)
    return field
  }),
)

/** The header row of the claim list's CSV. */
export const CLAIM_CSV_HEADER = `${CLAIM_CSV_COLUMNS.map(({ name }) => name).join(',')}\r\n`

/**
 * The lists of claim `o` that its CSV joins into one field each, in the orders its JSON form lists them; the
 * maintained counts and standing spare the lookups for the many claims that have none. OFFSET 0 keeps them
 * computed once per claim, not once per mention in the fields.
 */
const claimLists = sql`SELECT
  array_to_string(o.tags, ';') AS tags,
  array_to_string(o.disputed_measures, ';') AS disputed_measures,
  CASE WHEN cardinality(o.relayed_by) = 0 THEN NULL ELSE (
    SELECT string_agg(rp.slug, ';' ORDER BY relay.ord)
    FROM unnest(o.relayed_by) WITH ORDINALITY AS relay (id, ord) JOIN parties rp ON rp.id = relay.id
  ) END AS relayed_by,
  (SELECT string_agg(coalesce(source.value ->> 'url', ''), ' ' ORDER BY source.ord)
   FROM jsonb_array_elements(o.sources) WITH ORDINALITY AS source (value, ord)) AS source_urls,
  CASE WHEN o.rebuttal_count = 0 THEN NULL ELSE (
    SELECT string_agg(rp.slug, ';' ORDER BY rp.slug) FROM parties rp
    WHERE rp.id IN (
      SELECT l.from_party_id FROM links l
      WHERE l.to_claim_id = o.id AND l.kind = 'rebuts' AND l.deleted_at IS NULL
    )
  ) END AS rebutted_by,
  CASE WHEN cardinality(o.disputed_aspects) = 0 THEN NULL ELSE (
    SELECT string_agg(aspect.name, ';' ORDER BY aspect.ord)
    FROM unnest(${[...DISPUTED_ASPECTS]}::text[]) WITH ORDINALITY AS aspect (name, ord)
    WHERE aspect.name = ANY(o.disputed_aspects)
  ) END AS disputed_aspects,
  CASE WHEN o.standing = 'current' THEN NULL ELSE (
    SELECT string_agg(l.from_claim_id::text, ';' ORDER BY l.from_claim_stated_at, l.from_claim_id)
    FROM links l WHERE l.to_claim_id = o.id AND l.kind = 'corrects' AND l.deleted_at IS NULL
  ) END AS corrected_by,
  CASE WHEN o.standing = 'current' THEN NULL ELSE (
    SELECT string_agg(l.from_claim_id::text, ';' ORDER BY l.from_claim_stated_at, l.from_claim_id)
    FROM links l WHERE l.to_claim_id = o.id AND l.kind = 'retracts' AND l.deleted_at IS NULL
  ) END AS retracted_by,
  CASE WHEN o.review_count = 0 THEN NULL ELSE (
    SELECT string_agg(rp.slug || ':' || r.verdict, ';' ORDER BY r.published_at DESC, r.id DESC)
    FROM reviews r JOIN parties rp ON rp.id = r.reviewer_party_id
    JOIN claim_versions cv ON cv.claim_id = r.claim_id AND cv.version = r.claim_version
    WHERE r.claim_id = o.id AND r.deleted_at IS NULL
  ) END AS verdicts
  OFFSET 0`

/** One chunk of the claim list's CSV: its records, how many, and the list position of the last. */
export interface ClaimCsvChunk {
  text: string
  rows: number
  last: [string, string] | undefined
}

/**
 * Up to `query.limit` claims of the list after `query.after`, in its order (not by relevance), as CSV records
 * joined into one text: the rows are read, formatted and joined in one statement, and Node only passes the text on.
 */
export async function claimCsvChunk(db: Db, query: ClaimListQuery): Promise<ClaimCsvChunk> {
  const { key, type } = sortColumn(query.order, query)
  const direction = sql.raw(query.descending ? 'desc' : 'asc')
  // The position a cursor holds: an instant as toISOString() writes it, a count as its digits.
  const position = query.order === 'rebuttal_count' ? sql`${key}::text` : csvInstant(sql`${key}`)
  let after = sql<SqlBool>`true`
  if (query.after !== undefined) {
    const [value, id] = query.after
    const comparison = sql.raw(query.descending ? '<' : '>')
    after = sql<SqlBool>`(${key}, c.id) ${comparison} (${value}::${type}, ${id}::uuid)`
  }
  const { rows } = await sql<{ text: string; rows: number; last_key: string | null; last_id: string | null }>`
    SELECT coalesce(string_agg(${CLAIM_CSV_RECORD}, '' ORDER BY o.n), '') AS text,
           count(*)::int AS rows,
           (array_agg(o.list_position ORDER BY o.n DESC))[1] AS last_key,
           (array_agg(o.id::text ORDER BY o.n DESC))[1] AS last_id
    FROM (
      SELECT row_number() OVER (ORDER BY ${key} ${direction}, c.id ${direction}) AS n, ${position} AS list_position,
             c.id, c.text, c.quote, c.quote_language, c.stated_at, c.stated_at_precision, c.event_at,
             c.event_at_precision, c.location_name, c.location_lat, c.location_lon, c.language, c.certainty, c.tags,
             c.relayed_by, c.sources, c.rebuttal_count, c.support_count, c.repeat_count, c.disputed_aspects,
             c.disputed_measures, c.last_response_at, c.first_response_at, c.disputed_since, c.standing,
             c.review_count, c.version, c.created_at, c.updated_at,
             p.id AS party_id, p.slug AS party_slug, p.name AS party_name, e.slug AS event_slug
      FROM claims c
      JOIN parties p ON p.id = c.party_id
      LEFT JOIN events e ON e.id = c.event_id
      WHERE c.deleted_at IS NULL AND ${claimFilter(query)} AND ${after}
      ORDER BY ${key} ${direction}, c.id ${direction}
      LIMIT ${query.limit}
    ) o
    CROSS JOIN LATERAL (${claimLists}) v`.execute(db)
  const row = rows[0]!
  const last =
    row.last_key === null || row.last_id === null ? undefined : ([row.last_key, row.last_id] as [string, string])
  return { text: row.text, rows: row.rows, last }
}
