import { readFile } from 'node:fs/promises'
import { sql } from 'kysely'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openServerDatabase } from '../src/db/database.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { buildTestApp, call } from './helpers/test-app.js'
import { openTestDatabase, serverUrl, withAdminClient } from './helpers/test-database.js'

const { app } = await buildTestApp(t)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

t.test('GET /healthz answers ok', async (t) => {
  const response = await call(app, 'GET', '/healthz')
  t.equal(response.status, 200)
  t.match(response.headers['content-type'], /^application\/json\b/)
  t.same(response.body, { status: 'ok' })
})

t.test('the probes ignore their query string, a NUL character in it too', async (t) => {
  // Found by fuzzing: the NUL check refused it with a 400, which no probe documents (nor should a probe fail).
  for (const url of ['/healthz?x=%00', '/readyz?%00&a=b']) {
    const response = await call(app, 'GET', url)
    t.equal(response.status, 200, url)
  }
})

t.test('GET /readyz names the database engine in use', async (t) => {
  const response = await call(app, 'GET', '/readyz')
  t.equal(response.status, 200)
  t.same(response.body, { status: 'ready', database: serverUrl === undefined ? 'embedded' : 'postgres' })
})

t.test('a plausible incoming x-request-id is echoed; otherwise one is generated', async (t) => {
  const echoed = await call(app, 'GET', '/healthz', undefined, { 'x-request-id': 'abc-123' })
  t.equal(echoed.headers['x-request-id'], 'abc-123')

  const first = await call(app, 'GET', '/healthz')
  const second = await call(app, 'GET', '/healthz')
  t.match(first.headers['x-request-id'], UUID)
  t.match(second.headers['x-request-id'], UUID)
  t.not(first.headers['x-request-id'], second.headers['x-request-id'], 'each request gets its own id')

  // The id reaches problem bodies too, so a client can quote it.
  const missing = await call(app, 'GET', '/v1/nowhere', undefined, { 'x-request-id': 'abc-123' })
  t.equal(missing.status, 404)
  t.equal(missing.body.instance, 'abc-123')
})

t.test('an x-request-id with bad characters or too long is replaced', async (t) => {
  for (const bad of ['has spaces in it', 'a'.repeat(300), 'semi;colon', '<script>', 'line\tbreak']) {
    const response = await call(app, 'GET', '/healthz', undefined, { 'x-request-id': bad })
    t.equal(response.status, 200)
    t.not(response.headers['x-request-id'], bad, `${JSON.stringify(bad.slice(0, 20))} is not echoed`)
    t.match(response.headers['x-request-id'], UUID, 'a uuid replaces it')
  }
  // The longest id kept is 128 characters.
  const longest = 'b'.repeat(128)
  t.equal((await call(app, 'GET', '/healthz', undefined, { 'x-request-id': longest })).headers['x-request-id'], longest)
  t.match(
    (await call(app, 'GET', '/healthz', undefined, { 'x-request-id': `${longest}b` })).headers['x-request-id'],
    UUID,
  )
})

t.test('GET /openapi.json is an OpenAPI 3.1 document describing every operation', async (t) => {
  const response = await call(app, 'GET', '/openapi.json')
  t.equal(response.status, 200)
  const document = response.body
  t.match(document.openapi, /^3\.1\.\d+$/)
  t.type(document.info?.title, 'string')
  t.ok(document.paths['/v1/parties'], 'has /v1/parties')
  t.ok(document.paths['/v1/parties/{party}'], 'has /v1/parties/{party}')
  t.ok(document.paths['/v1/claims'], 'has /v1/claims')
  t.ok(document.paths['/v1/claims/{id}/history'], 'has /v1/claims/{id}/history')
  t.notOk(document.paths['/openapi.json'], 'the document does not describe itself')

  const operationIds = new Set<string>()
  let operations = 0
  for (const [path, item] of Object.entries<
    Record<string, { operationId?: string; summary?: string; tags?: string[] }>
  >(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(method)) continue
      operations++
      const where = `${method.toUpperCase()} ${path}`
      t.type(operation.operationId, 'string', `${where} has an operationId`)
      t.ok(operation.summary && operation.summary.length > 0, `${where} has a summary`)
      t.ok(Array.isArray(operation.tags) && operation.tags.length > 0, `${where} has tags`)
      if (operation.operationId !== undefined) {
        t.notOk(operationIds.has(operation.operationId), `${where}: operationId ${operation.operationId} is unique`)
        operationIds.add(operation.operationId)
      }
    }
  }
  t.ok(operations >= 10, `found ${operations} operations`)
  const declaredTags = new Set((document.tags as Array<{ name: string }>).map((tag) => tag.name))
  for (const item of Object.values<Record<string, { tags?: string[] }>>(document.paths)) {
    for (const operation of Object.values(item)) {
      for (const tag of operation.tags ?? []) t.ok(declaredTags.has(tag), `tag ${tag} is declared`)
    }
  }
})

