import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { type DatabaseHandle, openEmbeddedDatabase, openServerDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { type Db, TABLES_IN_DEPENDENCY_ORDER } from '../src/db/schema.js'
import { findLinkBetween } from '../src/repositories/link.repository.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { loadDataSet, parseDataSet } from '../src/services/data-set.service.js'
import { derivedStateDrift } from '../src/services/derived-state.js'
import { type Checksum, databaseChecksummer } from './helpers/database-checksum.js'
import { startProjectProcess } from './helpers/project-process.js'
import { TEST_LIMITS } from './helpers/test-app.js'
import { databaseUrl, openTestDatabase, serverUrl, withAdminClient } from './helpers/test-database.js'

/**
 * `npm run db:move` as an operator runs it: its own process, reading an embedded data directory (with nothing
 * else holding it) and writing into databases of the PostgreSQL server at DATABASE_URL, each made for one test.
 */
const DB_MOVE_SCRIPT = 'src/cli/db-move.ts'
// A fresh data directory, its reopenings and four processes: minutes on a loaded machine.
t.setTimeout(400_000)

const MIGRATION_TABLES = ['kysely_migration', 'kysely_migration_lock']

async function tablesOf(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT relname AS name FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'
    ORDER BY relname`.execute(db)
  return rows.map((row) => row.name).filter((name) => !MIGRATION_TABLES.includes(name))
}

t.test('the move copies every table the migrations make, each after the tables it refers to', async (t) => {
  const database = await openTestDatabase()
  t.teardown(() => database.close())
  t.same(await tablesOf(database.db), [...TABLES_IN_DEPENDENCY_ORDER].sort(), 'a table added must be listed')
  const { rows: references } = await sql<{ referring: string; referred: string }>`
    SELECT conrelid::regclass::text AS referring, confrelid::regclass::text AS referred FROM pg_constraint
    WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`.execute(database.db)
  const position = (table: string) => TABLES_IN_DEPENDENCY_ORDER.indexOf(table as never)
  const backwards = references.filter((ref) => position(ref.referred) > position(ref.referring))
  t.same(backwards, [], 'no table is filled before a table it refers to')
  t.ok(references.length > 10, 'the foreign keys were read')
})

t.test('a target that is no URL is a usage error that does not repeat it, password and all', async (t) => {
  const env = { DATABASE_URL: '', DATA_DIR: join(t.testdir(), 'data'), LOG_LEVEL: 'warn' }
  const secret = 'pa#ss'
  const given = startProjectProcess(t, DB_MOVE_SCRIPT, env, ['--to', `postgres://mover:${secret}@127.0.0.1/db`])
  t.equal((await given.exited).code, 2)
  t.match(given.stderr(), /not a valid URL: percent-encode/)
  t.notMatch(given.stdout() + given.stderr(), secret, 'the password is not printed')
  const fromEnvironment = startProjectProcess(t, DB_MOVE_SCRIPT, { ...env, DB_MOVE_TO: `postgres://m:${secret}@h/db` })
  t.equal((await fromEnvironment.exited).code, 2, 'DB_MOVE_TO is read as the target')
  t.notMatch(fromEnvironment.stdout() + fromEnvironment.stderr(), secret)
  const none = startProjectProcess(t, DB_MOVE_SCRIPT, env)
  t.equal((await none.exited).code, 2)
  t.match(none.stderr(), /names the PostgreSQL database to copy into/)
})

const needsServer = serverUrl === undefined && 'needs DATABASE_URL: the move copies into a PostgreSQL server'
t.test('moves into a PostgreSQL server, from the embedded database or another server', { skip: needsServer }, (t) =>
  moves(t, serverUrl!),
)

