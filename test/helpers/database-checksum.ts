import { sql } from 'kysely'
import type { DatabaseHandle } from '../../src/db/database.js'

/**
 * What the service writes on every request by design, whatever the answer: the rate-limit counters (each request
 * counts, refused ones too) and a key's `last_used_at` (moved on use, at most once a minute). They record traffic,
 * not data, so a checksum of the data leaves them out.
 */
const BOOKKEEPING_TABLES = new Set(['rate_limit_counters'])
const BOOKKEEPING_COLUMNS: Record<string, Set<string>> = { api_keys: new Set(['last_used_at']) }

/** Per table, its row count and a hash of its rows. */
export type Checksum = Record<string, string>

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * A checksum of every row of every table of the database (but the bookkeeping above), for asserting that a
 * request changed nothing. Each row is hashed from its text form and the hashes are summed, which needs no sort
 * and does not depend on where a row lies on disk; any change to a row changes the sum (but for a 64-bit hash
 * collision). The tables and columns are read from the catalogue, so a table added by a migration is covered.
 */
export async function databaseChecksummer(handle: DatabaseHandle): Promise<() => Promise<Checksum>> {
  const { rows: columns } = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      -- A generated column changes only with the columns it is computed from, and costs to hash (a tsvector).
      AND c.is_generated = 'NEVER'
    ORDER BY c.table_name, c.ordinal_position`.execute(handle.db)
  const columnsByTable = new Map<string, string[]>()
  for (const { table_name: table, column_name: column } of columns) {
    if (BOOKKEEPING_TABLES.has(table) || BOOKKEEPING_COLUMNS[table]?.has(column)) continue
    columnsByTable.set(table, [...(columnsByTable.get(table) ?? []), column])
  }
  const perTable = [...columnsByTable].map(([table, names]) => {
    const row = `ROW(${names.map(quoteIdentifier).join(', ')})::text`
    return (
      `SELECT '${table.replaceAll("'", "''")}' AS name, ` +
      `count(*) || ':' || coalesce(sum(hashtextextended(${row}, 0)), 0) AS checksum ` +
      `FROM ${quoteIdentifier(table)}`
    )
  })
  const query = sql.raw<{ name: string; checksum: string }>(perTable.join(' UNION ALL '))
  return async () => {
    const { rows } = await query.execute(handle.db)
    return Object.fromEntries(rows.map((row) => [row.name, row.checksum]))
  }
}

/** The tables whose checksums differ between two checksums. */
export function changedTables(before: Checksum, after: Checksum): string[] {
  const tables = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...tables].filter((table) => before[table] !== after[table]).sort()
}
