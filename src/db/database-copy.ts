import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, type RawBuilder, sql } from 'kysely'
import { withoutClientTimeouts } from './guarded-client.js'
import { migrateToLatest, pendingMigrations } from './migrator.js'
import { type Db, TABLES_IN_DEPENDENCY_ORDER } from './schema.js'

/** Rows read and written at a time: a batch is one statement each way, and memory holds one batch. */
export const DEFAULT_BATCH_ROWS = 2000

/** The copy cannot start (or went wrong on the way) for a reason its operator can act on; nothing was written. */
export class DatabaseCopyError extends Error {}

export interface TableCopied {
  table: string
  rows: number
}

export interface DatabaseCopyOptions {
  batchRows?: number
  /** Called as each table is done, in the order they are copied. */
  onTableCopied?: (copied: TableCopied) => void
  /** Runs in the target's transaction once every row is in, before it commits; throwing rolls the copy back. */
  beforeCommit?: (target: Db) => Promise<void>
  /** Stops the copy with an error once this many rows are written: how a test cuts a copy off half way. */
  failAfterRows?: number
}

/** The migration bookkeeping: each database has its own, written by its own migrations. */
const MIGRATION_TABLES = new Set([DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE])

async function tablesOf(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT relname AS name FROM pg_class
    WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')
    ORDER BY relname`.execute(db)
  return rows.map((row) => row.name).filter((name) => !MIGRATION_TABLES.has(name))
}

async function tablesWithRows(db: Db): Promise<string[]> {
  const tables = await tablesOf(db)
  const holding: string[] = []
  for (const table of tables) {
    const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.table(table)}) AS any`.execute(db)
    if (rows[0]?.any === true) holding.push(table)
  }
  return holding
}

interface TableShape {
  /** The columns a row is written with: all but generated ones, in table order. */
  columns: string[]
  /** The primary key's columns and their types, in key order: the copy reads in this order, a batch after another. */
  key: { name: string; type: string }[]
  /** Columns pointing into the same table: written after every row of it is in, since rows come in key order. */
  selfReferences: string[]
}

