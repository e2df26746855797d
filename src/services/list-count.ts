import type { Expression } from 'kysely'
import type { Db } from '../db/schema.js'
import { countUpTo, plannedRows } from '../repositories/row-count.repository.js'
import type { CountKind, ListTotal } from '../schemas/common.schema.js'

/** An exact count stops here, and says `at_least`: counting a million rows is a scan that no page is worth. */
export const COUNT_CAP = 100_000
/** An estimate this small is counted exactly instead, as PostgREST does below its row limit: it is cheap. */
export const ESTIMATE_COUNTED_BELOW = 10_000

/** The total of a list's matching rows, as `count` asked: exact (up to COUNT_CAP) or the planner's estimate. */
export async function countList(db: Db, rows: Expression<unknown>, kind: CountKind): Promise<ListTotal> {
  if (kind === 'estimated') {
    const planned = await plannedRows(db, rows)
    if (planned >= ESTIMATE_COUNTED_BELOW) return { total: planned, total_kind: 'estimated' }
  }
  const counted = await countUpTo(db, rows, COUNT_CAP + 1)
  return counted > COUNT_CAP ? { total: COUNT_CAP, total_kind: 'at_least' } : { total: counted, total_kind: 'exact' }
}