t.test('GET /docs serves the browsable documentation as HTML', async (t) => {
  let url = '/docs'
  let response = await app.inject({ method: 'GET', url })
  for (let hops = 0; hops < 3 && response.statusCode >= 300 && response.statusCode < 400; hops++) {
    const location = String(response.headers.location)
    url = new URL(location, `http://localhost${url}`).pathname
    response = await app.inject({ method: 'GET', url })
  }
  t.equal(response.statusCode, 200, `GET ${url}`)
  t.match(response.headers['content-type'], /^text\/html\b/)
  t.match(response.body, /<html/i)
})

t.test('the committed openapi/openapi.json matches the route schemas', async (t) => {
  await app.ready()
  const committed = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8'))
  const generated = JSON.parse(JSON.stringify(app.swagger()))
  t.same(
    committed,
    generated,
    'openapi/openapi.json is out of date with the route schemas: run `npm run openapi` and commit it',
  )
})

t.test('with the database unreachable', async (t) => {
  const unreachable = await buildApp({
    config: { ...loadConfig({}), migrateOnStart: false },
    // Port 1 on loopback refuses connections at once.
    database: openServerDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1, statementTimeoutMs: 1000 }),
    logger: false,
  })
  t.teardown(() => unreachable.close())

  t.test('/healthz still answers: the process is alive', async (t) => {
    const response = await call(unreachable, 'GET', '/healthz')
    t.equal(response.status, 200)
  })

  for (const url of ['/readyz', '/v1/claims', '/v1/parties', '/v1/parties/anyone']) {
    t.test(`GET ${url} is a 503 problem with Retry-After`, async (t) => {
      const response = await call(unreachable, 'GET', url)
      t.equal(response.status, 503)
      t.match(response.headers['content-type'], /^application\/problem\+json\b/)
      t.match(response.body, {
        type: `${PROBLEM_TYPE_PREFIX}service-unavailable`,
        status: 503,
        code: 'service-unavailable',
        title: String,
        detail: String,
      })
      t.match(response.headers['retry-after'], /^\d+$/)
      t.ok(Number(response.headers['retry-after']) > 0)
      t.equal(response.body.instance, response.headers['x-request-id'])
      t.notMatch(response.raw, /ECONNREFUSED|127\.0\.0\.1|:1\b/, 'no connection details leak')
    })
  }
})

t.test(
  'with every pooled connection busy, a request waits briefly, then answers 503 with Retry-After',
  { skip: serverUrl === undefined && 'needs DATABASE_URL: the embedded database has no connection pool to exhaust' },
  async (t) => {
    const database = await openTestDatabase({ poolMax: 1, connectTimeoutMs: 300 })
    const busy = await buildApp({ config: { ...loadConfig({}), migrateOnStart: false }, database, logger: false })
    t.teardown(() => busy.close())

    // A transaction holds the pool's only connection until released.
    let release: () => void = () => undefined
    let holding: Promise<void> = Promise.resolve()
    await new Promise<void>((acquired) => {
      holding = database.db.transaction().execute(async (trx) => {
        await sql`SELECT 1`.execute(trx)
        acquired()
        await new Promise<void>((resolve) => (release = resolve))
      })
    })
    const starved = await call(busy, 'GET', '/v1/claims')
    release()
    await holding

    t.equal(starved.status, 503)
    t.match(starved.headers['content-type'], /^application\/problem\+json\b/)
    t.equal(starved.body.code, 'service-unavailable')
    t.match(starved.headers['retry-after'], /^\d+$/)
    t.equal((await call(busy, 'GET', '/v1/claims')).status, 200, 'served again once a connection is free')
  },
)

t.test(
  'a pooled connection the server drops while idle is replaced, without crashing the process',
  { skip: serverUrl === undefined && 'needs DATABASE_URL: the embedded database has no connections to drop' },
  async (t) => {
    const idleErrors: Error[] = []
    let reported: () => void = () => undefined
    const errorReported = new Promise<void>((resolve) => (reported = resolve))
    const database = await openTestDatabase({
      onIdleError: (error) => {
        idleErrors.push(error)
        reported()
      },
    })
    const dropped = await buildApp({ config: { ...loadConfig({}), migrateOnStart: false }, database, logger: false })
    t.teardown(() => dropped.close())
    t.equal((await call(dropped, 'GET', '/v1/claims')).status, 200, 'a connection is now idle in the pool')

    // What a database restart or a failover does to the connections open at that moment, done from outside.
    const { rows: named } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)
    const { rows } = await withAdminClient((client) =>
      client.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'counterclaim'`,
        [named[0]?.name],
      ),
    )
    t.ok(rows.length > 0 && rows.every((row) => row.terminated), 'the idle connections were terminated')
    await errorReported
    t.ok(idleErrors.length > 0, 'the loss was reported to the idle-error handler')

    t.equal((await call(dropped, 'GET', '/v1/claims')).status, 200, 'the next request gets a new connection')
  },
)

t.test(
  'every pooled connection to a server carries the configured statement_timeout',
  { skip: serverUrl === undefined && 'needs DATABASE_URL: the embedded database does not enforce statement_timeout' },
  async (t) => {
    const handle = openServerDatabase({ url: serverUrl!, poolMax: 1, statementTimeoutMs: 1234 })
    t.teardown(() => handle.close())
    const { rows } = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(handle.db)
    t.equal(rows[0]?.statement_timeout, '1234ms')
  },
)
