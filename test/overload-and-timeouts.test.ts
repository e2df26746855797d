import { type AddressInfo, connect } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { buildTestApp, call } from './helpers/test-app.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Keeps the event loop busy for `ms`, as a CPU-bound request or a long synchronous step would. */
function blockEventLoop(ms: number) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // busy
  }
}

t.test('under load, requests are refused with a 503 problem and Retry-After; liveness still answers', async (t) => {
  const { app } = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '30' })
  t.equal((await call(app, 'GET', '/v1/parties')).status, 200, 'served while the loop keeps up')

  // The delay is the mean over a second's samples: the loop is blocked again and again until it shows.
  let refused: Awaited<ReturnType<typeof call>> | undefined
  for (let attempt = 0; attempt < 20 && refused === undefined; attempt++) {
    blockEventLoop(300)
    await new Promise((resolve) => setImmediate(resolve))
    const response = await call(app, 'GET', '/v1/parties')
    if (response.status === 503) refused = response
  }
  t.ok(refused, 'a request was refused while the event loop lagged')
  t.match(refused?.headers['content-type'], /^application\/problem\+json\b/)
  t.match(refused?.body, {
    type: `${PROBLEM_TYPE_PREFIX}service-unavailable`,
    status: 503,
    code: 'service-unavailable',
    detail: /overloaded/,
  })
  t.match(refused?.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After in seconds')

  let probed = false
  for (let attempt = 0; attempt < 20 && !probed; attempt++) {
    blockEventLoop(300)
    await new Promise((resolve) => setImmediate(resolve))
    if (!app.isUnderPressure()) continue
    const health = await call(app, 'GET', '/healthz')
    if (!app.isUnderPressure()) continue
    t.equal(health.status, 200, '/healthz answers while the service sheds load')
    const readiness = await call(app, 'GET', '/readyz')
    t.equal(readiness.status, 503, '/readyz does not: a balancer takes the instance out of rotation')
    probed = true
  }
  t.ok(probed, 'the probes were asked while under pressure')

  let recovered = false
  for (let waited = 0; waited < 5000 && !recovered; waited += 250) {
    await sleep(250)
    recovered = (await call(app, 'GET', '/v1/parties')).status === 200
  }
  t.ok(recovered, 'served again once the loop keeps up')
})

t.test('the thresholds are read from the environment; 0 turns one off', async (t) => {
  const defaults = loadConfig({})
  t.same(defaults.overload, { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0, maxRssBytes: 0 })
  const set = loadConfig({
    MAX_EVENT_LOOP_DELAY_MS: '0',
    MAX_HEAP_USED_BYTES: '1073741824',
    MAX_RSS_BYTES: '2000000000',
  })
  t.same(set.overload, { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1073741824, maxRssBytes: 2000000000 })
})

t.test('BODY_LIMIT_BYTES bounds a body: over it, a 413 problem', async (t) => {
  const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '2048' })
  const party = (description: string) => ({
    slug: `limit-${description.length}`,
    name: 'Limit',
    kind: 'state',
    description,
  })
  const small = await call(app, 'POST', '/v1/parties', party('x'.repeat(1000)))
  t.equal(small.status, 201, 'a body under the limit')
  const large = await call(app, 'POST', '/v1/parties', party('x'.repeat(3000)))
  t.equal(large.status, 413)
  t.match(large.body, { code: 'payload-too-large', status: 413 })
})

/** What a raw client gets back on a connection: everything until the server closes it, and when. */
function exchange(app: FastifyInstance, write: (socket: ReturnType<typeof connect>) => void) {
  const { port } = app.server.address() as AddressInfo
  const started = Date.now()
  return new Promise<{ text: string; closedAfterMs: number; closedAt: number }>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => (text += chunk))
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started, closedAt: Date.now() }))
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)))
    socket.on('connect', () => write(socket))
  })
}

t.test('timeouts are wired from the configuration', async (t) => {
  const { app, keys } = await buildTestApp(t, {
    REQUEST_TIMEOUT_MS: '1500',
    HEADERS_TIMEOUT_MS: '500',
    KEEP_ALIVE_TIMEOUT_MS: '300',
    CONNECTION_TIMEOUT_MS: '20000',
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.equal(app.server.requestTimeout, 1500)
  t.equal(app.server.headersTimeout, 500)
  t.equal(app.server.keepAliveTimeout, 300)
  t.equal(app.server.timeout, 20000, 'the connection (socket inactivity) timeout')

  const problemOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))

  t.test('headers that do not arrive in time: 408 problem, connection closed', async (t) => {
    const { text, closedAfterMs } = await exchange(app, (socket) =>
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'),
    )
    t.match(text, /^HTTP\/1\.1 408 /)
    t.match(text, /content-type: application\/problem\+json/i)
    t.match(problemOf(text), { status: 408, code: 'request-timeout' })
    t.ok(closedAfterMs >= 400 && closedAfterMs < 3000, `closed after ${closedAfterMs} ms`)
  })

  t.test('a body sent too slowly: 408 problem once the request timeout is past', async (t) => {
    let trickle: NodeJS.Timeout | undefined
    const { text, closedAfterMs } = await exchange(app, (socket) => {
      socket.write(
        `POST /v1/parties HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${keys.write}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      )
      // A byte now and then: the connection is never idle, yet the request never completes.
      trickle = setInterval(() => socket.writable && socket.write(' '), 200)
    })
    clearInterval(trickle)
    t.match(text, /^HTTP\/1\.1 408 /)
    t.match(problemOf(text), { status: 408, code: 'request-timeout' })
    t.ok(closedAfterMs >= 1400 && closedAfterMs < 4000, `closed after ${closedAfterMs} ms`)
  })

  t.test('an idle kept-alive connection is closed after the keep-alive timeout', async (t) => {
    let answeredAt = 0
    const { text, closedAt } = await exchange(app, (socket) => {
      socket.once('data', () => (answeredAt = Date.now()))
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    })
    t.match(text, /^HTTP\/1\.1 200 /)
    const idleMs = closedAt - answeredAt
    t.ok(idleMs >= 200 && idleMs < 2000, `closed after ${idleMs} ms idle`)
  })
})

t.test('HEADERS_TIMEOUT_MS may not be longer than REQUEST_TIMEOUT_MS', async (t) => {
  t.throws(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' }), /HEADERS_TIMEOUT_MS/)
  t.equal(loadConfig({}).requestTimeoutMs, 30_000)
  t.equal(loadConfig({}).headersTimeoutMs, 10_000)
  t.equal(loadConfig({}).keepAliveTimeoutMs, 72_000)
  t.equal(loadConfig({}).connectionTimeoutMs, 0)
})
