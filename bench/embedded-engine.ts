import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import autocannon from 'autocannon'
import { sql } from 'kysely'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { type DatabaseHandle, openEmbeddedDatabase, openPgliteDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { PGLITE_EXTENSIONS } from '../src/db/pglite-extensions.js'

/**
 * What running PGlite in a worker thread costs against running it in the service's own thread, on GET one claim:
 * the same data directory opened both ways, one after the other, A B A B.
 *
 *   npx tsx bench/embedded-engine.ts [--scale 0.1] [--duration 10] [--pairs 3] [--connections 10]
 *
 * `--scale 1` is 1,000 parties, 1,000,000 claims and 300,000 rebuttals, as `npm run bench:data` makes on a server;
 * the rows are made here in PGlite by INSERT … SELECT over generate_series, with the rebuttal counts and copies
 * the service keeps. It prints a Markdown section for bench/RESULTS.md.
 */

const { values: options } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.1' },
    duration: { type: 'string', default: '10' },
    pairs: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
  },
})
const scale = Number(options.scale)
const duration = Number(options.duration)
const pairs = Number(options.pairs)
const connections = Number(options.connections)
const PARTIES = Math.max(10, Math.round(1000 * scale))
const CLAIMS = Math.max(1000, Math.round(1_000_000 * scale))
const LINKS = Math.max(100, Math.round(300_000 * scale))

const loadAtStart = os.loadavg()
const dataDir = await mkdtemp(join(os.tmpdir(), 'counterclaim-bench-embedded-'))
const log = (line: string) => console.error(line)

