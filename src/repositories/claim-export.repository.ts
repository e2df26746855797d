import { type RawBuilder, type SqlBool, sql } from 'kysely'
import type { Db } from '../db/schema.js'
import { DISPUTED_ASPECTS } from '../schemas/aspect.schema.js'
import { CLAIM_CSV_COLUMNS } from '../schemas/export.schema.js'
import { type ClaimListQuery, claimFilter, sortColumn } from './claim.repository.js'
import { csvDouble, csvInstant, csvPlain, csvRecord, csvText } from './csv-fields.js'
import {
  jsonArray,
  jsonArrayOf,
  jsonBoolean,
  jsonFlatObjects,
  jsonInstant,
  jsonInteger,
  jsonNumber,
  jsonObject,
  jsonString,
} from './json-fields.js'
import { ratesCurrentWording } from './review.repository.js'

// The claim list's exports as PostgreSQL writes them: CSV with the columns of CLAIM_CSV_COLUMNS, in their order,
// and NDJSON with the members of the claim's JSON form, each formatted in SQL as the service's encoders format the
// claim (an export test holds the two to the same bytes).

const c = (column: string) => sql.ref(`c.${column}`)
const v = (column: string) => sql.ref(`v.${column}`)

/** Each CSV column's field, from the claim row `c` and the lists `v` gathers for it. */
const CLAIM_CSV_FIELDS: Record<string, RawBuilder<string>> = {
  id: csvPlain(c('id')),
  party_id: csvPlain(c('party_id')),
  party_slug: csvPlain(c('party_slug')),
  party_name: csvText(c('party_name')),
  text: csvText(c('text')),
  quote: csvText(c('quote')),
  quote_language: csvPlain(c('quote_language')),
  stated_at: csvInstant(c('stated_at')),
  stated_at_precision: csvPlain(c('stated_at_precision')),
  event_slug: csvPlain(c('event_slug')),
  event_at: csvInstant(c('event_at')),
  event_at_precision: sql<string>`CASE WHEN c.event_at IS NULL THEN '' ELSE coalesce(c.event_at_precision, 'second') END`,
  location_name: csvText(c('location_name')),
  // A claim without a place has no coordinates to show.
  location_lat: sql<string>`CASE WHEN c.location_name IS NULL THEN '' ELSE ${csvDouble(c('location_lat'))} END`,
  location_lon: sql<string>`CASE WHEN c.location_name IS NULL THEN '' ELSE ${csvDouble(c('location_lon'))} END`,
  language: csvPlain(c('language')),
  certainty: csvPlain(c('certainty')),
  tags: csvText(v('tags')),
  relayed_by: csvPlain(v('relayed_by')),
  source_urls: csvText(v('source_urls')),
  status: sql<string>`CASE WHEN c.rebuttal_count > 0 THEN 'disputed' ELSE 'unchallenged' END`,
  rebuttal_count: csvPlain(c('rebuttal_count')),
  support_count: csvPlain(c('support_count')),
  repeat_count: csvPlain(c('repeat_count')),
  rebutted_by: csvPlain(v('rebutted_by')),
  disputed_aspects: csvPlain(v('disputed_aspects')),
  disputed_measures: csvText(v('disputed_measures')),
  last_response_at: csvInstant(c('last_response_at')),
  first_response_at: csvInstant(c('first_response_at')),
  disputed_since: csvInstant(c('disputed_since')),
  // Whole seconds between the two instants, rounded half up as Math.round does.
  response_time_seconds: sql<string>`CASE WHEN c.first_response_at IS NULL THEN '' ELSE
    floor(extract(epoch FROM c.first_response_at) - extract(epoch FROM c.stated_at) + 0.5)::bigint::text END`,
  standing: csvPlain(c('standing')),
  corrected_by: csvPlain(v('corrected_by')),
  retracted_by: csvPlain(v('retracted_by')),
  review_count: csvPlain(c('review_count')),
  verdicts: csvPlain(v('verdicts')),
  version: csvPlain(c('version')),
  created_at: csvInstant(c('created_at')),
  updated_at: csvInstant(c('updated_at')),
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
 * The lists of claim `c` that its CSV joins into one field each, in the orders its JSON form lists them; the
 * maintained counts and standing spare the lookups for the many claims that have none. OFFSET 0 keeps them
 * computed once per claim, not once per mention in the fields.
 */
const claimLists = sql`SELECT
  array_to_string(c.tags, ';') AS tags,
  array_to_string(c.disputed_measures, ';') AS disputed_measures,
  CASE WHEN cardinality(c.relayed_by) = 0 THEN NULL ELSE (
    SELECT string_agg(rp.slug, ';' ORDER BY relay.ord)
    FROM unnest(c.relayed_by) WITH ORDINALITY AS relay (id, ord) JOIN parties rp ON rp.id = relay.id
  ) END AS relayed_by,
  (SELECT string_agg(coalesce(source.value ->> 'url', ''), ' ' ORDER BY source.ord)
   FROM jsonb_array_elements(c.sources) WITH ORDINALITY AS source (value, ord)) AS source_urls,
  CASE WHEN c.rebuttal_count = 0 THEN NULL ELSE (
    SELECT string_agg(rp.slug, ';' ORDER BY rp.slug) FROM parties rp
    WHERE rp.id IN (
      SELECT l.from_party_id FROM links l
      WHERE l.to_claim_id = c.id AND l.kind = 'rebuts' AND l.deleted_at IS NULL
    )
  ) END AS rebutted_by,
  CASE WHEN cardinality(c.disputed_aspects) = 0 THEN NULL ELSE (
    SELECT string_agg(aspect.name, ';' ORDER BY aspect.ord)
    FROM unnest(${[...DISPUTED_ASPECTS]}::text[]) WITH ORDINALITY AS aspect (name, ord)
    WHERE aspect.name = ANY(c.disputed_aspects)
  ) END AS disputed_aspects,
  CASE WHEN c.standing = 'current' THEN NULL ELSE (
    SELECT string_agg(l.from_claim_id::text, ';' ORDER BY l.from_claim_stated_at, l.from_claim_id)
    FROM links l WHERE l.to_claim_id = c.id AND l.kind = 'corrects' AND l.deleted_at IS NULL
  ) END AS corrected_by,
  CASE WHEN c.standing = 'current' THEN NULL ELSE (
    SELECT string_agg(l.from_claim_id::text, ';' ORDER BY l.from_claim_stated_at, l.from_claim_id)
    FROM links l WHERE l.to_claim_id = c.id AND l.kind = 'retracts' AND l.deleted_at IS NULL
  ) END AS retracted_by,
  CASE WHEN c.review_count = 0 THEN NULL ELSE (
    SELECT string_agg(rp.slug || ':' || r.verdict, ';' ORDER BY r.published_at DESC, r.id DESC)
    FROM reviews r JOIN parties rp ON rp.id = r.reviewer_party_id
    JOIN claim_versions cv ON cv.claim_id = r.claim_id AND cv.version = r.claim_version
    WHERE r.claim_id = c.id AND r.deleted_at IS NULL
  ) END AS verdicts
  OFFSET 0`

/** A party as a claim names it: `{"id", "slug", "name"}` of the parties row `alias`. */
const partyRef = (alias: string) =>
  jsonObject([
    ['id', jsonString(sql.ref(`${alias}.id`))],
    ['slug', jsonString(sql.ref(`${alias}.slug`))],
    ['name', jsonString(sql.ref(`${alias}.name`))],
  ])

/** The ids of the live claims that correct or retract claim `c` (`to`), or that it corrects or retracts (`from`). */
const restatements = (kind: 'corrects' | 'retracts', side: 'to' | 'from') => {
  const other = sql.ref(side === 'to' ? 'l.from_claim_id' : 'l.to_claim_id')
  const otherStatedAt = sql.ref(side === 'to' ? 'l.from_claim_stated_at' : 'l.to_claim_stated_at')
  return jsonArrayOf(
    sql<string>`to_json(${other})::text`,
    sql`FROM links l WHERE ${sql.ref(`l.${side}_claim_id`)} = c.id AND l.kind = ${sql.lit(kind)} AND l.deleted_at IS NULL`,
    sql`${otherStatedAt}, ${other}`,
  )
}

/**
 * Claim `c` as one line of NDJSON: JSON.stringify of the claim as the service reads it (toClaim), member for
 * member, written by PostgreSQL. The maintained counts and standing spare the lookups for claims that have none.
 */
const CLAIM_JSON_LINE = sql<string>`${jsonObject([
  ['id', jsonString(c('id'))],
  [
    'party',
    jsonObject([
      ['id', jsonString(c('party_id'))],
      ['slug', jsonString(c('party_slug'))],
      ['name', jsonString(c('party_name'))],
    ]),
  ],
  ['text', jsonString(c('text'))],
  ['quote', jsonString(c('quote'))],
  ['quote_language', jsonString(c('quote_language'))],
  ['stated_at', jsonInstant(c('stated_at'))],
  ['stated_at_precision', jsonString(c('stated_at_precision'))],
  ['event_at', jsonInstant(c('event_at'))],
  [
    'event_at_precision',
    sql<string>`CASE WHEN c.event_at IS NULL THEN 'null' ELSE ${jsonString(sql`coalesce(c.event_at_precision, 'second')`)} END`,
  ],
  [
    'location',
    sql<string>`CASE WHEN c.location_name IS NULL THEN 'null' ELSE ${jsonObject([
      ['name', jsonString(c('location_name'))],
      ['lat', jsonNumber(c('location_lat'))],
      ['lon', jsonNumber(c('location_lon'))],
    ])} END`,
  ],
  ['language', jsonString(c('language'))],
  ['certainty', jsonString(c('certainty'))],
  ['tags', jsonArray(c('tags'))],
  ['sources', jsonFlatObjects(c('sources'))],
  [
    'figures',
    jsonArrayOf(
      jsonObject([
        ['measure', jsonString(sql.ref('f.measure'))],
        ['value', jsonNumber(sql.ref('f.value'))],
        ['low', jsonNumber(sql.ref('f.low'))],
        ['high', jsonNumber(sql.ref('f.high'))],
        ['unit', jsonString(sql.ref('f.unit'))],
        ['qualifier', jsonString(sql.ref('f.qualifier'))],
        ['as_of', jsonInstant(sql.ref('f.as_of'))],
        ['as_of_precision', jsonString(sql.ref('f.as_of_precision'))],
      ]),
      sql`FROM claim_figures f WHERE f.claim_id = c.id`,
      sql`f.position`,
    ),
  ],
  [
    'event',
    sql<string>`CASE WHEN c.event_id IS NULL OR c.event_slug IS NULL OR c.event_name IS NULL THEN 'null' ELSE ${jsonObject(
      [
        ['id', jsonString(c('event_id'))],
        ['slug', jsonString(c('event_slug'))],
        ['name', jsonString(c('event_name'))],
      ],
    )} END`,
  ],
  [
    'relayed_by',
    sql<string>`CASE WHEN cardinality(c.relayed_by) = 0 THEN '[]' ELSE ${jsonArrayOf(
      partyRef('rp'),
      sql`FROM unnest(c.relayed_by) WITH ORDINALITY AS relay (id, ord) JOIN parties rp ON rp.id = relay.id`,
      sql`relay.ord`,
    )} END`,
  ],
  ['status', sql<string>`CASE WHEN c.rebuttal_count > 0 THEN '"disputed"' ELSE '"unchallenged"' END`],
  ['rebuttal_count', jsonInteger(c('rebuttal_count'))],
  ['support_count', jsonInteger(c('support_count'))],
  ['repeat_count', jsonInteger(c('repeat_count'))],
  [
    'rebutted_by',
    sql<string>`CASE WHEN c.rebuttal_count = 0 THEN '[]' ELSE ${jsonArrayOf(
      partyRef('rp'),
      sql`FROM parties rp WHERE rp.id IN (
        SELECT l.from_party_id FROM links l
        WHERE l.to_claim_id = c.id AND l.kind = 'rebuts' AND l.deleted_at IS NULL
      )`,
      sql`rp.slug`,
    )} END`,
  ],
  [
    'disputed_aspects',
    jsonArrayOf(
      sql<string>`to_json(aspect.name)::text`,
      sql`FROM unnest(${[...DISPUTED_ASPECTS]}::text[]) WITH ORDINALITY AS aspect (name, ord)
        WHERE aspect.name = ANY(c.disputed_aspects)`,
      sql`aspect.ord`,
    ),
  ],
  ['disputed_measures', jsonArray(c('disputed_measures'))],
  ['last_response_at', jsonInstant(c('last_response_at'))],
  ['first_response_at', jsonInstant(c('first_response_at'))],
  ['disputed_since', jsonInstant(c('disputed_since'))],
  [
    'response_time_seconds',
    sql<string>`CASE WHEN c.first_response_at IS NULL THEN 'null' ELSE
      floor(extract(epoch FROM c.first_response_at) - extract(epoch FROM c.stated_at) + 0.5)::bigint::text END`,
  ],
  ['review_count', jsonInteger(c('review_count'))],
  [
    'reviews',
    sql<string>`CASE WHEN c.review_count = 0 THEN '[]' ELSE ${jsonArrayOf(
      jsonObject([
        ['id', jsonString(sql.ref('r.id'))],
        ['verdict', jsonString(sql.ref('r.verdict'))],
        ['rating_label', jsonString(sql.ref('r.rating_label'))],
        ['published_at', jsonInstant(sql.ref('r.published_at'))],
        ['reviewer', partyRef('rp')],
        ['claim_version', jsonInteger(sql.ref('r.claim_version'))],
        ['rates_current_wording', jsonBoolean(ratesCurrentWording)],
      ]),
      sql`FROM reviews r JOIN parties rp ON rp.id = r.reviewer_party_id
        JOIN claim_versions cv ON cv.claim_id = r.claim_id AND cv.version = r.claim_version
        WHERE r.claim_id = c.id AND r.deleted_at IS NULL`,
      sql`r.published_at DESC, r.id DESC`,
    )} END`,
  ],
  ['standing', jsonString(c('standing'))],
  ['corrected_by', sql<string>`CASE WHEN c.standing = 'current' THEN '[]' ELSE ${restatements('corrects', 'to')} END`],
  ['retracted_by', sql<string>`CASE WHEN c.standing = 'current' THEN '[]' ELSE ${restatements('retracts', 'to')} END`],
  ['corrects', restatements('corrects', 'from')],
  ['retracts', restatements('retracts', 'from')],
  ['version', jsonInteger(c('version'))],
  ['created_at', jsonInstant(c('created_at'))],
  ['updated_at', jsonInstant(c('updated_at'))],
])} || E'\\n'`

/** One chunk of the claim list's export: its records, how many, and the list position of the last. */
export interface ClaimExportChunk {
  text: string
  rows: number
  last: [string, string] | undefined
}

/**
 * Up to `query.limit` claims of the list after `query.after`, in its order (not by relevance), as CSV records or
 * NDJSON lines joined into one text: the rows are read, written and joined in one statement, and Node only passes
 * the text on.
 */
export async function claimExportChunk(
  db: Db,
  query: ClaimListQuery,
  format: 'csv' | 'ndjson',
): Promise<ClaimExportChunk> {
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
  const record = format === 'csv' ? CLAIM_CSV_RECORD : CLAIM_JSON_LINE
  const lists = format === 'csv' ? sql`CROSS JOIN LATERAL (${claimLists}) v` : sql``
  const { rows } = await sql<{ text: string; rows: number; last_key: string | null; last_id: string | null }>`
    SELECT coalesce(string_agg(${record}, '' ORDER BY c.n), '') AS text,
           count(*)::int AS rows,
           (array_agg(c.list_position ORDER BY c.n DESC))[1] AS last_key,
           (array_agg(c.id::text ORDER BY c.n DESC))[1] AS last_id
    FROM (
      SELECT row_number() OVER (ORDER BY ${key} ${direction}, c.id ${direction}) AS n, ${position} AS list_position,
             c.id, c.text, c.quote, c.quote_language, c.stated_at, c.stated_at_precision, c.event_at,
             c.event_at_precision, c.location_name, c.location_lat, c.location_lon, c.language, c.certainty, c.tags,
             c.relayed_by, c.sources, c.rebuttal_count, c.support_count, c.repeat_count, c.disputed_aspects,
             c.disputed_measures, c.last_response_at, c.first_response_at, c.disputed_since, c.standing,
             c.review_count, c.version, c.created_at, c.updated_at, c.event_id,
             p.id AS party_id, p.slug AS party_slug, p.name AS party_name, e.slug AS event_slug, e.name AS event_name
      FROM claims c
      JOIN parties p ON p.id = c.party_id
      LEFT JOIN events e ON e.id = c.event_id
      WHERE c.deleted_at IS NULL AND ${claimFilter(query)} AND ${after}
      ORDER BY ${key} ${direction}, c.id ${direction}
      LIMIT ${query.limit}
    ) c
    ${lists}`.execute(db)
  const row = rows[0]!
  const last =
    row.last_key === null || row.last_id === null ? undefined : ([row.last_key, row.last_id] as [string, string])
  return { text: row.text, rows: row.rows, last }
}
