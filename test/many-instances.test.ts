import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import t, { type Test } from 'tap'
import { openServerDatabase } from '../src/db/database.js'
import { MIGRATIONS_DIR } from '../src/db/migrator.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { freePort } from './helpers/project-process.js'
import { serverUrl } from './helpers/test-database.js'
import {
  type ThrowawayCluster,
  postgresBinaries,
  serverUser,
  startThrowawayCluster,
} from './helpers/throwaway-cluster.js'

/**
 * Three instances of the built service (`node dist/server.js`) behind a real HAProxy, on a throwaway primary with a
 * synchronous streaming replica for reads: migrations at a simultaneous start, rate limits and Idempotency-Key
 * across instances, a rolling restart under writes, and the replica promoted to primary. Each part prints its
 * figures (`# {...}` lines of the tap output).
 */
t.setTimeout(600_000)

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url))
const haproxy = spawnSync('sh', ['-c', 'command -v haproxy || command -v /usr/sbin/haproxy'], {
  encoding: 'utf8',
}).stdout.trim()
const bindir = postgresBinaries()
const runAs = serverUser()
const skip =
  serverUrl === undefined
    ? 'runs with DATABASE_URL only: it makes PostgreSQL clusters of its own, on the pass that has the server binaries'
    : haproxy === ''
      ? 'needs haproxy (apt-get install haproxy)'
      : bindir === undefined
        ? 'no PostgreSQL server binaries (initdb, postgres, pg_basebackup) found through pg_config or under /usr/lib/postgresql'
        : runAs === undefined
          ? 'the tests run as root and no non-root postgres user can run the server (setpriv or runuser)'
          : false

const INSTANCES = ['a', 'b', 'c'] as const
type Name = (typeof INSTANCES)[number]
/** Requests a minute from one address without a key; keys are not limited here, so that writers never are. */
const LIMIT_PER_IP = 30
/** /readyz answers 503 this long after SIGTERM while requests are still served: HAProxy checks every 200 ms. */
const DRAIN_MS = 1500

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The environment a process of the project gets: without tap's loaders and settings. */
function projectEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/.test(name)),
  )
  return { ...inherited, ...env }
}

/** Builds dist/ as `npm start` does: only when a source changed since the last build. */
function buildOnce(t: Test): void {
  const started = performance.now()
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-changed'], {
    cwd: PROJECT_ROOT,
    env: projectEnv({}),
    encoding: 'utf8',
    timeout: 300_000,
  })
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`)
  t.comment(`build (if a source changed): ${Math.round(performance.now() - started)} ms`)
}

interface Instance {
  name: Name
  port: number
  child: ChildProcess
  /** The last lines it wrote, for a failure's message. */
  tail(): string
  /** The `database migrated` lines it logged: the migrations each named. */
  migrated: string[][]
  /** When it logged that it listens (pino's `time`, at LOG_LEVEL=info). */
  loggedAt: { listening?: number }
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `node dist/server.js` on `port`, as a deployment runs it; killed when the test ends, if it still runs. */
function startInstance(t: Test, name: Name, port: number, env: NodeJS.ProcessEnv): Instance {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: PROJECT_ROOT,
    env: projectEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      // A busy test machine must not have requests refused as an overload.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let tail = ''
  const migrated: string[][] = []
  const loggedAt: Instance['loggedAt'] = {}
  let partial = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-6000)
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      const entry = JSON.parse(line) as { msg?: string; time?: number; migrations?: string[] }
      if (entry.msg === 'database migrated') migrated.push(entry.migrations ?? [])
      if (entry.msg?.startsWith('Server listening')) loggedAt.listening ??= entry.time
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (tail = (tail + chunk).slice(-6000)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return { name, port, child, tail: () => tail, migrated, loggedAt, exited }
}

/** Resolves once the instance answers /readyz with 200 itself. */
async function ready(instance: Instance, ms = 120_000): Promise<void> {
  const started = Date.now()
  while (Date.now() - started < ms) {
    if (instance.child.exitCode !== null) break
    const ok = await fetch(`http://127.0.0.1:${instance.port}/readyz`).then(
      (response) => response.ok,
      () => false,
    )
    if (ok) return
    await sleep(100)
  }
  throw new Error(`instance ${instance.name} did not become ready:\n${instance.tail()}`)
}