async function generate(): Promise<string[]> {
  const started = performance.now()
  const handle = await openEmbeddedDatabase(dataDir, { statementTimeoutMs: 600_000 })
  try {
    await migrateToLatest(handle.db)
    const db = handle.db
    await sql`
      INSERT INTO parties (slug, name, kind)
      SELECT 'party-' || g, 'Party ' || g, 'organisation' FROM generate_series(1, ${PARTIES}) g`.execute(db)
    await sql`
      INSERT INTO claims (party_id, text, stated_at, tags)
      SELECT p.ids[1 + (g * 7919) % ${PARTIES}],
             'Claim ' || g || ': the ' || (ARRAY['pipeline', 'village', 'convoy', 'airport'])[1 + g % 4] ||
               ' was ' || (ARRAY['shelled', 'struck', 'hit', 'attacked'])[1 + (g / 4) % 4] || ' at dawn.',
             timestamptz '2020-01-01 00:00:00+00' + g * interval '5 minutes',
             ARRAY[(ARRAY['strike', 'casualties', 'infrastructure'])[1 + g % 3]]
      FROM generate_series(1, ${CLAIMS}) g, (SELECT array_agg(id ORDER BY slug) AS ids FROM parties) p`.execute(db)
    // Each rebuttal answers an earlier claim of another party: claim g answers claim g - k.
    await sql`
      WITH numbered AS (SELECT id, party_id, tags, stated_at, row_number() OVER (ORDER BY stated_at) AS n FROM claims)
      INSERT INTO links (from_claim_id, to_claim_id, from_party_id, to_party_id, kind, to_claim_tags,
                         to_claim_stated_at, from_claim_stated_at)
      SELECT f.id, t.id, f.party_id, t.party_id, 'rebuts', t.tags, t.stated_at, f.stated_at
      FROM generate_series(1, ${LINKS}) g
      JOIN numbered f ON f.n = ${CLAIMS} - g + 1
      JOIN numbered t ON t.n = ${CLAIMS} - g + 1 - (1 + (g * 31) % 97)
      WHERE f.party_id <> t.party_id`.execute(db)
    await sql`
      UPDATE claims c SET rebuttal_count = r.n, last_response_at = r.latest
      FROM (SELECT to_claim_id, count(*)::int AS n, max(from_claim_stated_at) AS latest
            FROM links GROUP BY to_claim_id) r
      WHERE c.id = r.to_claim_id`.execute(db)
    await sql`ANALYZE`.execute(db)
    const { rows } = await sql<{ id: string }>`SELECT id FROM claims ORDER BY md5(id::text) LIMIT 1000`.execute(db)
    const counts = await sql<{ claims: number; links: number }>`
      SELECT (SELECT count(*)::int FROM claims) AS claims, (SELECT count(*)::int FROM links) AS links`.execute(db)
    log(
      `generated ${counts.rows[0]!.claims} claims, ${counts.rows[0]!.links} links in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
    return rows.map((row) => row.id)
  } finally {
    await handle.close()
  }
}

type Arm = 'worker thread' | 'service thread'

async function open(arm: Arm): Promise<DatabaseHandle> {
  if (arm === 'worker thread') return openEmbeddedDatabase(dataDir)
  const pglite = new PGlite(join(dataDir, 'pgdata'), { extensions: PGLITE_EXTENSIONS })
  return openPgliteDatabase(pglite, () => undefined)
}

interface Run {
  arm: Arm
  rps: number
  p50: number
  p99: number
  non2xx: number
}

async function measure(arm: Arm, ids: string[], seconds: number): Promise<Run> {
  const database = await open(arm)
  const config = {
    ...loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_PER_IP: '0', MAX_EVENT_LOOP_DELAY_MS: '0', METRICS_PORT: '0' }),
    migrateOnStart: false,
  }
  const app = await buildApp({ config, database, logger: false })
  try {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    let next = 0
    const result = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: seconds,
      requests: [{ setupRequest: (request) => ({ ...request, path: `/v1/claims/${ids[next++ % ids.length]}` }) }],
    })
    return {
      arm,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx + result.errors + result.timeouts,
    }
  } finally {
    await app.close()
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const fmt = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 })

try {
  const ids = await generate()
  const runs: Run[] = []
  for (let pair = 1; pair <= pairs; pair++) {
    for (const arm of ['worker thread', 'service thread'] as const) {
      await measure(arm, ids, 3) // warm-up, not counted
      const run = await measure(arm, ids, duration)
      log(`pair ${pair}, ${arm}: ${fmt(run.rps)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, errors ${run.non2xx}`)
      runs.push(run)
    }
  }
  const of = (arm: Arm) => runs.filter((run) => run.arm === arm)
  const worker = median(of('worker thread').map((run) => run.rps))
  const inThread = median(of('service thread').map((run) => run.rps))
  const lines = [
    `Run ${new Date().toISOString()}: \`npx tsx bench/embedded-engine.ts --scale ${scale} --duration ${duration} ` +
      `--pairs ${pairs} --connections ${connections}\``,
    '',
    `- ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}; load average at start ` +
      `${loadAtStart.map((load) => load.toFixed(2)).join(', ')}; Node.js ${process.version}`,
    `- ${fmt(PARTIES)} parties, ${fmt(CLAIMS)} claims, up to ${fmt(LINKS)} rebuttals; GET /v1/claims/:id of 1,000 ` +
      `random claims, ${connections} connections, ${duration} s a run after 3 s of warm-up, A B A B`,
    '',
    '| PGlite runs in | req/s (median, runs) | p50 ms | p99 ms | non-2xx |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...(['worker thread', 'service thread'] as const).map((arm) => {
      const armRuns = of(arm)
      return (
        `| ${arm} | ${fmt(median(armRuns.map((run) => run.rps)))} (${armRuns.map((run) => fmt(run.rps)).join(', ')}) ` +
        `| ${median(armRuns.map((run) => run.p50))} | ${median(armRuns.map((run) => run.p99))} ` +
        `| ${armRuns.reduce((sum, run) => sum + run.non2xx, 0)} |`
      )
    }),
    '',
    `Worker thread / service thread: ${(worker / inThread).toFixed(2)}x the requests per second.`,
  ]
  console.log(lines.join('\n'))
} finally {
  await rm(dataDir, { recursive: true, force: true })
}
