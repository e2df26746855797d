// The figures list: every figure of the live claims, a page at a time or whole as an export.
import type { Db } from '../db/schema.js'
import * as figures from '../repositories/claim-figure.repository.js'
import type { FigureListKey, FigureListRow } from '../repositories/claim-figure.repository.js'
import type { FigureListFilter, StatedFigure } from '../schemas/figure.schema.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'
import { keysetChunks, mapRows } from './export-rows.js'
import { countList } from './list-count.js'
import { resolveEventFilter } from './event.service.js'
import { resolvePartyFilter } from './party.service.js'

export type { FigureListKey }

/** A number as numeric's text gives it; the figures were JSON numbers, so the text reads back as the same one. */
const figureNumber = (text: string | null) => (text === null ? null : Number(text))

function toStatedFigure(row: FigureListRow): StatedFigure {
  return {
    claim_id: row.claim_id,
    party: { id: row.party_id, slug: row.party_slug, name: row.party_name },
    stated_at: row.stated_at.toISOString(),
    stated_at_precision: row.stated_at_precision,
    standing: row.standing,
    measure: row.measure,
    value: figureNumber(row.value),
    low: figureNumber(row.low),
    high: figureNumber(row.high),
    unit: row.unit,
    qualifier: row.qualifier,
    as_of: row.as_of?.toISOString() ?? null,
    as_of_precision: row.as_of_precision,
  }
}

const keyOf = (row: FigureListRow): FigureListKey => [row.stated_at.toISOString(), row.claim_id, row.position]

/** The repository filter of the figures list: an unknown party or event is a 422. */
async function figureFilter(db: Db, filter: FigureListFilter): Promise<figures.FigureListFilter> {
  return {
    measures: filter.measure,
    partyId: filter.party === undefined ? undefined : await resolvePartyFilter(db, filter.party, 'party'),
    claimId: filter.claim?.toLowerCase(),
    eventId: filter.event === undefined ? undefined : await resolveEventFilter(db, filter.event, 'event'),
    standings: filter.standing,
  }
}

/** Up to `limit + 1` figures (the extra one tells that another page follows), each with its list key. */
export async function listFigures(
  db: Db,
  filter: FigureListFilter,
  page: { limit: number; after: FigureListKey | undefined; backward?: boolean },
) {
  const rows = await figures.listFigures(db, await figureFilter(db, filter), { ...page, limit: page.limit + 1 })
  return rows.map((row) => ({ figure: toStatedFigure(row), key: keyOf(row) }))
}

/** How many figures the list's filters match, as `count` asks. */
export async function countFigures(db: Db, filter: FigureListFilter, kind: CountKind): Promise<ListTotal> {
  return countList(db, figures.matchingFigures(db, await figureFilter(db, filter)), kind)
}

/** Every figure of the list, in its order, read in chunks (see keysetChunks). */
export async function exportFigures(
  db: Db,
  filter: FigureListFilter,
  timeoutMs: number,
): Promise<AsyncIterable<StatedFigure>> {
  const resolved = await figureFilter(db, filter)
  const rows = keysetChunks<FigureListRow, FigureListKey>(
    (after, limit) => figures.listFigures(db, resolved, { after, limit }),
    keyOf,
    timeoutMs,
  )
  return mapRows(rows, toStatedFigure)
}
