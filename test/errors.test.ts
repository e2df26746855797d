import { type AddressInfo, connect } from 'node:net'
import { sql } from 'kysely'
import t from 'tap'
import { PROBLEMS } from '../src/errors/problems.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import { countRows, serverUrl } from './helpers/test-database.js'

const { app, database } = await buildTestApp(t)

// Routes that exist only in this test, added after buildApp returned (it hands back an app not yet ready), to make
// the error handler meet errors no real route raises on demand.
app.get('/test-only/boom', async () => {
  throw Object.assign(new Error('relation "secret_table" does not exist at SELECT * FROM secret_table'), {
    code: 'XX000',
  })
})
app.get('/test-only/statement-timeout', async () => {
  throw Object.assign(new Error('canceling statement due to statement timeout in SELECT * FROM secret_table'), {
    code: '57014',
  })
})
app.get('/test-only/unique-violation', async () => {
  throw Object.assign(new Error('duplicate key value violates unique constraint "secret_table_pkey"'), {
    code: '23505',
  })
})
// The same two errors raised by the database itself rather than faked.
app.post('/test-only/real-duplicate', async () => {
  const row = { slug: 'twice-inserted', name: 'Twice', kind: 'state' }
  await app.db.insertInto('parties').values(row).execute()
  await app.db.insertInto('parties').values(row).execute()
  return { inserted: 2 }
})
app.get('/test-only/real-statement-timeout', async () => {
  await app.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL statement_timeout = 50`.execute(trx)
    await sql`SELECT pg_sleep(2)`.execute(trx)
  })
  return { slept: true }
})

type Called = Awaited<ReturnType<typeof call>>
/** The assertions a subtest's `t` offers that the helpers below use. */
type Asserts = Pick<typeof t, 'equal' | 'match' | 'ok'>

/** Asserts an RFC 9457 problem: media type, and type/title/status/detail/code consistent with each other. */
function assertProblem(t: Asserts, response: Called, status: number, code: keyof typeof PROBLEMS) {
  t.equal(response.status, status, `status ${status}`)
  t.match(response.headers['content-type'], /^application\/problem\+json\b/, 'problem+json media type')
  t.ok(response.body, 'a JSON body')
  t.match(response.body, {
    type: PROBLEM_TYPE_PREFIX + code,
    title: PROBLEMS[code].title,
    status,
    code,
    detail: String,
  })
  t.ok(response.body.detail.length > 0, 'detail is not empty')
  t.equal(response.body.instance, response.headers['x-request-id'], 'instance is the request id')
}

const party = { slug: 'error-test-party', name: 'Error test party', kind: 'state' }

const inject = (
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET',
  url: string,
  payload?: string | Buffer,
  headers: Record<string, string> = {},
) => callRaw(app, method, url, payload, headers)

t.test('malformed JSON is a 400 problem and stores nothing', async (t) => {
  const before = await countRows(database, 'parties')
  const response = await inject('POST', '/v1/parties', '{"slug": "x", "name": ', { 'content-type': 'application/json' })
  assertProblem(t, response, 400, 'malformed-request')
  t.equal(await countRows(database, 'parties'), before)
})

t.test('an empty body declared as JSON is a 400 problem', async (t) => {
  const response = await inject('POST', '/v1/parties', '', { 'content-type': 'application/json' })
  assertProblem(t, response, 400, 'malformed-request')
})

t.test('a 2 MB body is a 413 problem, even when it is valid JSON', async (t) => {
  const payload = JSON.stringify({ ...party, description: 'x'.repeat(2 * 1024 * 1024) })
  t.ok(Buffer.byteLength(payload) > 2 * 1024 * 1024)
  const response = await inject('POST', '/v1/parties', payload, { 'content-type': 'application/json' })
  assertProblem(t, response, 413, 'payload-too-large')
})

t.test('a text/plain body is a 415 problem, not read as a string and then validated', async (t) => {
  const before = await countRows(database, 'parties')
  const plain = await inject('POST', '/v1/parties', JSON.stringify(party), { 'content-type': 'text/plain' })
  assertProblem(t, plain, 415, 'unsupported-media-type')
  const patch = await inject('PATCH', '/v1/parties/some-party', '{"name":"x"}', { 'content-type': 'text/plain' })
  assertProblem(t, patch, 415, 'unsupported-media-type')
  t.equal(plain.body.detail, 'the body is sent as text/plain; send it as application/json', 'names what is taken')
  t.equal(
    patch.body.detail,
    'the body is sent as text/plain; send it as application/json or application/merge-patch+json',
    'a PATCH takes a merge patch under its own media type too',
  )
  t.equal(await countRows(database, 'parties'), before)
})

t.test('a body of a media type the API does not read is a 415 problem', async (t) => {
  const before = await countRows(database, 'parties')
  const xml = await inject('POST', '/v1/parties', '<party/>', { 'content-type': 'application/xml' })
  assertProblem(t, xml, 415, 'unsupported-media-type')
  t.equal(await countRows(database, 'parties'), before)
})

t.test('an Accept that allows none of what a route answers with is a 406 problem naming what it has', async (t) => {
  const csv = await inject('GET', '/v1/keys', undefined, { accept: 'text/csv' })
  assertProblem(t, csv, 406, 'not-acceptable')
  t.match(csv.body.detail, /application\/json/)
  const ld = await inject('GET', '/v1/parties', undefined, { accept: 'application/ld+json' })
  assertProblem(t, ld, 406, 'not-acceptable')
  t.match(ld.body.detail, /text\/csv/, 'names the representations the route has')
  const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
  for (const accept of [undefined, '', '*/*', 'application/json', 'application/problem+json', browser]) {
    const headers: Record<string, string> = accept === undefined ? {} : { accept }
    const json = await inject('GET', '/v1/parties', undefined, headers)
    t.equal(json.status, 200, `Accept: ${accept ?? '(none)'}`)
    t.match(json.headers['content-type'], /^application\/json\b/, `Accept: ${accept ?? '(none)'} gets JSON`)
  }
  const csvList = await inject('GET', '/v1/parties', undefined, { accept: 'text/csv' })
  t.match(csvList.headers['content-type'], /^text\/csv\b/, 'a route with a CSV form still answers with it')
  const format = await inject('GET', '/v1/parties?format=csv', undefined, { accept: 'application/xml' })
  t.equal(format.status, 200, 'the format parameter overrides Accept')
  for (const probe of ['/healthz', '/readyz']) {
    const answer = await inject('GET', probe, undefined, { accept: 'text/plain' })
    t.equal(answer.status, 200, `${probe} answers a probe whatever its Accept`)
  }
})

t.test('an unknown route is a 404 problem', async (t) => {
  const response = await inject('GET', '/v1/no-such-thing')
  assertProblem(t, response, 404, 'route-not-found')
  t.match(response.body.detail, /\/v1\/no-such-thing/)
})

t.test('a known path with another method is a 405 problem with Allow', async (t) => {
  const claims = await inject('PUT', '/v1/claims', JSON.stringify({}), { 'content-type': 'application/json' })
  assertProblem(t, claims, 405, 'method-not-allowed')
  t.same(String(claims.headers.allow).split(/,\s*/).sort(), ['GET', 'HEAD', 'POST'])

  const parties = await inject('DELETE', '/v1/parties')
  assertProblem(t, parties, 405, 'method-not-allowed')
  t.same(String(parties.headers.allow).split(/,\s*/).sort(), ['GET', 'HEAD', 'POST'])

  // A path with a parameter is known too: PUT is not one of its methods.
  const one = await inject('PUT', '/v1/parties/some-party', JSON.stringify(party), {
    'content-type': 'application/json',
  })
  assertProblem(t, one, 405, 'method-not-allowed')
  t.same(String(one.headers.allow).split(/,\s*/).sort(), ['DELETE', 'GET', 'HEAD', 'PATCH'])
})

// Found by fuzzing: the body of such a request was read first, so it got a 413, 415 or 400 about a body no route
// reads; a NUL in its path got a 400; and a path parameter longer than 100 characters made the path unknown (404)
// or the URL malformed (400).
t.test('an unknown route or a method a path lacks is a 404 or 405 whatever the request carries', async (t) => {
  const plain = await inject('PUT', '/v1/claims', 'not json', { 'content-type': 'text/plain' })
  assertProblem(t, plain, 405, 'method-not-allowed')
  const malformed = await inject('PUT', '/v1/claims', '{"a": ', { 'content-type': 'application/json' })
  assertProblem(t, malformed, 405, 'method-not-allowed')
  const large = JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) })
  const unknown = await inject('POST', '/v1/no-such-thing', large, { 'content-type': 'application/json' })
  assertProblem(t, unknown, 404, 'route-not-found')
  const nul = await inject('POST', '/v1/keys/%00')
  assertProblem(t, nul, 405, 'method-not-allowed')
  t.same(String(nul.headers.allow).split(/,\s*/).sort(), ['DELETE', 'GET', 'HEAD'])
  const long = await inject('PUT', `/v1/parties/${'a'.repeat(150)}`)
  assertProblem(t, long, 405, 'method-not-allowed')
  t.same(String(long.headers.allow).split(/,\s*/).sort(), ['DELETE', 'GET', 'HEAD', 'PATCH'])
  // With a method that other paths have, the router refused such a parameter itself, as a malformed URL.
  const longOnPost = await inject('POST', `/v1/claims/${'a'.repeat(150)}`)
  assertProblem(t, longOnPost, 405, 'method-not-allowed')
  // Where the method is right, the route's schema judges the length, and names the parameter.
  const longId = await inject('GET', `/v1/parties/${'a'.repeat(150)}`)
  assertProblem(t, longId, 400, 'validation-failed')
  t.match(longId.body.errors, [{ in: 'path', field: 'party' }])
})

// Found by fuzzing: a DELETE may carry a body, which Fastify reads, and the document did not say it may be refused.
t.test('a DELETE with a body it cannot read is a documented 415 or 413 problem', async (t) => {
  const xml = await inject('DELETE', '/v1/parties/no-such-party', '<party/>', { 'content-type': 'application/xml' })
  assertProblem(t, xml, 415, 'unsupported-media-type')
  const large = JSON.stringify({ note: 'x'.repeat(2 * 1024 * 1024) })
  const big = await inject('DELETE', '/v1/parties/no-such-party', large, { 'content-type': 'application/json' })
  assertProblem(t, big, 413, 'payload-too-large')
})

t.test('a 500 shows no internals, and names the request', async (t) => {
  const response = await inject('GET', '/test-only/boom', undefined, { 'x-request-id': 'boom-request-1' })
  assertProblem(t, response, 500, 'internal-error')
  t.equal(response.headers['x-request-id'], 'boom-request-1')
  t.equal(response.body.instance, 'boom-request-1')
  t.notMatch(response.raw, /secret_table/)
  t.notMatch(response.raw, /SELECT/)
  t.notMatch(response.raw, /XX000/)
  t.notMatch(response.raw, /\bat .*\(|\.ts:\d+|node_modules|Error:/, 'no stack trace')
  t.same(Object.keys(response.body).sort(), ['code', 'detail', 'instance', 'status', 'title', 'type'])

  const generated = await inject('GET', '/test-only/boom')
  assertProblem(t, generated, 500, 'internal-error')
  t.match(generated.headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
})

t.test('database errors map by SQLSTATE', async (t) => {
  const timeout = await inject('GET', '/test-only/statement-timeout')
  assertProblem(t, timeout, 503, 'service-unavailable')
  t.match(timeout.headers['retry-after'], /^\d+$/, 'Retry-After in seconds')
  t.ok(Number(timeout.headers['retry-after']) > 0)
  t.notMatch(timeout.raw, /secret_table|SELECT/)

  const unique = await inject('GET', '/test-only/unique-violation')
  assertProblem(t, unique, 409, 'conflict')
  t.equal(unique.headers['retry-after'], undefined)
  t.notMatch(unique.raw, /secret_table/)
})

t.test('a unique violation raised by the database is a 409', async (t) => {
  const response = await inject('POST', '/test-only/real-duplicate')
  assertProblem(t, response, 409, 'conflict')
  t.notMatch(response.raw, /parties_slug_live_key/)
})

t.test(
  'a statement timeout raised by the database is a 503 with Retry-After',
  {
    skip: serverUrl === undefined && 'needs DATABASE_URL: the embedded database does not enforce statement_timeout',
  },
  async (t) => {
    const response = await inject('GET', '/test-only/real-statement-timeout')
    assertProblem(t, response, 503, 'service-unavailable')
    t.match(response.headers['retry-after'], /^\d+$/)
    t.notMatch(response.raw, /pg_sleep/)
  },
)

t.test('a body with __proto__ is refused as a 400 and stores nothing', async (t) => {
  const before = await countRows(database, 'parties')
  const poisoned = `{"__proto__": {"x": 1}, "slug": "poisoned", "name": "Poisoned", "kind": "state"}`
  const response = await inject('POST', '/v1/parties', poisoned, { 'content-type': 'application/json' })
  assertProblem(t, response, 400, 'malformed-request')
  t.equal(await countRows(database, 'parties'), before)

  const constructor = `{"constructor": {"prototype": {"x": 1}}, "slug": "poisoned", "name": "Poisoned", "kind": "state"}`
  const viaConstructor = await inject('POST', '/v1/parties', constructor, { 'content-type': 'application/json' })
  t.equal(viaConstructor.status, 400)
  t.match(viaConstructor.headers['content-type'], /^application\/problem\+json\b/)
  t.equal(await countRows(database, 'parties'), before)
  t.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype is untouched')
})

t.test('the same JSON without __proto__ is accepted (the 400 above is about the poisoning)', async (t) => {
  const response = await call(app, 'POST', '/v1/parties', { slug: 'not-poisoned', name: 'Not poisoned', kind: 'state' })
  t.equal(response.status, 201)
})

t.test('requests refused before routing are problems too', async (t) => {
  const badUrl = await inject('GET', '/v1/parties/%FF')
  assertProblem(t, badUrl, 400, 'malformed-request')

  // What Node's HTTP parser refuses never reaches Fastify: these need a real socket.
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const rawExchange = (bytes: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port })
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk) => (received += chunk))
      socket.on('close', () => resolve(received))
      socket.on('error', reject)
      socket.end(bytes)
    })
  const parse = (answer: string) => {
    const [head = '', body = ''] = answer.split('\r\n\r\n')
    return { head, body: JSON.parse(body) }
  }

  const nulHeader = parse(await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n'))
  t.match(nulHeader.head, /^HTTP\/1\.1 400 /)
  t.match(nulHeader.head, /content-type: application\/problem\+json/i)
  t.match(nulHeader.body, { status: 400, code: 'malformed-request', type: `${PROBLEM_TYPE_PREFIX}malformed-request` })

  const unencoded = parse(await rawExchange('GET /v1/claims?q=ракета HTTP/1.1\r\nHost: x\r\n\r\n'))
  t.match(unencoded.head, /^HTTP\/1\.1 400 /)
  t.match(
    unencoded.body,
    { code: 'malformed-request', detail: /percent-encode/ },
    'a URL sent unencoded says how to send it',
  )

  const hugeHeader = parse(
    await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: ${'a'.repeat(20_000)}\r\n\r\n`),
  )
  t.match(hugeHeader.head, /^HTTP\/1\.1 431 /)
  t.match(hugeHeader.body, { status: 431, code: 'headers-too-large' })
})

t.test('a deeply nested body is a 400, not a stack overflow', async (t) => {
  const deep = `{"slug": "deep", "name": "Deep", "kind": "state", "description": ${'['.repeat(5000)}${']'.repeat(5000)}}`
  const response = await inject('POST', '/v1/parties', deep, { 'content-type': 'application/json' })
  assertProblem(t, response, 400, 'validation-failed')
  t.match(response.body.errors, [{ in: 'body', field: 'description' }])
})