interface Balancer {
  base: string
  /** HAProxy's view of each instance: UP, DOWN, … */
  states(): Promise<Record<string, string>>
  log(): string
}

/**
 * HAProxy in front of the instances: round robin, a health check on /readyz every 200 ms that takes an instance
 * out after one failure and back after one success, and a connection that fails retried on another instance.
 */
async function startHaproxy(t: Test, ports: Record<Name, number>): Promise<Balancer> {
  const dir = mkdtempSync(join(tmpdir(), 'counterclaim-haproxy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const [port, statsPort] = [await freePort(), await freePort()]
  const config = [
    'global',
    '  maxconn 1000',
    '  log stderr format raw local0 notice',
    'defaults',
    '  mode http',
    '  log global',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout check 2s',
    // A connection refused (an instance stopped or not yet started) is tried again, on another instance.
    '  retries 3',
    '  option redispatch 1',
    'frontend api',
    `  bind 127.0.0.1:${port}`,
    // The service takes the client's address from it: TRUST_PROXY=loopback.
    '  option forwardfor',
    '  default_backend instances',
    'backend instances',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server check inter 200ms fastinter 200ms downinter 200ms fall 1 rise 1',
    ...INSTANCES.map((name) => `  server ${name} 127.0.0.1:${ports[name]}`),
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n')
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, config)
  const child = spawn(haproxy, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-8000)))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-8000)))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  async function states(): Promise<Record<string, string>> {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text()
    const [header = '', ...rows] = csv.split('\n')
    const columns = header.replace(/^# /, '').split(',')
    const [proxy, server, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name))
    const found: Record<string, string> = {}
    for (const row of rows) {
      const cells = row.split(',')
      if (cells[proxy!] === 'instances') found[cells[server!]!] = cells[status!]!
    }
    return found
  }
  for (let attempt = 0; ; attempt++) {
    const up = await states().then(
      () => true,
      () => false,
    )
    if (up) break
    if (attempt > 100 || child.exitCode !== null) throw new Error(`haproxy did not start:\n${log}`)
    await sleep(100)
  }
  return { base: `http://127.0.0.1:${port}`, states, log: () => log }
}

/** Resolves once HAProxy sees `name` in the state `state`. */
async function balancerSees(balancer: Balancer, name: Name, state: 'UP' | 'DOWN', ms = 30_000): Promise<void> {
  const started = Date.now()
  while (Date.now() - started < ms) {
    if ((await balancer.states())[name] === state) return
    await sleep(50)
  }
  throw new Error(`haproxy did not see ${name} ${state} within ${ms} ms: ${JSON.stringify(await balancer.states())}`)
}

interface Answer {
  status: number
  headers: Headers
  body: any
}

/** One request; a network error is answered status 0. */
async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) })
    const text = await response.text()
    let body: unknown = text
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      // Not JSON (HAProxy's own error pages): kept as text.
    }
    return { status: response.status, headers: response.headers, body }
  } catch (error) {
    return { status: 0, headers: new Headers(), body: String(error) }
  }
}

async function query<Row>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return (await client.query(text, values)).rows as Row[]
  } finally {
    await client.end()
  }
}

/** The largest replay lag of the primary's standbys seen while it runs, every 100 ms, in ms and bytes. */
function watchReplicaLag(primary: ThrowawayCluster) {
  const seen = { ms: 0, bytes: 0 }
  let running = true
  const done = (async () => {
    while (running) {
      const rows = await query<{ ms: number | null; bytes: string | null }>(
        primary.url,
        `SELECT extract(epoch FROM replay_lag) * 1000 AS ms, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS bytes
         FROM pg_stat_replication`,
      ).catch(() => [])
      for (const row of rows) {
        seen.ms = Math.max(seen.ms, Math.round(Number(row.ms ?? 0)))
        seen.bytes = Math.max(seen.bytes, Number(row.bytes ?? 0))
      }
      await sleep(100)
    }
  })()
  return {
    seen,
    async stop() {
      running = false
      await done
    },
  }
}

