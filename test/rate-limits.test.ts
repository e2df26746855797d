import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openServerDatabase } from '../src/db/database.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { SYNC_INTERVAL_MS } from '../src/http/rate-limit-store.js'
import { countHits, deleteEndedWindows } from '../src/repositories/rate-limit.repository.js'
import { buildTestApp, TEST_LIMITS } from './helpers/test-app.js'
import { databaseUrl, openTestDatabase, serverUrl } from './helpers/test-database.js'

/** A GET as a given client: with an API key or without, from a given address. */
function get(app: FastifyInstance, url: string, client: { token?: string; from?: string } = {}) {
  return app.inject({
    method: 'GET',
    url,
    remoteAddress: client.from ?? '127.0.0.1',
    headers: client.token === undefined ? {} : { authorization: `Bearer ${client.token}` },
  })
}

const numberHeader = (response: LightMyRequestResponse, name: string) => Number(response.headers[name])

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('answers carry RateLimit headers that count down, then a 429 problem with Retry-After', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '5', RATE_LIMIT_PER_KEY: '50' })
  for (let remaining = 4; remaining >= 0; remaining--) {
    const response = await get(app, '/v1/parties', { from: '192.0.2.1' })
    t.equal(response.statusCode, 200)
    t.equal(numberHeader(response, 'ratelimit-limit'), 5, 'the per-address limit')
    t.equal(numberHeader(response, 'ratelimit-remaining'), remaining)
    const reset = numberHeader(response, 'ratelimit-reset')
    t.ok(reset > 0 && reset <= 60, `RateLimit-Reset is within the 60 s window (${reset})`)
  }

  const refused = await get(app, '/v1/claims', { from: '192.0.2.1' })
  t.equal(refused.statusCode, 429, 'the limit is per client, whichever route')
  t.match(refused.headers['content-type'], /^application\/problem\+json\b/)
  t.match(refused.json(), {
    type: `${PROBLEM_TYPE_PREFIX}too-many-requests`,
    status: 429,
    code: 'too-many-requests',
    title: 'Too many requests',
    detail: /5 requests in 60 s/,
    instance: refused.headers['x-request-id'],
  })
  const retryAfter = numberHeader(refused, 'retry-after')
  t.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After in seconds (${retryAfter})`)
  t.equal(numberHeader(refused, 'ratelimit-remaining'), 0)
  t.equal(numberHeader(refused, 'ratelimit-reset'), retryAfter, 'Retry-After is when the window ends')

  const again = await get(app, '/v1/parties', { from: '192.0.2.1' })
  t.equal(again.statusCode, 429, 'refused until the window ends')

  t.test('probes and the API description are not limited, and say nothing of limits', async (t) => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/json']) {
      const response = await get(app, url, { from: '192.0.2.1' })
      t.equal(response.statusCode, 200, `GET ${url}`)
      t.equal(response.headers['ratelimit-limit'], undefined)
    }
  })

  t.test('another address has a budget of its own', async (t) => {
    const response = await get(app, '/v1/parties', { from: '198.51.100.7' })
    t.equal(response.statusCode, 200)
    t.equal(numberHeader(response, 'ratelimit-remaining'), 4)
  })

  t.test('IPv6 addresses count by their /64, which one client usually holds whole', async (t) => {
    const first = await get(app, '/v1/parties', { from: '2001:db8:1:2::1' })
    const sibling = await get(app, '/v1/parties', { from: '2001:db8:1:2:ffff::9' })
    const elsewhere = await get(app, '/v1/parties', { from: '2001:db8:1:3::1' })
    t.equal(numberHeader(first, 'ratelimit-remaining'), 4)
    t.equal(numberHeader(sibling, 'ratelimit-remaining'), 3, 'same /64: same budget')
    t.equal(numberHeader(elsewhere, 'ratelimit-remaining'), 4, 'another /64: its own budget')
  })
})

t.test('requests with an API key count per key, apart from the address they come from', async (t) => {
  const { app, keys } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '2', RATE_LIMIT_PER_KEY: '4' })
  // The address runs out of its anonymous budget.
  await get(app, '/v1/parties', { from: '192.0.2.1' })
  await get(app, '/v1/parties', { from: '192.0.2.1' })
  t.equal((await get(app, '/v1/parties', { from: '192.0.2.1' })).statusCode, 429)

  const keyed = await get(app, '/v1/parties', { from: '192.0.2.1', token: keys.read })
  t.equal(keyed.statusCode, 200, 'the same address with a key is counted on the key')
  t.equal(numberHeader(keyed, 'ratelimit-limit'), 4, 'the per-key limit')
  t.equal(numberHeader(keyed, 'ratelimit-remaining'), 3)

  const elsewhere = await get(app, '/v1/parties', { from: '203.0.113.5', token: keys.read })
  t.equal(numberHeader(elsewhere, 'ratelimit-remaining'), 2, 'a key has one budget, wherever it is used from')

  const otherKey = await get(app, '/v1/parties', { from: '192.0.2.1', token: keys.write })
  t.equal(numberHeader(otherKey, 'ratelimit-remaining'), 3, 'each key has a budget of its own')

  await get(app, '/v1/parties', { token: keys.read })
  await get(app, '/v1/parties', { token: keys.read })
  const spent = await get(app, '/v1/parties', { token: keys.read })
  t.equal(spent.statusCode, 429)
  t.match(spent.json(), { code: 'too-many-requests', detail: /this API key may send 4 requests/ })
  t.equal((await get(app, '/v1/parties', { token: keys.write })).statusCode, 200, 'the other key is still served')
})

t.test('X-Forwarded-For names the client only when it comes from a trusted proxy', async (t) => {
  const forwarded = (app: FastifyInstance, from: string, client: string) =>
    app.inject({ method: 'GET', url: '/v1/parties', remoteAddress: from, headers: { 'x-forwarded-for': client } })

  t.test('without TRUST_PROXY, a client cannot choose its bucket by writing the header', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '5' })
    const first = await forwarded(app, '192.0.2.77', '203.0.113.1')
    const second = await forwarded(app, '192.0.2.77', '203.0.113.2')
    t.same([numberHeader(first, 'ratelimit-remaining'), numberHeader(second, 'ratelimit-remaining')], [4, 3])
  })

  t.test('behind a trusted load balancer, each client has its own bucket', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '5', TRUST_PROXY: '10.0.0.0/8' })
    const first = await forwarded(app, '10.1.2.3', '203.0.113.1')
    const second = await forwarded(app, '10.9.8.7', '203.0.113.2')
    const again = await forwarded(app, '10.9.8.7', '203.0.113.1')
    t.same(
      [first, second, again].map((response) => numberHeader(response, 'ratelimit-remaining')),
      [4, 4, 3],
    )
    const spoofed = await forwarded(app, '192.0.2.77', '203.0.113.1')
    t.equal(numberHeader(spoofed, 'ratelimit-remaining'), 4, 'an untrusted peer is counted as itself')
  })
})

t.test('concurrent requests of one client are each counted once, and no more than the limit pass', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '10' })
  const responses = await Promise.all(Array.from({ length: 25 }, () => get(app, '/v1/parties', { from: '192.0.2.9' })))
  const served = responses.filter((response) => response.statusCode === 200)
  t.equal(served.length, 10, 'exactly the limit is served')
  t.equal(responses.filter((response) => response.statusCode === 429).length, 15, 'the rest is refused')
  const remaining = served.map((response) => numberHeader(response, 'ratelimit-remaining')).sort((a, b) => a - b)
  t.same(remaining, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each served request had its own place in the count')
})

t.test("requests let through on an instance's own count reach the database within a sync", async (t) => {
  const { app, database } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '100' })
  for (let i = 0; i < 10; i++) await get(app, '/v1/parties', { from: '192.0.2.70' })
  await sleep(2 * SYNC_INTERVAL_MS + 100)
  const { rows } = await sql<{ hits: number }>`
    SELECT hits FROM rate_limit_counters WHERE key = 'ip:192.0.2.70'`.execute(database.db)
  t.equal(rows[0]?.hits, 10)
})

t.test('the window ends, and the budget is whole again', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '2', RATE_LIMIT_WINDOW_MS: '1000' })
  await get(app, '/v1/parties')
  await get(app, '/v1/parties')
  const refused = await get(app, '/v1/parties')
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '1')
  await sleep(1100)
  const served = await get(app, '/v1/parties')
  t.equal(served.statusCode, 200, 'served once the window ended')
  t.equal(numberHeader(served, 'ratelimit-remaining'), 1, 'a new window, with this request counted')
})

t.test('counters of ended windows are deleted', async (t) => {
  const { database } = await buildTestApp(t)
  await countHits(database.db, 'ip:192.0.2.200', 1, 1000)
  await countHits(database.db, 'ip:192.0.2.201', 1, 60_000)
  await sleep(1100)
  t.equal(await deleteEndedWindows(database.db), 1)
  const { rows } = await sql<{ key: string }>`SELECT key FROM rate_limit_counters`.execute(database.db)
  t.same(
    rows.map((row) => row.key),
    ['ip:192.0.2.201'],
    'the live window stays',
  )
})

t.test('when the counters cannot be reached, requests are served uncounted, and it is logged once', async (t) => {
  const database = await openTestDatabase()
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const config = { ...loadConfig({ ...TEST_LIMITS, RATE_LIMIT_PER_IP: '1' }), migrateOnStart: false }
  const app = await buildApp({ config, database, logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await sql`DROP TABLE rate_limit_counters`.execute(database.db)

  for (let i = 0; i < 3; i++) {
    const response = await get(app, '/v1/parties')
    t.equal(response.statusCode, 200, `request ${i + 1} is served, though past the limit of 1: not a 500, nor a 429`)
  }
  const warnings = lines.filter((line) => line.includes('rate-limit counters unavailable'))
  t.equal(warnings.length, 1, 'one warning, not one per request')
})

t.test(
  'two instances on one database give a client one budget',
  { skip: serverUrl === undefined && 'needs DATABASE_URL: two apps cannot share one embedded database' },
  async (t) => {
    const limits = { RATE_LIMIT_PER_IP: '10' }
    const { app: first, database } = await buildTestApp(t, limits)
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)
    const url = databaseUrl(serverUrl!, rows[0]!.name)
    // The second instance opens its own pool on the same database, as a second process would.
    const second = await buildApp({
      config: { ...loadConfig({ ...TEST_LIMITS, ...limits, DATABASE_URL: url }), migrateOnStart: false },
      database: openServerDatabase({ url, poolMax: 2, statementTimeoutMs: 10_000 }),
      logger: false,
    })
    t.teardown(() => second.close())

    t.test('what one instance let through on its own count reaches the other within a sync', async (t) => {
      const remaining = []
      for (let i = 0; i < 4; i++) {
        remaining.push(numberHeader(await get(first, '/v1/parties', { from: '192.0.2.60' }), 'ratelimit-remaining'))
      }
      t.same(remaining, [9, 8, 7, 6])
      await sleep(2 * SYNC_INTERVAL_MS + 100)
      const elsewhere = await get(second, '/v1/parties', { from: '192.0.2.60' })
      t.equal(numberHeader(elsewhere, 'ratelimit-remaining'), 5, 'the second instance counts on from 4')
    })

    t.test('requests alternating between the instances: exactly the limit is served', async (t) => {
      const outcomes: number[] = []
      for (let i = 0; i < 30; i++) {
        outcomes.push((await get(i % 2 === 0 ? first : second, '/v1/parties', { from: '192.0.2.61' })).statusCode)
      }
      t.equal(outcomes.filter((status) => status === 200).length, 10, 'together, they served the limit')
      t.same(outcomes.slice(10), Array(20).fill(429), 'and refused every request after it, on both')
    })
  },
)