async function moves(t: Test, server: string) {
  const example = parseDataSet(
    JSON.parse(readFileSync(new URL('../examples/nagorno-karabakh-2020.json', import.meta.url), 'utf8')),
  )
  const PIPELINE = '5eed0000-0000-4000-8000-000000000001'
  const CAVUSOGLU = '5eed0000-0000-4000-8000-000000000003'
  const UAWIRE = '5eed0000-0000-4000-8000-000000000008'
  const PESKOV = '5eed0000-0000-4000-8000-000000000009'
  const AZ_MEDIA = '5eed0000-0000-4000-8000-000000000011'
  const dataDir = join(t.testdir(), 'data')
  const env = { DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }
  const config = { ...loadConfig({ ...TEST_LIMITS, DATABASE_URL: '' }), migrateOnStart: false }

  /** An empty database on the server, dropped when the tests end. */
  const emptyDatabase = async () => {
    const name = `counterclaim_move_${randomBytes(6).toString('hex')}`
    await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`))
    t.teardown(() => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))
    return databaseUrl(server, name)
  }
  const openTarget = (url: string) => openServerDatabase({ url, poolMax: 2, statementTimeoutMs: 30_000 })
  const move = async (to: string, args: string[] = []) => {
    const run = startProjectProcess(t, DB_MOVE_SCRIPT, env, ['--to', to, ...args])
    const { code } = await run.exited
    return { code, stdout: run.stdout(), stderr: run.stderr() }
  }
  const rowsIn = async (db: Db) => {
    let rows = 0
    for (const table of await tablesOf(db)) {
      const { rows: counted } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db)
      rows += Number(counted[0]!.n)
    }
    return rows
  }
  /** Per table, its rows and a hash of them, on the source and on `target`; each database keeps its own migration log. */
  const checksums = async (target: DatabaseHandle) => {
    const source = await openEmbeddedDatabase(dataDir)
    const tablesOnly = ({ kysely_migration: _, ...tables }: Checksum) => tables
    try {
      return [
        tablesOnly(await (await databaseChecksummer(source))()),
        tablesOnly(await (await databaseChecksummer(target))()),
      ]
    } finally {
      await source.close()
    }
  }
  /** What the service answers to a few reads: on the source, then on the target, they must be the same. */
  const reads = async (database: DatabaseHandle) => {
    // Closing the app closes its database.
    const app: FastifyInstance = await buildApp({ config, database, logger: false })
    try {
      const urls = [
        `/v1/claims/${PIPELINE}`,
        `/v1/claims/${PIPELINE}/history`,
        `/v1/claims/${PIPELINE}/reviews`,
        `/v1/claims/${PIPELINE}/thread`,
        `/v1/claims/${CAVUSOGLU}/history`,
        `/v1/claims/${AZ_MEDIA}`,
        ...links.map((id) => `/v1/links/${id}`),
        '/v1/parties/fact-check-desk',
        '/v1/claims?limit=200',
        '/v1/disputes',
        '/v1/disputes/matrix',
        '/v1/disputes/matrix?kind=supports',
      ]
      const answers: Record<string, { status: number; etag: unknown; body: unknown }> = {}
      for (const url of urls) {
        const response = await app.inject({ method: 'GET', url })
        // A problem names the request it answers, which differs between any two requests.
        const { instance: _, ...body } = response.json()
        answers[url] = { status: response.statusCode, etag: response.headers.etag, body }
      }
      return answers
    } finally {
      await app.close()
    }
  }

  // The demo data set, then what a few days of use add to it, through the API with a key: a party made with an
  // Idempotency-Key, an edit with its note, a review, a counter-claim, a deleted claim and a deleted link.
  let deletedLink = ''
  let rebuttalLink = ''
  {
    const source = await openEmbeddedDatabase(dataDir)
    try {
      await migrateToLatest(source.db)
      await loadDataSet(source.db, example)
      const { token } = await createApiKey(source.db, { name: 'desk', scopes: ['admin'] })
      const app = await buildApp({ config, database: source, logger: false })
      try {
        const call = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
          const headers = { authorization: `Bearer ${token}`, 'idempotency-key': randomBytes(8).toString('hex') }
          const response = await app.inject({ method, url, payload, headers })
          if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`)
          return response.body === '' ? undefined : response.json()
        }
        await call('POST', '/v1/parties', { slug: 'fact-check-desk', name: 'Fact-check desk', kind: 'fact-checker' })
        await call('PATCH', `/v1/claims/${CAVUSOGLU}`, { tags: ['turkey', 'edited'], edit_note: 'tagged' })
        await call('POST', `/v1/claims/${PIPELINE}/reviews`, {
          reviewer: 'fact-check-desk',
          verdict: 'unproven',
          rating_label: 'Unproven',
          published_at: '2020-10-01T12:00:00Z',
        })
        const counter = await call('POST', `/v1/claims/${PIPELINE}/rebuttals`, {
          claim: { party: 'armenia', text: 'No missile was fired at the pipeline.', stated_at: '2020-10-07T10:00:00Z' },
        })
        rebuttalLink = (counter as { link: { id: string } }).link.id
        await call('DELETE', `/v1/claims/${AZ_MEDIA}`)
        deletedLink = (await findLinkBetween(source.db, UAWIRE, PESKOV))!.id
        await call('DELETE', `/v1/links/${deletedLink}`)
        t.same(await derivedStateDrift(source.db), [], 'the source is consistent to begin with')
      } finally {
        // Closing the app closes its database.
        await app.close()
      }
    } catch (error) {
      await source.close()
      throw error
    }
  }
  const links = [deletedLink, rebuttalLink]

  t.test('every record arrives with its id, version, history and tombstone, and answers the same', async (t) => {
    const to = await emptyDatabase()
    const moved = await move(to, ['--batch-size', '4'])
    t.equal(moved.code, 0, `the move succeeds\n${moved.stderr}`)
    t.match(moved.stdout, /^claims: 16 rows$/m, 'it names each table it copied')
    t.match(moved.stderr, /row counts and derived state checked/)

    const target = openTarget(to)
    t.teardown(() => target.close())
    const [sourceSums, targetSums] = await checksums(target)
    t.same(targetSums, sourceSums, 'every row of every table is the same on both')
    const filled = ['api_keys', 'party_versions', 'link_versions', 'reviews', 'review_versions', 'idempotency_records']
    for (const table of [...filled, 'import_refs', 'rate_limit_counters']) {
      t.notMatch(sourceSums[table], /^0:/, `${table} had rows to copy`)
    }
    t.same(await derivedStateDrift(target.db), [], 'the derived state checks clean on the target')

    const onTarget = await reads(openTarget(to))
    t.same(onTarget, await reads(await openEmbeddedDatabase(dataDir)), 'reads answer alike on both')
    const gone = onTarget[`/v1/claims/${AZ_MEDIA}`]!
    t.equal(gone.status, 410, 'a deleted claim answers 410 on the target')
    t.match(gone.body, { tombstone: { id: AZ_MEDIA } })
    t.equal(onTarget[`/v1/links/${links[0]}`]!.status, 410, 'so does a deleted link')

    const again = await move(to)
    t.equal(again.code, 1, 'a target that holds rows is refused')
    t.match(again.stderr, /nothing was copied: the target database is not empty: .*claims/)
    t.same(await derivedStateDrift(target.db), [], 'and left as it was')
  })

  t.test('a copy that fails half way leaves the target empty, and can be run again', async (t) => {
    const to = await emptyDatabase()
    const failed = await move(to, ['--batch-size', '3', '--fail-after', '20'])
    t.equal(failed.code, 1, failed.stderr)
    t.match(failed.stderr, /nothing was copied: stopped as asked after 2\d rows, in table \w+/)
    t.match(failed.stdout, /^parties: 16 rows$/m, 'parties were copied before it stopped')
    const target = openTarget(to)
    t.teardown(() => target.close())
    t.equal(await rowsIn(target.db), 0, 'no row is left in the target')
    t.same(await tablesOf(target.db), [...TABLES_IN_DEPENDENCY_ORDER].sort(), 'which was migrated')

    const killed = startProjectProcess(t, DB_MOVE_SCRIPT, env, ['--to', to, '--batch-size', '1'])
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (/^parties: /m.test(killed.stdout()) || killed.child.exitCode !== null) {
          clearInterval(poll)
          resolve()
        }
      }, 5)
    })
    killed.child.kill('SIGKILL')
    t.equal((await killed.exited).signal, 'SIGKILL', `killed while copying\n${killed.stdout()}`)
    t.equal(await rowsIn(target.db), 0, 'a killed copy leaves no row either')

    const retried = await move(to)
    t.equal(retried.code, 0, `the move then succeeds\n${retried.stderr}`)
    const [sourceSums, targetSums] = await checksums(target)
    t.same(targetSums, sourceSums, 'and copies everything')
  })

  t.test('a database on a server moves to another one, and not onto itself', async (t) => {
    const source = await openTestDatabase()
    t.teardown(() => source.close())
    await loadDataSet(source.db, example)
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(source.db)
    const from = databaseUrl(server, rows[0]!.name)
    const run = async (to: string) => {
      const moving = startProjectProcess(t, DB_MOVE_SCRIPT, { DATABASE_URL: from, LOG_LEVEL: 'warn' }, ['--to', to])
      return { code: (await moving.exited).code, stderr: moving.stderr() }
    }
    const onto = await run(from)
    t.equal(onto.code, 2, 'the database DATABASE_URL names is not a target')
    t.match(onto.stderr, /--to names the database DATABASE_URL already uses/)

    const to = await emptyDatabase()
    const moved = await run(to)
    t.equal(moved.code, 0, moved.stderr)
    const target = openTarget(to)
    t.teardown(() => target.close())
    const withoutLog = ({ kysely_migration: _, ...tables }: Checksum) => tables
    t.same(
      withoutLog(await (await databaseChecksummer(target))()),
      withoutLog(await (await databaseChecksummer(source))()),
      'every row arrives',
    )
  })
}