interface Writes {
  sent: number
  answered: number
  failed: number
  /** Failures by status (0: no answer), for the report. */
  failures: Record<string, number>
  reads: number
  readsFailed: number
  /** Writes acknowledged with 201: the claim's id by its text, which is unique. */
  acknowledged: Map<string, string>
}

/**
 * Clients writing claims through the balancer until told to stop, each write followed by a read of it carrying
 * its Counterclaim-Consistency token. With `retry`, a write that failed is sent again with the same
 * Idempotency-Key until it is acknowledged, as a client that uses keys would.
 */
function writers(base: string, token: string, clients: number, retry: boolean) {
  const writes: Writes = {
    sent: 0,
    answered: 0,
    failed: 0,
    failures: {},
    reads: 0,
    readsFailed: 0,
    acknowledged: new Map(),
  }
  let running = true
  const auth = { authorization: `Bearer ${token}` }
  const fail = (status: number) => {
    writes.failed++
    writes.failures[status] = (writes.failures[status] ?? 0) + 1
  }
  async function client(n: number) {
    for (let i = 0; running; i++) {
      const text = `Claim ${i} of writer ${n}, ${randomUUID()}.`
      const key = randomUUID()
      for (;;) {
        writes.sent++
        const write = await send(`${base}/v1/claims`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ party: 'wire-desk', text, stated_at: '2024-05-01T12:00:00Z' }),
        })
        if (write.status !== 0) writes.answered++
        if (write.status === 201) {
          writes.acknowledged.set(text, write.body.id)
          const consistency = write.headers.get('counterclaim-consistency')
          writes.reads++
          const read = await send(`${base}/v1/claims/${write.body.id}`, {
            headers: { ...auth, ...(consistency === null ? {} : { 'counterclaim-consistency': consistency }) },
          })
          if (read.status !== 0) writes.answered++
          writes.sent++
          if (read.status !== 200 || read.body.text !== text) {
            writes.readsFailed++
            fail(read.status)
          }
          break
        }
        fail(write.status)
        if (!retry || !running) break
        await sleep(100)
      }
    }
  }
  const done = Promise.all(Array.from({ length: clients }, (_, n) => client(n)))
  return {
    writes,
    async stop() {
      running = false
      await done
    },
  }
}

/** Every acknowledged write, looked up on `url` by its text: those missing, and those stored more than once. */
async function lookUp(url: string, acknowledged: Map<string, string>) {
  const rows = await query<{ text: string; copies: string; ids: string[] }>(
    url,
    'SELECT text, count(*) AS copies, array_agg(id::text) AS ids FROM claims WHERE text = ANY($1) GROUP BY text',
    [[...acknowledged.keys()]],
  )
  const found = new Map(rows.map((row) => [row.text, row]))
  const missing = [...acknowledged].filter(([text, id]) => !found.get(text)?.ids.includes(id))
  const duplicated = rows.filter((row) => Number(row.copies) > 1)
  return { found: acknowledged.size - missing.length, missing, duplicated }
}

