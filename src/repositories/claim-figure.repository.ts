import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely'
import type { ClaimStanding, Db } from '../db/schema.js'
import type { Figure } from '../schemas/claim.schema.js'

/**
 * Claim `c`'s figures in their order, as JSON: numeric columns come out as JSON numbers, where pg would give text;
 * `as_of` in PostgreSQL's own text form, not yet `toISOString()`'s.
 */
export function figuresOfClaim() {
  return sql<Figure[]>`(
    SELECT coalesce(json_agg(json_build_object(
      'measure', f.measure, 'value', f.value, 'low', f.low, 'high', f.high, 'unit', f.unit,
      'qualifier', f.qualifier, 'as_of', f.as_of, 'as_of_precision', f.as_of_precision
    ) ORDER BY f.position), '[]')
    FROM claim_figures f
    WHERE f.claim_id = c.id
  )`
}

/**
 * The rows of claim_figures for claims and their figures given as JSON (`[{"claim_id", "figures": […]}]`), for an
 * INSERT … SELECT: one statement however many claims, each figure at its place in its claim's list.
 */
function figureRows(claims: RawBuilder<unknown>) {
  return sql`
    SELECT c.claim_id, (f.position - 1)::smallint, f.figure ->> 'measure', (f.figure ->> 'value')::numeric,
           (f.figure ->> 'low')::numeric, (f.figure ->> 'high')::numeric, f.figure ->> 'unit',
           f.figure ->> 'qualifier', (f.figure ->> 'as_of')::timestamptz, f.figure ->> 'as_of_precision'
    FROM jsonb_to_recordset(${claims}) AS c (claim_id uuid, figures jsonb)
    CROSS JOIN LATERAL jsonb_array_elements(c.figures) WITH ORDINALITY AS f (figure, position)`
}

const FIGURE_COLUMNS = sql.raw(
  '(claim_id, position, measure, value, low, high, unit, qualifier, as_of, as_of_precision)',
)

/** The claims and figures that figureRows reads, as the JSON parameter it takes. */
export const figuresJson = (claims: Array<{ claim_id: string; figures: Figure[] }>) =>
  sql`${JSON.stringify(claims)}::jsonb`

/**
 * The insert of the figures of the claims that `claims` (a JSON expression, see figureRows) gives, to run on its
 * own or as a step of a larger statement.
 */
export function insertFiguresStatement(claims: RawBuilder<unknown>) {
  return sql`INSERT INTO claim_figures ${FIGURE_COLUMNS} ${figureRows(claims)}`
}

/** Records the figures of new claims, in one statement. */
export async function insertFigures(db: Db, claims: Array<{ claim_id: string; figures: Figure[] }>): Promise<void> {
  if (claims.every((claim) => claim.figures.length === 0)) return
  await insertFiguresStatement(figuresJson(claims)).execute(db)
}

/** Replaces every figure of a claim with these. */
export async function replaceFigures(db: Db, claimId: string, figures: Figure[]): Promise<void> {
  await sql`DELETE FROM claim_figures WHERE claim_id = ${claimId}`.execute(db)
  await insertFigures(db, [{ claim_id: claimId, figures }])
}

export interface FigureListFilter {
  measures?: string[]
  partyId?: string
  claimId?: string
  eventId?: string
  standings?: ClaimStanding[]
}

/** A figure's place in the figures list: its claim's stated_at and id, then the figure's place in the claim. */
export type FigureListKey = [string, string, number]

function figureFilter(filter: FigureListFilter): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [sql<SqlBool>`c.deleted_at IS NULL`]
  if (filter.measures !== undefined && filter.measures.length > 0) {
    conditions.push(sql<SqlBool>`f.measure = ANY(${filter.measures}::text[])`)
  }
  if (filter.partyId !== undefined) conditions.push(sql<SqlBool>`c.party_id = ${filter.partyId}`)
  if (filter.claimId !== undefined) conditions.push(sql<SqlBool>`f.claim_id = ${filter.claimId}`)
  if (filter.eventId !== undefined) conditions.push(sql<SqlBool>`c.event_id = ${filter.eventId}`)
  if (filter.standings !== undefined && filter.standings.length > 0) {
    conditions.push(sql<SqlBool>`c.standing = ANY(${filter.standings}::text[])`)
  }
  return sql<SqlBool>`${sql.join(conditions, sql` AND `)}`
}

/** The figures of live claims matching the filters, for a count. */
export function matchingFigures(db: Db, filter: FigureListFilter) {
  return db
    .selectFrom('claim_figures as f')
    .innerJoin('claims as c', 'c.id', 'f.claim_id')
    .select('f.claim_id')
    .where(figureFilter(filter))
}

/**
 * The figures of live claims matching the filters, latest stated claim first, each claim's figures in their
 * order, after `after` when given (backward: before it, nearest first); `limit` at most. Numbers come as
 * numeric's text, exactly as stored.
 */
export async function listFigures(
  db: Db,
  filter: FigureListFilter,
  page: { after?: FigureListKey; backward?: boolean; limit: number },
) {
  let select = db
    .selectFrom('claim_figures as f')
    .innerJoin('claims as c', 'c.id', 'f.claim_id')
    .innerJoin('parties as p', 'p.id', 'c.party_id')
    .select([
      'f.claim_id',
      'f.position',
      'f.measure',
      sql<string | null>`f.value::text`.as('value'),
      sql<string | null>`f.low::text`.as('low'),
      sql<string | null>`f.high::text`.as('high'),
      'f.unit',
      'f.qualifier',
      'f.as_of',
      'f.as_of_precision',
      'c.stated_at',
      'c.stated_at_precision',
      'c.standing',
      'p.id as party_id',
      'p.slug as party_slug',
      'p.name as party_name',
    ])
    .where(figureFilter(filter))
  if (page.after !== undefined) {
    const [statedAt, claimId, position] = page.after
    // Claims newest first, and within a claim its figures in their order; backward, all of it the other way.
    const [claimsAfter, figuresAfter] = page.backward ? [sql.raw('>'), sql.raw('<')] : [sql.raw('<'), sql.raw('>')]
    select = select.where(
      sql<SqlBool>`((c.stated_at, c.id) ${claimsAfter} (${statedAt}::timestamptz, ${claimId}::uuid)
        OR ((c.stated_at, c.id) = (${statedAt}::timestamptz, ${claimId}::uuid) AND f.position ${figuresAfter} ${position}))`,
    )
  }
  const [claimOrder, figureOrder] = page.backward ? (['asc', 'desc'] as const) : (['desc', 'asc'] as const)
  return select
    .orderBy('c.stated_at', claimOrder)
    .orderBy('c.id', claimOrder)
    .orderBy('f.position', figureOrder)
    .limit(page.limit)
    .execute()
}

export type FigureListRow = Awaited<ReturnType<typeof listFigures>>[number]
