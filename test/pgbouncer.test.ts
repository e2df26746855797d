import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import { createApiKey } from '../src/services/api-key.service.js'
import { derivedStateDrift } from '../src/services/derived-state.js'
import { freePort, startServerProcess } from './helpers/project-process.js'
import { TEST_LIMITS } from './helpers/test-app.js'
import { databaseUrl, openTestDatabase, serverUrl } from './helpers/test-database.js'

/**
 * The service behind a real PgBouncer (Debian's 1.18), started here on a free loopback port with its own
 * configuration: in transaction mode, where each transaction may run on another server session, with
 * DATABASE_PREPARED_STATEMENTS=false; and in session mode with prepared statements, as by default.
 */
t.setTimeout(300_000)

const pgbouncer = spawnSync('sh', ['-c', 'command -v pgbouncer || command -v /usr/sbin/pgbouncer'], {
  encoding: 'utf8',
}).stdout.trim()
const skip =
  serverUrl === undefined
    ? 'needs DATABASE_URL: PgBouncer pools connections to a PostgreSQL server'
    : pgbouncer === ''
      ? 'needs pgbouncer (apt-get install pgbouncer)'
      : false

/** Fewer server sessions than the service's pool holds: its connections must share them. */
const SERVER_SESSIONS = 3

async function startPgbouncer(t: Test, poolMode: 'transaction' | 'session'): Promise<number> {
  const server = new URL(serverUrl!)
  const port = await freePort()
  // PgBouncer refuses to run as root, and drops to the postgres user, who must read its files.
  const dir = mkdtempSync(join(tmpdir(), 'counterclaim-pgbouncer-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const user = decodeURIComponent(server.username) || 'postgres'
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${decodeURIComponent(server.password)}"\n`, { mode: 0o644 })
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${poolMode}`,
      `default_pool_size = ${SERVER_SESSIONS}`,
      'max_client_conn = 100',
      // Session settings that the pg driver sends at connect, which PgBouncer 1.18 would otherwise refuse.
      'ignore_startup_parameters = extra_float_digits, options, statement_timeout',
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  const asUser = process.getuid?.() === 0 ? ['-u', 'postgres'] : []
  const child: ChildProcess = spawn(pgbouncer, [...asUser, join(dir, 'pgbouncer.ini')], { stdio: 'ignore' })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM')
  })
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres' })
    const up = await client.connect().then(
      () => client.end().then(() => true),
      () => false,
    )
    if (up) return port
    if (attempt > 100 || child.exitCode !== null) throw new Error(`pgbouncer did not start (exit ${child.exitCode})`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface Answer {
  status: number
  body: any
}

/**
 * Many reads and writes at once through the pooler, then every claim read back: each answer is the one expected,
 * and the service logged no prepared statement that a session did not know (or knew already).
 */
async function busyThroughPooler(
  t: Test,
  poolMode: 'transaction' | 'session',
  preparedStatements: boolean,
  expectFailures = false,
) {
  const database = await openTestDatabase()
  t.teardown(() => database.close())
  const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)
  const { token } = await createApiKey(database.db, { name: 'pooled writer', scopes: ['write'] })
  const port = await startPgbouncer(t, poolMode)
  const pooled = new URL(databaseUrl(serverUrl!, rows[0]!.name))
  pooled.hostname = '127.0.0.1'
  pooled.port = String(port)
  const service = await startServerProcess(t, {
    ...TEST_LIMITS,
    DATABASE_URL: pooled.toString(),
    DATABASE_PREPARED_STATEMENTS: String(preparedStatements),
    // A session pooler gives each connection a server session for as long as it lives: no more than it has.
    DATABASE_POOL_MAX: String(poolMode === 'session' ? SERVER_SESSIONS : 10),
    // Migrations set and reset a session setting: behind a transaction pooler they run against the server itself.
    MIGRATE_ON_START: 'false',
  })
  // The service logs to stdout; its errors name what PostgreSQL answered.
  const logs = () => service.stdout() + service.stderr()
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${service.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
  }

  const party = await call('POST', '/v1/parties', { slug: 'pooled-party', name: 'Pooled party', kind: 'media' })
  t.equal(party.status, 201, JSON.stringify(party.body))
  const other = await call('POST', '/v1/parties', { slug: 'other-party', name: 'Other party', kind: 'state' })
  t.equal(other.status, 201)
  const first = await call('POST', '/v1/claims', {
    party: 'other-party',
    text: 'The first claim, which every later one rebuts.',
    stated_at: '2020-10-01T00:00:00Z',
  })
  t.equal(first.status, 201)

  const WRITES = 30
  const work: Promise<Answer>[] = []
  for (let i = 0; i < WRITES; i++) {
    work.push(
      call('POST', `/v1/claims/${first.body.id}/rebuttals`, {
        claim: { party: 'pooled-party', text: `Rebuttal number ${i}.`, stated_at: '2020-10-02T00:00:00Z' },
      }),
    )
    work.push(call('GET', `/v1/claims/${first.body.id}`))
    work.push(call('GET', '/v1/claims?party=pooled-party&limit=200'))
    work.push(call('GET', '/v1/parties/pooled-party'))
    work.push(call('GET', '/v1/disputes'))
  }
  const answers = await Promise.all(work)
  const unexpected = answers.filter((answer, i) => answer.status !== (i % 5 === 0 ? 201 : 200))
  if (expectFailures) {
    t.ok(unexpected.length > 0, 'some requests of the burst failed')
    t.match(
      logs(),
      /prepared statement \\"cc_[\w-]+\\" (does not exist|already exists)/,
      'for statements prepared on another session',
    )
    return
  }
  t.same(unexpected, [], 'every request of the burst got its expected status')

  const made = answers.filter((_, i) => i % 5 === 0).map((answer) => answer.body.claim as { id: string; text: string })
  const readBack = await Promise.all(made.map((claim) => call('GET', `/v1/claims/${claim.id}`)))
  t.same(
    readBack.map((answer) => [answer.status, answer.body.text]),
    made.map((claim) => [200, claim.text]),
    'each claim reads back as written',
  )
  const rebutted = await call('GET', `/v1/claims/${first.body.id}`)
  t.equal(rebutted.body.rebuttal_count, WRITES, 'and the rebuttals were all counted')
  t.same(await derivedStateDrift(database.db), [], 'the derived state matches a fresh count')
  t.notMatch(logs(), /prepared statement/i, 'no prepared statement went missing or was made twice')
}

t.test('transaction pooling with DATABASE_PREPARED_STATEMENTS=false', { skip }, async (t) => {
  await busyThroughPooler(t, 'transaction', false)
})

t.test('session pooling with prepared statements (the default)', { skip }, async (t) => {
  await busyThroughPooler(t, 'session', true)
})

t.test('transaction pooling with prepared statements fails, as the setting says it would', { skip }, async (t) => {
  await busyThroughPooler(t, 'transaction', true, true)
})
