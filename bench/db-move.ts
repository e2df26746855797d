import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import pg from 'pg'
import { openEmbeddedDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import type { Transaction } from '../src/db/transaction.js'
import { recountResponses } from '../src/repositories/derived-state.repository.js'
import { databaseUrl, serverUrl } from './scratch-database.js'

/**
 * How long `npm run db:move` takes to copy an embedded database of `--claims` claims (each with its first version,
 * and 3 rebuttals for every 10 claims, their counts and matrix pairs kept) into a fresh database on DATABASE_URL's
 * server. The data is made in PGlite by INSERT … SELECT over generate_series; the move runs as its own process,
 * as an operator runs it, and its time is the wall-clock time of that process.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/db-move.ts [--claims 100000]
 */

const { values: options } = parseArgs({ options: { claims: { type: 'string', default: '100000' } } })
const CLAIMS = Number(options.claims)
/** The machine's load before the run: what else it was doing while this was measured. */
const loadAtStart = os.loadavg()
if (!Number.isInteger(CLAIMS) || CLAIMS < 1000) throw new Error(`--claims ${options.claims}: give 1000 or more`)
const PARTIES = Math.max(10, Math.round(CLAIMS / 1000))
const LINKS = Math.round(CLAIMS * 0.3)
const TARGET = 'counterclaim_bench_move'

const server = serverUrl()
const dataDir = await mkdtemp(join(os.tmpdir(), 'counterclaim-bench-move-'))
const log = (line: string) => console.error(line)

async function generate(): Promise<void> {
  const started = performance.now()
  const handle = await openEmbeddedDatabase(dataDir, { statementTimeoutMs: 600_000 })
  try {
    const db = handle.db
    await migrateToLatest(db)
    await sql`
      INSERT INTO parties (slug, name, kind)
      SELECT 'party-' || g, 'Party ' || g, 'organisation' FROM generate_series(1, ${PARTIES}) g`.execute(db)
    await sql`
      INSERT INTO claims (party_id, text, stated_at, tags, sources)
      SELECT p.ids[1 + (g * 7919) % ${PARTIES}],
             'Claim ' || g || ': the ' || (ARRAY['pipeline', 'village', 'convoy', 'airport'])[1 + g % 4] ||
               ' was ' || (ARRAY['shelled', 'struck', 'hit', 'attacked'])[1 + (g / 4) % 4] || ' at dawn.',
             timestamptz '2020-01-01 00:00:00+00' + g * interval '5 minutes',
             ARRAY[(ARRAY['strike', 'casualties', 'infrastructure'])[1 + g % 3]],
             jsonb_build_array(jsonb_build_object('url', 'https://news.example/' || g, 'publisher', 'News'))
      FROM generate_series(1, ${CLAIMS}) g, (SELECT array_agg(id ORDER BY slug) AS ids FROM parties) p`.execute(db)
    await sql`
      INSERT INTO claim_versions (claim_id, version, snapshot)
      SELECT id, 1, jsonb_build_object('text', text, 'stated_at', stated_at, 'tags', tags, 'sources', sources)
      FROM claims`.execute(db)
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
    const { rows } = await sql<{ id: string }>`SELECT DISTINCT to_claim_id AS id FROM links`.execute(db)
    await recountResponses(
      db as Transaction,
      rows.map((row) => row.id),
    )
    await sql`
      INSERT INTO rebuttal_pairs (claimant_party_id, rebutter_party_id, rebuttals)
      SELECT to_party_id, from_party_id, count(*) FROM links GROUP BY to_party_id, from_party_id`.execute(db)
    const counts = await sql<{ claims: number; links: number }>`
      SELECT (SELECT count(*)::int FROM claims) AS claims, (SELECT count(*)::int FROM links) AS links`.execute(db)
    log(
      `generated ${counts.rows[0]!.claims} claims, ${counts.rows[0]!.links} links in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
  } finally {
    await handle.close()
  }
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.toString() })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

try {
  await generate()
  await admin(`DROP DATABASE IF EXISTS ${TARGET} WITH (FORCE)`)
  await admin(`CREATE DATABASE ${TARGET}`)
  const started = performance.now()
  const moved = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/db-move.ts', '--to', databaseUrl(server, TARGET)],
    {
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      cwd: new URL('..', import.meta.url),
    },
  )
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(moved.stdout)
  process.stderr.write(moved.stderr)
  if (moved.status !== 0) throw new Error(`db:move exited ${moved.status}`)
  log(
    `db:move of ${CLAIMS} claims: ${seconds.toFixed(1)} s wall clock; load average before the run ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}`,
  )
} finally {
  await admin(`DROP DATABASE IF EXISTS ${TARGET} WITH (FORCE)`).catch(() => undefined)
  await rm(dataDir, { recursive: true, force: true })
}