t.test('three instances behind HAProxy, on a primary and a streaming replica', { skip }, async (t) => {
  // Instances outlive the part that starts them: they are ended with this test, not with a part.
  const suite = t
  const primary = await startThrowawayCluster(bindir!, runAs!)
  t.teardown(() => primary.destroy())
  const replica = await startThrowawayCluster(bindir!, runAs!, { replicaOf: primary })
  t.teardown(() => replica.destroy())
  // Synchronous replication, set after the base backup so that the replica, once promoted, does not wait for a
  // standby of its own: a commit is acknowledged once the replica has flushed it, so none is lost on promotion.
  await query(primary.url, "ALTER SYSTEM SET synchronous_standby_names = '*'")
  await query(primary.url, 'SELECT pg_reload_conf()')
  for (let attempt = 0; ; attempt++) {
    const [row] = await query<{ sync_state: string }>(primary.url, 'SELECT sync_state FROM pg_stat_replication')
    if (row?.sync_state === 'sync') break
    if (attempt > 200) throw new Error(`the replica is not synchronous: ${JSON.stringify(row)}`)
    await sleep(50)
  }

  buildOnce(t)
  const ports = Object.fromEntries(
    await Promise.all(INSTANCES.map(async (name) => [name, await freePort()])),
  ) as Record<Name, number>
  const settings = (databaseUrl: string, readUrl?: string): NodeJS.ProcessEnv => ({
    DATABASE_URL: databaseUrl,
    DATABASE_READ_URL: readUrl ?? '',
    // Three instances and the test's own connections within the clusters' 40.
    DATABASE_POOL_MAX: '5',
    TRUST_PROXY: 'loopback',
    RATE_LIMIT_PER_IP: String(LIMIT_PER_IP),
    RATE_LIMIT_PER_KEY: '0',
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    // The lease of a running request's Idempotency-Key: a request cut off by the switchover frees it this soon.
    REQUEST_TIMEOUT_MS: '3000',
    HEADERS_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'warn',
  })
  const env = settings(primary.url, replica.url)
  const instances = {} as Record<Name, Instance>
  const balancer = await startHaproxy(t, ports)

  await t.test('started at once on an empty database, one instance migrates and the others wait', async (t) => {
    const started = performance.now()
    for (const name of INSTANCES)
      instances[name] = startInstance(suite, name, ports[name], { ...env, LOG_LEVEL: 'info' })
    await Promise.all(INSTANCES.map((name) => ready(instances[name])))
    const files = readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql'))
    const applied = await query<{ name: string; timestamp: string }>(
      primary.url,
      'SELECT name, timestamp FROM kysely_migration ORDER BY name',
    )
    t.same(
      applied.map((row) => `${row.name}.sql`),
      files.sort(),
      'the migration table names every migration once',
    )
    const migrators = INSTANCES.filter((name) => instances[name].migrated.length > 0)
    t.equal(migrators.length, 1, `one instance logged "database migrated" (${migrators.join(', ')})`)
    const migrator = instances[migrators[0]!]
    t.same(migrator?.migrated, [files.map((file) => file.replace(/\.sql$/, '')).sort()], 'naming every migration')
    // Each instance migrates before it listens: one that listened before the last migration was recorded (the
    // migrator stamps each as it applies it) would not have waited for them.
    const lastApplied = Math.max(...applied.map((row) => Date.parse(row.timestamp)))
    const waited: Record<string, number> = {}
    for (const name of INSTANCES) {
      const { listening } = instances[name].loggedAt
      waited[name] = listening === undefined ? NaN : listening - lastApplied
      t.ok(waited[name]! >= 0, `${name} listened only once every migration was applied (${waited[name]} ms after)`)
    }
    t.comment(
      JSON.stringify({
        migrations: files.length,
        migratedBy: migrators,
        listenedAfterLastMigrationMs: waited,
        allReadyMs: Math.round(performance.now() - started),
      }),
    )
  })

  const keys = openServerDatabase({ url: primary.url, poolMax: 1, statementTimeoutMs: 10_000 })
  const { token } = await createApiKey(keys.db, { name: 'wire desk', scopes: ['write'] })
  await keys.close()
  const auth = { authorization: `Bearer ${token}` }
  await Promise.all(INSTANCES.map((name) => balancerSees(balancer, name, 'UP')))
  const party = await send(`${balancer.base}/v1/parties`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'wire-desk', name: 'Wire desk', kind: 'media' }),
  })
  t.equal(party.status, 201, JSON.stringify(party.body))

  await t.test('a rate limit across three instances holds within its bound', async (t) => {
    // One client, by the address HAProxy forwards; reads without a key count against it. The party's position
    // makes every read find it, on the replica or the primary.
    const position = party.headers.get('counterclaim-consistency')
    const client = {
      'x-forwarded-for': '198.51.100.23',
      ...(position === null ? {} : { 'counterclaim-consistency': position }),
    }
    const get = () => send(`${balancer.base}/v1/parties/wire-desk`, { headers: client })
    // One request to each instance first (round robin): each then knows the window and lets requests through on its
    // own count, the case that can pass the limit; then a burst of three times the limit at once.
    const warmUp = [await get(), await get(), await get()]
    const burst = await Promise.all(Array.from({ length: 3 * LIMIT_PER_IP - 3 }, get))
    const answers = [...warmUp, ...burst]
    const passed = answers.filter((answer) => answer.status === 200).length
    const refused = answers.filter((answer) => answer.status === 429).length
    t.equal(passed + refused, answers.length, 'every answer is a 200 or a 429')
    // Proof of the bound in docs/operations.md: past the limit, only requests that an instance let through on its
    // own count and had not yet sent to the database pass; each instance lets fewer than half the limit so.
    const bound = INSTANCES.length * (Math.floor(LIMIT_PER_IP / 2) - 1)
    t.ok(passed >= LIMIT_PER_IP, `the limit's ${LIMIT_PER_IP} requests pass (${passed})`)
    t.ok(passed <= LIMIT_PER_IP + bound, `at most ${bound} more pass (${passed - LIMIT_PER_IP})`)
    const last = answers.find((answer) => answer.status === 429)
    t.match(last?.headers.get('content-type'), /application\/problem\+json/)
    t.ok(Number(last?.headers.get('retry-after')) > 0, 'a 429 says when to retry')
    const [row] = await query<{ hits: number }>(primary.url, 'SELECT hits FROM rate_limit_counters WHERE key = $1', [
      'ip:198.51.100.23',
    ])
    t.comment(
      JSON.stringify({
        limit: LIMIT_PER_IP,
        sent: answers.length,
        passed,
        refused,
        overshoot: passed - LIMIT_PER_IP,
        bound,
        countedInDatabase: row?.hits,
      }),
    )
  })

  await t.test('one Idempotency-Key sent to two instances at once makes one write', async (t) => {
    const outcomes: Record<string, number> = {}
    const PAIRS = 8
    for (let n = 0; n < PAIRS; n++) {
      const key = randomUUID()
      const text = `Sent twice at once, ${key}.`
      const post = (name: Name) =>
        send(`http://127.0.0.1:${ports[name]}/v1/claims`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ party: 'wire-desk', text, stated_at: '2024-05-01T12:00:00Z' }),
        })
      const [first, second] = await Promise.all([post(INSTANCES[n % 3]!), post(INSTANCES[(n + 1) % 3]!)])
      const statuses = [first, second].map((answer) => answer.status).sort()
      const outcome = statuses.join('+')
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      const created = [first, second].filter((answer) => answer.status === 201)
      if (statuses[0] === 201 && statuses[1] === 201) {
        t.same(created[0]!.body, created[1]!.body, 'both answers are the same claim')
        t.equal(
          created.filter((answer) => answer.headers.get('idempotent-replayed') === 'true').length,
          1,
          'one of them a replay',
        )
      } else {
        t.same(statuses, [201, 409], `one write, the other refused while it runs (${outcome})`)
        const conflict = first.status === 409 ? first : second
        t.equal(conflict.body.code, 'idempotency-key-in-use')
        t.ok(Number(conflict.headers.get('retry-after')) > 0)
      }
      const rows = await query<{ id: string }>(primary.url, 'SELECT id FROM claims WHERE text = $1', [text])
      t.same(
        rows.map((row) => row.id),
        [created[0]?.body.id],
        'exactly one claim in the database',
      )
    }
    t.comment(JSON.stringify({ pairs: PAIRS, outcomes }))
  })

  await t.test('a rolling restart under writes loses no request and no acknowledged write', async (t) => {
    const lag = watchReplicaLag(primary)
    const load = writers(balancer.base, token, 4, false)
    const restarts: Record<string, number> = {}
    await sleep(500)
    for (const name of INSTANCES) {
      const started = performance.now()
      instances[name].child.kill('SIGTERM')
      await balancerSees(balancer, name, 'DOWN')
      const exit = await instances[name].exited
      t.same(exit, { code: 0, signal: null }, `${name} exits cleanly after SIGTERM`)
      instances[name] = startInstance(suite, name, ports[name], env)
      await ready(instances[name])
      await balancerSees(balancer, name, 'UP')
      restarts[name] = Math.round(performance.now() - started)
    }
    await sleep(500)
    await load.stop()
    await lag.stop()
    const { writes } = load
    t.equal(writes.failed, 0, `no request failed: ${JSON.stringify(writes.failures)}`)
    t.ok(writes.acknowledged.size > 0, 'writes were acknowledged throughout')
    const { found, missing, duplicated } = await lookUp(primary.url, writes.acknowledged)
    t.same(missing, [], 'every acknowledged write is in the database')
    t.same(duplicated, [], 'once')
    t.comment(
      JSON.stringify({
        requestsSent: writes.sent,
        answered: writes.answered,
        failed: writes.failed,
        readsAfterWrites: writes.reads,
        writesAcknowledged: writes.acknowledged.size,
        writesFound: found,
        replicaLagMaxMs: lag.seen.ms,
        replicaLagMaxBytes: lag.seen.bytes,
        restartMs: restarts,
      }),
    )
  })

  await t.test('the replica promoted under writes becomes the primary of every instance', async (t) => {
    const load = writers(balancer.base, token, 4, true)
    await sleep(500)
    // The old primary stops first: promoting first would let it acknowledge writes that the new one never sees.
    // With synchronous replication every acknowledged commit was flushed on the replica, which replays all it has
    // before it is promoted: so every write acknowledged before the stop, and after the move, must be found.
    const stoppedAt = performance.now()
    const acknowledgedBefore = load.writes.acknowledged.size
    await primary.stop()
    const checkpoint = primary.latestCheckpoint()
    let replayed = false
    for (let attempt = 0; attempt < 200 && !replayed; attempt++) {
      const [row] = await query<{ done: boolean }>(
        replica.url,
        'SELECT pg_last_wal_replay_lsn() > $1::pg_lsn AS done',
        [checkpoint],
      )
      replayed = row?.done === true
      if (!replayed) await sleep(50)
    }
    t.ok(replayed, `the replica replayed past the old primary's shutdown checkpoint (${checkpoint})`)
    replica.promote()
    const [promoted] = await query<{ recovery: boolean }>(replica.url, 'SELECT pg_is_in_recovery() AS recovery')
    t.equal(promoted?.recovery, false, 'the replica is promoted')
    const promotedMs = Math.round(performance.now() - stoppedAt)

    const moved = settings(replica.url)
    for (const name of INSTANCES) {
      instances[name].child.kill('SIGTERM')
      const exit = await instances[name].exited
      t.same(exit, { code: 0, signal: null }, `${name} exits cleanly after SIGTERM`)
      instances[name] = startInstance(suite, name, ports[name], moved)
      await ready(instances[name])
      await balancerSees(balancer, name, 'UP')
    }
    const switchedMs = Math.round(performance.now() - stoppedAt)
    const ackedAtSwitch = load.writes.acknowledged.size
    await sleep(1000)
    await load.stop()
    const { writes } = load
    t.ok(writes.acknowledged.size > ackedAtSwitch, 'writes are acknowledged again once the instances moved')
    const { found, missing, duplicated } = await lookUp(replica.url, writes.acknowledged)
    t.same(missing, [], 'every acknowledged write, before the switchover and after, is on the new primary')
    t.comment(
      JSON.stringify({
        requestsSent: writes.sent,
        answered: writes.answered,
        failedAndRetried: writes.failed,
        failures: writes.failures,
        writesAcknowledged: writes.acknowledged.size,
        acknowledgedBeforeStop: acknowledgedBefore,
        writesFound: found,
        storedTwice: duplicated.length,
        stopToPromotedMs: promotedMs,
        stopToAllInstancesMovedMs: switchedMs,
      }),
    )
  })
  t.comment(`haproxy log (last lines):\n${balancer.log().split('\n').slice(-15).join('\n')}`)
})
