import { PassThrough, Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { buildTestApp, call, callRaw, bearer, TEST_LIMITS } from './helpers/test-app.js'
import { openTestDatabase } from './helpers/test-database.js'

const party = (slug: string) => ({ slug, name: `Party ${slug}`, kind: 'organisation' })

// Three apps of their own, each built in seconds on the embedded database.
t.setTimeout(300_000)

t.test('refused requests count against their address: floods of 401 and 403 end in 429', async (t) => {
  const { app, keys } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '5', RATE_LIMIT_PER_KEY: '50' })
  const post = (from: string, token: string | null) =>
    app.inject({
      method: 'POST',
      url: '/v1/parties',
      remoteAddress: from,
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      payload: JSON.stringify(party(`from-${from.replace(/\W/g, '-')}`)),
    })

  const anonymous: number[] = []
  for (let i = 0; i < 8; i++) anonymous.push((await post('192.0.2.10', null)).statusCode)
  t.same(anonymous, [401, 401, 401, 401, 401, 429, 429, 429], 'anonymous writes: 401 until the limit, then 429')

  const madeUp = 'cc_' + 'A'.repeat(43)
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) statuses.push((await post('192.0.2.11', madeUp)).statusCode)
  t.same(statuses, [401, 401, 401, 401, 401, 429, 429], 'unknown keys: 401 until the limit, then 429')
  const refused = await post('192.0.2.11', madeUp)
  t.match(refused.json(), { code: 'too-many-requests', detail: /this address may send 5 requests/ })

  const forbidden: number[] = []
  for (let i = 0; i < 6; i++) forbidden.push((await post('192.0.2.12', keys.read)).statusCode)
  t.same(forbidden, [403, 403, 403, 403, 403, 429], 'a key without the scope: counted against the address')

  // From an address past its limit, a token is not looked up unless it authenticated here lately: even a valid
  // key is refused until it has been seen from elsewhere, and then it counts against itself as usual.
  t.equal((await post('192.0.2.11', keys.otherWrite)).statusCode, 429, 'not looked up from the flooding address')
  t.equal((await post('198.51.100.1', keys.otherWrite)).statusCode, 201, 'from elsewhere, it works')
  const known = await post('192.0.2.11', keys.otherWrite)
  t.equal(known.statusCode, 201, 'once known valid, the same address is served')
  t.equal(Number(known.headers['ratelimit-limit']), 50, 'counted against the key')
})

t.test('load shedding logs a warning a second with a count, never an error or a stack', async (t) => {
  const lines: Array<{ level: number; msg: string; refused?: number; err?: unknown }> = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const database = await openTestDatabase()
  const config = { ...loadConfig({ ...TEST_LIMITS, MAX_EVENT_LOOP_DELAY_MS: '30' }), migrateOnStart: false }
  const app = await buildApp({ config, database, logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.ready()

  let refused = 0
  for (let attempt = 0; attempt < 40 && refused < 200; attempt++) {
    const until = Date.now() + 300
    while (Date.now() < until) {
      // the event loop is held, as a CPU-bound step would
    }
    await new Promise((resolve) => setImmediate(resolve))
    if (!app.isUnderPressure()) continue
    const answers = await Promise.all(Array.from({ length: 50 }, () => app.inject('/v1/parties')))
    refused += answers.filter((answer) => answer.statusCode === 503).length
  }
  t.ok(refused >= 200, `${refused} requests were shed`)
  t.same(
    lines.filter((line) => line.level >= 50),
    [],
    'no line at error level',
  )
  const warnings = lines.filter((line) => /overloaded/.test(line.msg))
  t.ok(warnings.length >= 1 && warnings.length < refused / 10, `${warnings.length} warnings for ${refused} refusals`)
  t.ok(
    warnings.every((line) => line.level === 40 && line.err === undefined && typeof line.refused === 'number'),
    'each a warning with a count and no error',
  )
})

t.test('imports are capped: one beyond IMPORT_CONCURRENCY gets 503 at once, other requests go on', async (t) => {
  const { app } = await buildTestApp(t, { IMPORT_CONCURRENCY: '1' })
  const ndjson = { 'content-type': 'application/x-ndjson', authorization: '' }
  delete (ndjson as Record<string, string | undefined>).authorization
  const line = (slug: string) => `${JSON.stringify({ type: 'party', ref: slug, ...party(slug) })}\n`

  // The first import's body keeps arriving until the test ends it: it holds its slot meanwhile.
  const slowBody = new PassThrough()
  slowBody.write(line('first-import'))
  const first = callRaw(app, 'POST', '/v1/import', slowBody as unknown as Buffer, ndjson)
  await new Promise((resolve) => setTimeout(resolve, 200))

  const second = await callRaw(app, 'POST', '/v1/import', line('second-import'), ndjson)
  t.equal(second.status, 503)
  t.match(second.headers['retry-after'], /^[1-9]\d*$/)
  t.match(second.body, { code: 'service-unavailable', detail: /as many imports as may run at once \(1\)/ })

  const read = await call(app, 'GET', '/v1/parties', undefined, bearer(null))
  t.equal(read.status, 200, 'an anonymous read is served meanwhile')

  slowBody.end()
  t.equal((await first).status, 200, 'the first import completes')
  const third = await callRaw(app, 'POST', '/v1/import', line('third-import'), ndjson)
  t.equal(third.status, 200, 'its slot was given back')
})