async function shapeOf(db: Db, table: string): Promise<TableShape> {
  const relation = sql`${sql.lit(table)}::regclass`
  const { rows: columns } = await sql<{ name: string }>`
    SELECT attname AS name FROM pg_attribute
    WHERE attrelid = ${relation} AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
    ORDER BY attnum`.execute(db)
  const { rows: key } = await sql<{ name: string; type: string }>`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = ${relation} AND i.indisprimary
    ORDER BY array_position(i.indkey::int2[], a.attnum)`.execute(db)
  const { rows: selfReferences } = await sql<{ name: string }>`
    SELECT DISTINCT a.attname AS name
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f' AND c.conrelid = ${relation} AND c.confrelid = c.conrelid
    ORDER BY a.attname`.execute(db)
  if (key.length === 0) throw new DatabaseCopyError(`table ${table} has no primary key to copy it in order by`)
  return {
    columns: columns.map((column) => column.name),
    key,
    selfReferences: selfReferences.map((column) => column.name),
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((item, i) => item === b[i])

interface Batch {
  /** The rows as a JSON array of objects, passed on to the target as they came. */
  json: string
  count: number
  /** The key of the batch's last row, where the next batch starts. */
  last: unknown[]
}

/**
 * Reads `columns` of the rows of `table` after `after` (a key), in key order, at most `limit` of them. The rows
 * stay JSON text from one server to the other: every value keeps its exact text form (microseconds of a time,
 * every digit of a number), which JavaScript values would not.
 */
async function readBatch(
  db: Db,
  table: string,
  shape: TableShape,
  columns: string[],
  after: unknown[] | undefined,
  limit: number,
  where?: RawBuilder<unknown>,
): Promise<Batch> {
  const keyColumns = sql.join(shape.key.map((column) => sql.ref(column.name)))
  const keyOfB = sql.join(shape.key.map((column) => sql.ref(`b.${column.name}`)))
  const conditions: RawBuilder<unknown>[] = []
  if (after !== undefined) {
    const afterKey = sql.join(shape.key.map((column, i) => sql`CAST(${String(after[i])} AS ${sql.raw(column.type)})`))
    conditions.push(sql`(${keyColumns}) > (${afterKey})`)
  }
  if (where !== undefined) conditions.push(where)
  const filter = conditions.length === 0 ? sql`` : sql`WHERE ${sql.join(conditions, sql` AND `)}`
  const { rows } = await sql<{ json: string | null; count: number; last: string | null }>`
    SELECT json_agg(b ORDER BY ${keyOfB})::text AS json, count(*)::int AS count,
           (array_agg(json_build_array(${keyOfB})::text ORDER BY ${sql.join(
             shape.key.map((column) => sql`${sql.ref(`b.${column.name}`)} DESC`),
           )}))[1] AS last
    FROM (
      SELECT ${sql.join(columns.map((column) => sql.ref(column)))} FROM ${sql.table(table)}
      ${filter} ORDER BY ${keyColumns} LIMIT ${limit}
    ) b`.execute(db)
  const row = rows[0]!
  return { json: row.json ?? '[]', count: row.count, last: row.last === null ? [] : JSON.parse(row.last) }
}

/** Every batch of `table` in key order, one read at a time. */
async function* batchesOf(
  db: Db,
  table: string,
  shape: TableShape,
  columns: string[],
  limit: number,
  where?: RawBuilder<unknown>,
): AsyncGenerator<Batch> {
  let after: unknown[] | undefined
  for (;;) {
    const batch = await readBatch(db, table, shape, columns, after, limit, where)
    if (batch.count === 0) return
    yield batch
    if (batch.count < limit) return
    after = batch.last
  }
}

async function copyTable(
  source: Db,
  target: Db,
  table: string,
  shape: TableShape,
  limit: number,
  afterBatch: (rows: number) => void,
): Promise<number> {
  const selfReferences = new Set(shape.selfReferences)
  const columnList = sql.join(shape.columns.map((column) => sql.ref(column)))
  // A row may point to one that comes later in key order: such columns are left empty at first, and filled in
  // below once every row of the table is in.
  const values = sql.join(shape.columns.map((column) => (selfReferences.has(column) ? sql`NULL` : sql.ref(column))))
  let copied = 0
  for await (const batch of batchesOf(source, table, shape, shape.columns, limit)) {
    await sql`
      INSERT INTO ${sql.table(table)} (${columnList})
      SELECT ${values} FROM json_populate_recordset(NULL::${sql.table(table)}, ${batch.json}::json)`.execute(target)
    copied += batch.count
    afterBatch(batch.count)
  }
  if (selfReferences.size > 0) {
    const referring = [...selfReferences]
    const anySet = sql.join(
      referring.map((column) => sql`${sql.ref(column)} IS NOT NULL`),
      sql` OR `,
    )
    const columns = [...shape.key.map((column) => column.name), ...referring]
    const keyMatches = sql.join(
      shape.key.map((column) => sql`${sql.ref(`t.${column.name}`)} = ${sql.ref(`s.${column.name}`)}`),
      sql` AND `,
    )
    const assignments = sql.join(referring.map((column) => sql`${sql.ref(column)} = ${sql.ref(`s.${column}`)}`))
    for await (const batch of batchesOf(source, table, shape, columns, limit, sql`(${anySet})`)) {
      await sql`
        UPDATE ${sql.table(table)} AS t SET ${assignments}
        FROM json_populate_recordset(NULL::${sql.table(table)}, ${batch.json}::json) AS s
        WHERE ${keyMatches}`.execute(target)
    }
  }
  return copied
}

async function countRows(db: Db, table: string): Promise<number> {
  const { rows } = await sql<{ count: string }>`SELECT count(*) AS count FROM ${sql.table(table)}`.execute(db)
  return Number(rows[0]!.count)
}

/**
 * Copies every row of every table of `source` into `target`, which must hold none (it is migrated first when it
 * has no schema, or an older one). Ids, versions, history, tombstones and derived state arrive as they are: rows
 * are copied, not replayed through the service. The source is read in one read-only snapshot, so a service still
 * writing to it does not tear the copy; the target is written in one transaction, which also checks each table's
 * row count against the source before it commits: a copy that fails, or is cut off, leaves the target empty.
 */
export async function copyDatabase(source: Db, target: Db, options: DatabaseCopyOptions = {}): Promise<TableCopied[]> {
  const limit = options.batchRows ?? DEFAULT_BATCH_ROWS
  const listed = new Set<string>(TABLES_IN_DEPENDENCY_ORDER)
  return withoutClientTimeouts(async () => {
    const pending = await pendingMigrations(source)
    if (pending.length > 0) {
      const names = pending.length > 3 ? `${pending.slice(0, 3).join(', ')}, …` : pending.join(', ')
      throw new DatabaseCopyError(
        `the source has ${pending.length} migration(s) not applied yet (npm run db:migrate on it first): ${names}`,
      )
    }
    const unknown = (await tablesOf(source)).filter((table) => !listed.has(table))
    if (unknown.length > 0) throw new DatabaseCopyError(`the source has tables this copy does not know: ${unknown}`)
    const holding = await tablesWithRows(target)
    if (holding.length > 0) {
      throw new DatabaseCopyError(`the target database is not empty: ${holding.join(', ')} hold rows`)
    }
    await migrateToLatest(target)

    return source
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((reading) =>
        target.transaction().execute(async (writing) => {
          await sql`SET LOCAL statement_timeout = 0`.execute(writing)
          await sql`SET LOCAL statement_timeout = 0`.execute(reading)
          // Nothing else writes to the target until the copy commits (or is rolled back).
          const all = sql.join(TABLES_IN_DEPENDENCY_ORDER.map((table) => sql.table(table)))
          await sql`LOCK TABLE ${all} IN EXCLUSIVE MODE`.execute(writing)
          const written = await tablesWithRows(writing)
          if (written.length > 0) {
            throw new DatabaseCopyError(`the target database is not empty: ${written.join(', ')} hold rows`)
          }
          let copiedInAll = 0
          const copied: TableCopied[] = []
          for (const table of TABLES_IN_DEPENDENCY_ORDER) {
            const shape = await shapeOf(reading, table)
            const targetShape = await shapeOf(writing, table)
            if (!sameList(shape.columns, targetShape.columns)) {
              throw new DatabaseCopyError(
                `table ${table} has other columns in the target (${targetShape.columns}) than in the source (${shape.columns})`,
              )
            }
            const rows = await copyTable(reading, writing, table, shape, limit, (rows) => {
              copiedInAll += rows
              if (options.failAfterRows !== undefined && copiedInAll >= options.failAfterRows) {
                throw new DatabaseCopyError(`stopped as asked after ${copiedInAll} rows, in table ${table}`)
              }
            })
            const [inSource, inTarget] = [await countRows(reading, table), await countRows(writing, table)]
            if (rows !== inSource || inTarget !== inSource) {
              throw new DatabaseCopyError(
                `table ${table}: ${inSource} rows in the source, ${rows} copied, ${inTarget} in the target`,
              )
            }
            copied.push({ table, rows })
            options.onTableCopied?.({ table, rows })
          }
          await options.beforeCommit?.(writing)
          return copied
        }),
      )
  })
}
