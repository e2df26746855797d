import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import t from 'tap'
import { type DatabaseHandle, openEmbeddedDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { findLinkBetween } from '../src/repositories/link.repository.js'
import { loadDataSet, parseDataSet } from '../src/services/data-set.service.js'
import { reviewsChanged } from '../src/services/derived-state.js'
import { createParty } from '../src/services/party.service.js'
import { createReview } from '../src/services/review.service.js'
import { startProjectProcess } from './helpers/project-process.js'
import { databaseUrl, openTestDatabase, serverUrl } from './helpers/test-database.js'

/**
 * `npm run db:check` as an operator runs it: its own process, on the embedded data directory (with nothing else
 * holding it) or on DATABASE_URL (this file's own database, in the run against a server).
 */
const DB_CHECK_SCRIPT = 'src/cli/db-check.ts'
// A fresh data directory, two reopenings of it and two processes: minutes on a loaded machine.
t.setTimeout(300_000)
const example = parseDataSet(
  JSON.parse(readFileSync(new URL('../examples/nagorno-karabakh-2020.json', import.meta.url), 'utf8')),
)
const PIPELINE = '5eed0000-0000-4000-8000-000000000001'
const PIPELINE_DENIAL = '5eed0000-0000-4000-8000-000000000002'
const SHELLING = '5eed0000-0000-4000-8000-000000000010'

// Derived state is written inside a unit of work only: the pool where a transaction goes does not compile.
void ((database: DatabaseHandle) =>
  // @ts-expect-error the pool is not a Transaction
  reviewsChanged(database.db, []))

t.test('db:check passes on a consistent database and names every drift made by hand', async (t) => {
  let server: DatabaseHandle | undefined
  let env: NodeJS.ProcessEnv
  if (serverUrl !== undefined) {
    server = await openTestDatabase()
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(server.db)
    env = { DATABASE_URL: databaseUrl(serverUrl, rows[0]!.name) }
  } else {
    env = { DATABASE_URL: '', DATA_DIR: join(t.testdir(), 'data') }
  }
  t.teardown(() => server?.close())
  /** The database as the check will find it: opened for `work`, and closed again on the embedded engine. */
  const withDatabase = async (work: (database: DatabaseHandle) => Promise<void>) => {
    if (server !== undefined) return work(server)
    const embedded = await openEmbeddedDatabase(env.DATA_DIR as string)
    try {
      await work(embedded)
    } finally {
      await embedded.close()
    }
  }
  const check = async () => {
    const run = startProjectProcess(t, DB_CHECK_SCRIPT, { ...env, LOG_LEVEL: 'warn' })
    const { code } = await run.exited
    return { code, stdout: run.stdout(), stderr: run.stderr() }
  }

  let linkId = ''
  let supportDrifts: string[] = []
  await withDatabase(async ({ db }) => {
    await migrateToLatest(db)
    await loadDataSet(db, example)
    await createParty(db, { slug: 'fact-check-desk', name: 'Fact-check desk', kind: 'fact-checker' }, null)
    const review = {
      reviewer: 'fact-check-desk',
      verdict: 'unproven',
      rating_label: 'Unproven',
      published_at: '2020-10-01T12:00:00Z',
    } as const
    await createReview(db, PIPELINE, review, null)
    linkId = (await findLinkBetween(db, PIPELINE_DENIAL, PIPELINE))!.id
  })

  const clean = await check()
  t.equal(clean.code, 0, `a consistent database passes\n${clean.stderr}`)
  t.equal(clean.stdout, '', 'and no difference is printed')
  t.match(clean.stderr, /matches a fresh count/)

  await withDatabase(async ({ db }) => {
    await sql`UPDATE claims SET rebuttal_count = 3, repeat_count = 2, disputed_aspects = '{cause}', review_count = 0 WHERE id = ${PIPELINE}`.execute(
      db,
    )
    await sql`UPDATE claims SET last_response_at = '2001-02-03T04:05:06Z', standing = 'retracted' WHERE id = ${SHELLING}`.execute(
      db,
    )
    await sql`UPDATE rebuttal_pairs SET rebuttals = rebuttals + 2`.execute(db)
    // The support counts lost: each pair of the data set's support links is found missing.
    const { rows } = await sql<{ claimant: string; supporter: string; supports: number }>`
      SELECT cp.slug AS claimant, sp.slug AS supporter, p.supports FROM support_pairs p
      JOIN parties cp ON cp.id = p.claimant_party_id JOIN parties sp ON sp.id = p.supporter_party_id
      ORDER BY cp.slug, sp.slug`.execute(db)
    supportDrifts = rows.map(
      (row) => `support pair ${row.claimant} > ${row.supporter}  supports: stored 0, counted ${row.supports}`,
    )
    await sql`DELETE FROM support_pairs`.execute(db)
    await sql`UPDATE links SET to_claim_tags = '{stale}' WHERE id = ${linkId}`.execute(db)
  })
  const drifted = await check()
  t.equal(drifted.code, 1, `a drift is a failure\n${drifted.stderr}`)
  const lines = drifted.stdout.trim().split('\n')
  t.same(lines, [
    `claim ${PIPELINE}  rebuttal_count: stored 3, counted 1`,
    `claim ${PIPELINE}  repeat_count: stored 2, counted 0`,
    `claim ${PIPELINE}  disputed_aspects: stored ["cause"], counted ["whole"]`,
    `claim ${PIPELINE}  review_count: stored 0, counted 1`,
    `claim ${SHELLING}  last_response_at: stored 2001-02-03T04:05:06.000Z, counted 2020-10-06T00:00:00.000Z`,
    `claim ${SHELLING}  standing: stored retracted, counted current`,
    `link ${linkId}  to_claim_tags: stored ["stale"], counted ["pipeline","missile","oil"]`,
    'rebuttal pair az-defence-ministry > am-foreign-ministry  rebuttals: stored 3, counted 1',
    ...supportDrifts,
  ])
  t.equal(supportDrifts.length, 2, 'the two support pairs of the data set')
  t.equal(lines.length, 10, `each drift once, and nothing else:\n${drifted.stdout}`)
  t.match(drifted.stderr, /10 difference\(s\)/)
})
