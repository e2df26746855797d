import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { formatLsn, parseLsn } from '../src/db/read-replicas.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { TEST_LIMITS, buildTestApp, call } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'
import {
  type ThrowawayCluster,
  postgresBinaries,
  serverUser,
  startThrowawayCluster,
} from './helpers/throwaway-cluster.js'

/**
 * DATABASE_READ_URL on real servers: a throwaway primary and a streaming replica of it made with
 * `pg_basebackup -R`. Reads go to the replica; a read carrying a write's Counterclaim-Consistency sees that write;
 * a replica stopped or lagging is skipped and the primary answers.
 */
t.setTimeout(240_000)

const bindir = postgresBinaries()
const runAs = serverUser()
const skip =
  serverUrl === undefined
    ? 'runs with DATABASE_URL only: replicas are of a PostgreSQL server, and CI has the server binaries for that run'
    : bindir === undefined
      ? 'no PostgreSQL server binaries (initdb, postgres, pg_basebackup) found through pg_config or under /usr/lib/postgresql'
      : runAs === undefined
        ? 'the tests run as root and no non-root postgres user can run the server (setpriv or runuser)'
        : false

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const CONSISTENCY = 'counterclaim-consistency'

t.test('WAL positions read, print and compare as PostgreSQL writes them', async (t) => {
  t.equal(parseLsn('0/3000148'), 0x3000148n)
  t.equal(parseLsn('16/B374D848'), (0x16n << 32n) | 0xb374d848n)
  t.equal(formatLsn(parseLsn('16/B374D848')!), '16/B374D848')
  t.ok(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!, 'the high half counts first')
  for (const bad of ['', '0', '0/', '/1', '0/1/2', 'G/1', '123456789/0', ' 0/1', '0x1/2']) {
    t.equal(parseLsn(bad), undefined, JSON.stringify(bad))
  }
})

t.test('DATABASE_READ_URL is checked at start', async (t) => {
  t.throws(
    () => loadConfig({ DATABASE_READ_URL: 'postgres://replica/db' }),
    new ConfigError(
      'invalid configuration: DATABASE_READ_URL names replicas of the PostgreSQL server at DATABASE_URL, which is ' +
        'not set (the embedded database has no replicas)',
    ),
    'the embedded database has no replicas: refused, not ignored',
  )
  t.throws(
    () =>
      loadConfig({
        DATABASE_URL: 'postgres://primary/db',
        DATABASE_READ_URL: 'postgres://a/db, mysql://b:secret@c/db',
      }),
    { name: 'ConfigError', message: /postgres:\/\/ URLs separated by commas \(1 of 2 is not\)/ },
  )
  t.notMatch(
    (() => {
      try {
        loadConfig({ DATABASE_URL: 'postgres://primary/db', DATABASE_READ_URL: 'mysql://b:secret@c/db' })
      } catch (error) {
        return (error as Error).message
      }
    })(),
    /secret/,
    'a URL, which may hold a password, is not quoted',
  )
  const config = loadConfig({
    DATABASE_URL: 'postgres://primary/db',
    DATABASE_READ_URL: 'postgres://a/db, postgresql://b/db',
  })
  t.same(config.databaseReadUrl, ['postgres://a/db', 'postgresql://b/db'])
  t.equal(config.replicaMaxLagMs, 5000)
  t.equal(config.readYourWritesWaitMs, 250)
})

t.test('Counterclaim-Consistency without replicas', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: '*' })
  const party = await call(app, 'POST', '/v1/parties', { slug: 'plain-party', name: 'Plain party', kind: 'media' })
  t.equal(party.status, 201)
  t.equal(party.headers[CONSISTENCY], undefined, 'a write answers no position when nothing reads from replicas')
  t.match(party.headers['access-control-expose-headers'], /Counterclaim-Consistency/, 'a page may read it')

  const read = await call(app, 'GET', '/v1/parties/plain-party', undefined, { [CONSISTENCY]: '0/3000148' })
  t.equal(read.status, 200, 'a position is taken, and the only database serves the read')
  for (const bad of ['yesterday', '0/3000148, 0/3000150', '-1/0']) {
    const refused = await call(app, 'GET', '/v1/parties/plain-party', undefined, { [CONSISTENCY]: bad })
    t.equal(refused.status, 400, bad)
    t.match(refused.body, { code: 'validation-failed', errors: [{ in: 'header', field: 'counterclaim-consistency' }] })
  }
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/v1/parties/plain-party',
    headers: {
      origin: 'https://app.example.org',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'counterclaim-consistency',
    },
  })
  t.match(preflight.headers['access-control-allow-headers'], /Counterclaim-Consistency/i, 'a page may send it back')
})

interface Replicated {
  primary: ThrowawayCluster
  replica: ThrowawayCluster
  token: string
  /** An app on the primary with the replica for reads, closed with the test. */
  app(t: Test, env: Record<string, string>): Promise<FastifyInstance>
  /** A query on one server, on a connection of its own. */
  query<Row>(cluster: ThrowawayCluster, text: string, values?: unknown[]): Promise<Row[]>
}

