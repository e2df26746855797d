import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openEmbeddedDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { TEST_LIMITS } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'

const embeddedOnly =
  serverUrl !== undefined && 'the embedded database only: a server cancels a long statement by itself'

// A first start creates the database (initdb), which a busy machine takes a while over.
t.setTimeout(600_000)

const STATEMENT_TIMEOUT_MS = 1500
/** 100 million rows counted: tens of seconds for PGlite, far past the statement timeout. */
const SLOW_STATEMENT = sql`SELECT count(*) AS n FROM generate_series(1, 10000) a, generate_series(1, 10000) b`

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

t.test('a long query on the embedded database does not hold the service up', { skip: embeddedOnly }, async (t) => {
  const restarts: number[] = []
  const database = await openEmbeddedDatabase(t.testdir(), {
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    // Requests sent while PGlite reopens wait for it rather than fail: reopening takes seconds on a busy machine.
    connectTimeoutMs: 60_000,
    onRestart: ({ reopenedInMs }) => restarts.push(reopenedInMs),
  })
  await migrateToLatest(database.db)
  const { token } = await createApiKey(database.db, { name: 'writer', scopes: ['write'] })
  const config = { ...loadConfig({ ...TEST_LIMITS, STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) }) }
  const app = await buildApp({ config: { ...config, migrateOnStart: false }, database, logger: false })
  t.teardown(() => app.close())
  // A statement no route sends, run through the service's own database handle.
  app.get('/test-only/slow-statement', async () => {
    await SLOW_STATEMENT.execute(app.db)
    return { finished: true }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

  const written = await fetch(`${base}/v1/parties`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ slug: 'before-the-timeout', name: 'Before the timeout', kind: 'other' }),
  })
  t.equal(written.status, 201, 'a write is acknowledged before the long query')

  const sentAt = performance.now()
  let answeredAt: number | undefined
  const slow = fetch(`${base}/test-only/slow-statement`).then(async (response) => {
    answeredAt = performance.now()
    return { status: response.status, headers: response.headers, body: await response.json() }
  })
  // Let the statement reach PGlite before probing.
  await new Promise((resolve) => setTimeout(resolve, 300))

  const probes: number[] = []
  for (let probe = 0; probe < 9; probe++) {
    const started = performance.now()
    const health = await fetch(`${base}/healthz`)
    probes.push(performance.now() - started)
    t.equal(health.status, 200)
  }
  t.equal(answeredAt, undefined, 'the probes were answered while the long query ran')
  t.ok(median(probes)! < 100, `/healthz answers within 100 ms meanwhile (median ${median(probes)!.toFixed(1)} ms)`)

  const answer = await slow
  const tookMs = answeredAt! - sentAt
  t.equal(answer.status, 503, 'the long query is answered 503')
  t.match(answer.headers.get('content-type'), /^application\/problem\+json\b/)
  t.match(answer.headers.get('retry-after'), /^[1-9]\d*$/, 'with Retry-After')
  t.match(answer.body, { type: `${PROBLEM_TYPE_PREFIX}service-unavailable`, status: 503 })
  t.ok(tookMs >= STATEMENT_TIMEOUT_MS, `not before the statement timeout (${Math.round(tookMs)} ms)`)
  t.ok(tookMs < STATEMENT_TIMEOUT_MS + 5000, 'but at it, give or take a busy machine')

  const read = await fetch(`${base}/v1/parties/before-the-timeout`)
  t.equal(read.status, 200, 'the next request is served, and the write acknowledged before it is there')
  const after = await fetch(`${base}/v1/parties`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ slug: 'after-the-timeout', name: 'After the timeout', kind: 'other' }),
  })
  t.equal(after.status, 201, 'and writes are taken again')
  const claim = await fetch(`${base}/v1/claims`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      party: 'after-the-timeout',
      text: 'Said after the reopening.',
      stated_at: '2021-01-01T00:00:00Z',
    }),
  })
  t.equal(claim.status, 201)
  const exported = await fetch(`${base}/v1/claims`, { headers: { accept: 'text/csv' } })
  t.equal(exported.status, 200, 'an export streams through its cursor')
  t.match(await exported.text(), /Said after the reopening\./)
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM parties`.execute(database.db)
  t.equal(Number(rows[0]?.n), 2, 'both writes are stored')
  t.equal(restarts.length, 1, 'PGlite was reopened once')
  t.comment(
    JSON.stringify({
      healthzMedianMs: Number(median(probes)!.toFixed(1)),
      slowAnsweredInMs: Math.round(tookMs),
      reopenedInMs: restarts[0],
    }),
  )
})
