import { parseArgs } from 'node:util'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'
import { SESSION_SETTINGS } from '../src/db/database.js'
import type { Database } from '../src/db/schema.js'
import { similarClaims } from '../src/repositories/claim.repository.js'
import { SIMILAR_SEARCH_BOUNDS } from '../src/schemas/claim.schema.js'
import { checkDatabaseName, DEFAULT_DATABASE, databaseUrl, serverUrl } from './scratch-database.js'

/**
 * The database time of GET /v1/claims/{id}/similar over a sample of claims: the repository's own statements,
 * parameters included, under EXPLAIN (ANALYZE, BUFFERS), once per claim after one plain run of the whole sample
 * to warm the caches. Half the sample are claims with planted rewordings (so with true positives), half any claims.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/similar-timings.ts [--database NAME]
 *     [--sample 100] [--min-score 0.3]
 */

const { values: options } = parseArgs({
  options: {
    database: { type: 'string', default: DEFAULT_DATABASE },
    sample: { type: 'string', default: '100' },
    'min-score': { type: 'string', default: '0.3' },
  },
})
const server = serverUrl()
const database = checkDatabaseName(options.database, server)
const sample = Number(options.sample)
const minScore = Number(options['min-score'])

interface Explained {
  ms: number
  buffers: number
}
/** While set, each statement is explained, its figures added here, and then run for its rows. */
let explained: Explained | undefined

const pool = new pg.Pool({ connectionString: databaseUrl(server, database), max: 1, options: SESSION_SETTINGS })
const explainingPool: PostgresPool = {
  connect: async () => {
    const client = await pool.connect()
    const query = async (text: string, parameters: readonly unknown[]) => {
      if (explained !== undefined) {
        const result = await client.query<{
          'QUERY PLAN': [{ Plan: Record<string, number>; [key: string]: unknown }]
        }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, [...parameters])
        const [top] = result.rows[0]!['QUERY PLAN']
        explained.ms += (top['Planning Time'] as number) + (top['Execution Time'] as number)
        explained.buffers += top.Plan['Shared Hit Blocks']! + top.Plan['Shared Read Blocks']!
      }
      return client.query(text, [...parameters])
    }
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    }
  },
  end: () => pool.end(),
}
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: explainingPool }) })

// The first claim of a block of 16 is the one the generator's rewordings copy: those with a reworded claim of
// their party stated within a day are found by the same test the generator's rewording makes.
const { rows: claims } = await pool.query<{ id: string }>(
  `(SELECT c.id FROM claims c TABLESAMPLE SYSTEM (1) REPEATABLE (17)
    WHERE c.deleted_at IS NULL AND EXISTS (
      SELECT 1 FROM claims r WHERE r.party_id = c.party_id AND r.id <> c.id AND r.deleted_at IS NULL
        AND r.stated_at BETWEEN c.stated_at - interval '1 day' AND c.stated_at + interval '1 day'
        AND similarity(r.text, c.text) >= 0.5)
    ORDER BY md5(c.id::text) LIMIT $1)
   UNION ALL
   (SELECT c.id FROM claims c TABLESAMPLE SYSTEM (1) REPEATABLE (19) WHERE c.deleted_at IS NULL
    ORDER BY md5(c.id::text) LIMIT $1)`,
  [Math.ceil(sample / 2)],
)

const run = (claim: (typeof claims)[number]) =>
  similarClaims(db, {
    id: claim.id,
    minScore,
    limit: 10,
    ...SIMILAR_SEARCH_BOUNDS,
  })
for (const claim of claims) await run(claim)
const figures: Array<Explained & { found: number; scored: number }> = []
for (const claim of claims) {
  explained = { ms: 0, buffers: 0 }
  const { rows, scope } = await run(claim)
  figures.push({ ...explained, found: rows.length, scored: scope.scored })
  explained = undefined
}
await db.destroy()

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
const withPlanted = figures.slice(0, Math.ceil(sample / 2))
const describe = (label: string, rows: typeof figures) => {
  const ms = rows.map((row) => row.ms)
  const buffers = rows.map((row) => row.buffers)
  console.log(
    `${label}: ${rows.length} claims, database ms median ${quantile(ms, 0.5).toFixed(1)}, p95 ${quantile(ms, 0.95).toFixed(1)}, ` +
      `max ${quantile(ms, 1).toFixed(1)}; buffers median ${quantile(buffers, 0.5)}; ` +
      `with a match ${rows.filter((row) => row.found > 0).length}; claims scored median ${quantile(
        rows.map((row) => row.scored),
        0.5,
      )}`,
  )
}
console.log(`${database}, min_score ${minScore}`)
describe('all', figures)
describe('with planted rewordings', withPlanted)
describe('any claims', figures.slice(withPlanted.length))