async function replicatedClusters(t: Test): Promise<Replicated> {
  const primary = await startThrowawayCluster(bindir!, runAs!)
  t.teardown(() => primary.destroy())
  const replica = await startThrowawayCluster(bindir!, runAs!, { replicaOf: primary })
  t.teardown(() => replica.destroy())
  const query = async <Row>(cluster: ThrowawayCluster, text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    try {
      return (await client.query(text, values)).rows as Row[]
    } finally {
      await client.end()
    }
  }
  let token: string | undefined
  async function app(t: Test, env: Record<string, string>) {
    const config = loadConfig({
      ...TEST_LIMITS,
      DATABASE_URL: primary.url,
      DATABASE_READ_URL: replica.url,
      DATABASE_POOL_MAX: '4',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      STATEMENT_TIMEOUT_MS: '2000',
      ...env,
    })
    const built = await buildApp({ config, logger: false })
    t.teardown(() => built.close())
    token ??= (await createApiKey(built.db, { name: 'writer', scopes: ['write'] })).token
    return built
  }
  // The first app migrates the primary and makes the key; the replica replays both.
  const first = await app(t, {})
  await first.close()
  return { primary, replica, token: token!, app, query }
}

/** Resolves once `check` holds, polling; fails the test after `ms`. */
async function eventually(t: Test, what: string, check: () => Promise<boolean>, ms = 10_000) {
  const started = Date.now()
  while (Date.now() - started < ms) {
    if (await check()) return t.pass(what)
    await sleep(25)
  }
  t.fail(`${what}: not within ${ms} ms`)
}

const replicaState = async (app: FastifyInstance) => (await call(app, 'GET', '/readyz')).body?.replicas?.[0]?.state

t.test('a primary and a streaming replica', { skip }, async (t) => {
  // Made once for both tests: initdb, the base backup and the migrations take most of the time.
  const clusters = await replicatedClusters(t)
  await t.test('reads from a streaming replica, with read-your-writes', (t) => readYourWrites(t, clusters))
  await t.test('a replica that stops is skipped, and used again once back', (t) => replicaStops(t, clusters))
})

