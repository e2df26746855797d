import { type Expression, sql } from 'kysely'
import type { Db } from '../db/schema.js'

/** How many rows `rows` gives, counting no further than `cap`: a count stops early rather than scan a table. */
export async function countUpTo(db: Db, rows: Expression<unknown>, cap: number): Promise<number> {
  const { rows: counted } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM ${rows} matching LIMIT ${cap}) capped`.execute(db)
  return counted[0]?.n ?? 0
}

/** The planner's estimate of how many rows `rows` gives, from EXPLAIN, without running it (as PostgREST does). */
export async function plannedRows(db: Db, rows: Expression<unknown>): Promise<number> {
  const { rows: plan } = await sql<{
    'QUERY PLAN': unknown
  }>`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${rows} matching`.execute(db)
  const text = plan[0]?.['QUERY PLAN']
  const parsed = (typeof text === 'string' ? JSON.parse(text) : text) as Array<{ Plan: { 'Plan Rows': number } }>
  return Math.round(parsed[0]?.Plan['Plan Rows'] ?? 0)
}