async function readYourWrites(t: Test, clusters: Replicated) {
  const { replica, token, query } = clusters
  const auth = { authorization: `Bearer ${token}` }
  // A replica is skipped only after 30 s behind: what it serves is seen while replay is paused.
  const app = await clusters.app(t, { REPLICA_MAX_LAG_MS: '30000', READ_YOUR_WRITES_WAIT_MS: '250' })
  // Quick to call a lagging replica so: the other side of the same replica.
  const strict = await clusters.app(t, { REPLICA_MAX_LAG_MS: '300' })
  await eventually(t, 'the replica is checked and serves reads', async () => (await replicaState(app)) === 'ok')
  await eventually(t, 'for both instances', async () => (await replicaState(strict)) === 'ok')

  const write = (url: string, body: unknown) => call(app, 'POST', url, body, auth)
  const party = await write('/v1/parties', { slug: 'replicated', name: 'Replicated party', kind: 'state' })
  t.equal(party.status, 201)
  t.match(party.headers[CONSISTENCY], /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/, 'a write answers its position')
  const claim = (text: string) => write('/v1/claims', { party: 'replicated', text, stated_at: '2024-03-01T00:00:00Z' })
  const first = await claim('The first claim, replayed on the replica before it pauses.')
  t.equal(first.status, 201)
  const firstToken = String(first.headers[CONSISTENCY])
  t.ok(parseLsn(firstToken)! >= parseLsn(String(party.headers[CONSISTENCY]))!, 'positions only grow')
  await eventually(t, 'the replica replays the first claim', async () => {
    const [row] = await query<{ reached: boolean }>(
      replica,
      'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS reached',
      [firstToken],
    )
    return row?.reached === true
  })

  await query(replica, 'SELECT pg_wal_replay_pause()')
  const second = await claim('The second claim, written while the replica does not replay.')
  t.equal(second.status, 201)
  const secondToken = String(second.headers[CONSISTENCY])
  const secondUrl = `/v1/claims/${second.body.id}`

  const stale = await call(app, 'GET', secondUrl)
  t.equal(stale.status, 404, 'a read without the token is served by the replica, which has not seen the write')
  const refused = await call(
    app,
    'PATCH',
    secondUrl,
    { text: 'An edit from a stale copy.' },
    {
      ...auth,
      'if-match': '"stale"',
    },
  )
  t.equal(refused.status, 412)
  t.ok(
    parseLsn(String(refused.headers[CONSISTENCY]))! >= parseLsn(secondToken)!,
    'a 412 answers the position too, so the read the client retries from sees the write it was refused on',
  )
  const listed = await call(app, 'GET', '/v1/claims?party=replicated', undefined, { [CONSISTENCY]: firstToken })
  t.same(
    listed.body.data.map((c: { id: string }) => c.id),
    [first.body.id],
    "a read carrying an earlier write's token is served by the replica, which has replayed that far",
  )
  const started = performance.now()
  const fresh = await call(app, 'GET', secondUrl, undefined, { [CONSISTENCY]: secondToken })
  const waitedMs = performance.now() - started
  t.equal(fresh.status, 200, "a read carrying the write's token sees the write")
  t.equal(fresh.body.text, 'The second claim, written while the replica does not replay.')
  // The upper bound leaves room for a busy machine: the wait itself ends at 250 ms.
  t.ok(
    waitedMs >= 240 && waitedMs < 10_000,
    `from the primary, after waiting for the replica (${Math.round(waitedMs)} ms)`,
  )

  await eventually(t, 'an instance with a short REPLICA_MAX_LAG_MS finds the replica lagging', async () => {
    return (await replicaState(strict)) === 'lagging'
  })
  const ready = await call(strict, 'GET', '/readyz')
  t.equal(ready.status, 200, 'and stays ready')
  t.ok(ready.body.replicas[0].lag_ms > 300, `reporting the lag (${ready.body.replicas[0].lag_ms} ms)`)
  t.equal((await call(strict, 'GET', secondUrl)).status, 200, 'it serves reads from the primary meanwhile')
  t.equal(
    (await call(app, 'GET', secondUrl)).status,
    404,
    `while the other still reads the replica (${await replicaState(app)})`,
  )

  await query(replica, 'SELECT pg_wal_replay_resume()')
  const caughtUp = await call(app, 'GET', secondUrl, undefined, { [CONSISTENCY]: secondToken })
  t.equal(caughtUp.status, 200, 'once replay resumes, the token is met')
  await eventually(t, 'the lagging replica is back in use', async () => (await replicaState(strict)) === 'ok')
  t.equal((await call(app, 'GET', secondUrl)).status, 200, 'and a read without the token sees the write too')

  // Every read of the API runs on a hot standby (read-only): no read may write.
  await query(replica, 'SELECT pg_wal_replay_pause()')
  await write(`/v1/claims/${first.body.id}/rebuttals`, {
    claim: { party: 'replicated', text: 'A rebuttal the replica has not replayed.', stated_at: '2024-03-02T00:00:00Z' },
  })
  const reads = [
    '/v1/claims',
    '/v1/claims?q=claim&count=exact',
    '/v1/claims?count=estimated',
    `/v1/claims/${first.body.id}`,
    `/v1/claims/${first.body.id}/history`,
    `/v1/claims/${first.body.id}/rebuttals`,
    `/v1/claims/${first.body.id}/thread`,
    `/v1/claims/${first.body.id}/similar`,
    `/v1/claims/${first.body.id}/reviews`,
    '/v1/disputes',
    '/v1/disputes/matrix',
    '/v1/parties',
    '/v1/parties/replicated',
    '/v1/parties/replicated/response-times',
    '/v1/links',
    '/v1/events',
    '/v1/figures',
    '/v1/reviews',
    '/v1/tombstones',
    '/v1/response-times',
  ]
  for (const url of reads) {
    const answer = await call(app, 'GET', url, undefined, auth)
    t.equal(
      answer.status,
      200,
      `GET ${url} on the replica: ${answer.status === 200 ? '' : JSON.stringify(answer.body)}`,
    )
  }
  const csv = await call(app, 'GET', '/v1/claims', undefined, { ...auth, accept: 'text/csv' })
  t.equal(csv.status, 200, 'an export on the replica')
  const rebuttals = await call(app, 'GET', `/v1/claims/${first.body.id}/rebuttals`)
  t.equal(rebuttals.body.data.length, 0, 'those reads were served by the paused replica')
  await query(replica, 'SELECT pg_wal_replay_resume()')
}

async function replicaStops(t: Test, clusters: Replicated) {
  const { replica, token } = clusters
  const app = await clusters.app(t, { REPLICA_MAX_LAG_MS: '1000' })
  await eventually(t, 'the replica serves reads', async () => (await replicaState(app)) === 'ok')
  const auth = { authorization: `Bearer ${token}` }
  t.equal((await call(app, 'POST', '/v1/parties', { slug: 'p', name: 'P', kind: 'state' }, auth)).status, 201)

  replica.kill()
  await replica.gone()
  // Before any check has seen it gone: a connection to it cannot be had, and the primary serves the read.
  const answers = await Promise.all(Array.from({ length: 20 }, () => call(app, 'GET', '/v1/parties/p')))
  t.same(
    answers.map((a) => a.status),
    answers.map(() => 200),
    'every read answers 200 from the primary',
  )
  const ready = await call(app, 'GET', '/readyz')
  t.equal(ready.status, 200, 'the instance stays ready')
  t.equal(ready.body.replicas[0].state, 'down', 'and says the replica is down')

  await replica.start()
  await eventually(t, 'the replica is used again once it is back', async () => (await replicaState(app)) === 'ok')
  t.equal((await call(app, 'GET', '/v1/parties/p')).status, 200)
}
