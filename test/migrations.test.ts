import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import t from 'tap'
import { type DatabaseHandle, openPgliteDatabase, openServerDatabase } from '../src/db/database.js'
import { MIGRATIONS_DIR, migrateToLatest } from '../src/db/migrator.js'
import { startProjectProcess } from './helpers/project-process.js'
import { databaseUrl, serverUrl, withAdminClient } from './helpers/test-database.js'
import { PGLITE_EXTENSIONS } from '../src/db/pglite-extensions.js'

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url))
const NAME = /^\d{14}_[a-z0-9_]+\.sql$/

/** A throwaway, empty database on the server (from template0: nothing a site added to template1), dropped at the end. */
async function createEmptyServerDatabase(teardown: (fn: () => unknown) => void): Promise<string> {
  const name = `counterclaim_migrations_${randomBytes(6).toString('hex')}`
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name} TEMPLATE template0`))
  teardown(() => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))
  return databaseUrl(serverUrl!, name)
}

/** An empty database, not cloned from the migrated template: a throwaway database on the server, or a new PGlite. */
async function openEmptyDatabase(teardown: (fn: () => unknown) => void): Promise<DatabaseHandle> {
  const handle =
    serverUrl === undefined
      ? await openPgliteDatabase(new PGlite({ extensions: PGLITE_EXTENSIONS }), () => undefined)
      : openServerDatabase({ url: await createEmptyServerDatabase(teardown), poolMax: 2, statementTimeoutMs: 60_000 })
  teardown(() => handle.close())
  return handle
}

async function tablesOf(handle: DatabaseHandle): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
    ORDER BY table_name`.execute(handle.db)
  return rows.map((row) => row.table_name)
}

const files = (await readdir(MIGRATIONS)).filter((file) => file.endsWith('.sql')).sort()

t.test('the migrator reads the project migrations directory', async (t) => {
  t.equal(resolve(MIGRATIONS_DIR), resolve(MIGRATIONS))
  t.ok(files.length > 0, 'there are migrations')
})

t.test('every migration file is named <14-digit UTC timestamp>_<snake_case>.sql', async (t) => {
  const all = await readdir(MIGRATIONS)
  for (const file of all) t.match(file, NAME, `${file} is a well-named migration`)
  const stamps = files.map((file) => file.slice(0, 14))
  t.equal(new Set(stamps).size, stamps.length, 'no two migrations share a timestamp')
  for (const stamp of stamps) {
    const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at, i) =>
      Number(stamp.slice(at, at + (i === 0 ? 4 : 2))),
    )
    const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!))
    t.equal(date.toISOString().replace(/\D/g, '').slice(0, 14), stamp, `${stamp} is a real UTC date-time`)
  }
})

t.test('on an empty database every migration applies in name order, once', async (t) => {
  const handle = await openEmptyDatabase((fn) => t.teardown(fn))
  t.same(await tablesOf(handle), [], 'the database starts empty')

  const first = await migrateToLatest(handle.db)
  t.equal(first.error, undefined)
  const expected = [...files].sort().map((file) => file.replace(/\.sql$/, ''))
  t.same(
    first.results?.map((result) => result.migrationName),
    expected,
    'every file, in name order',
  )
  t.ok(
    first.results?.every((result) => result.status === 'Success' && result.direction === 'Up'),
    'all succeeded',
  )

  const { rows: recorded } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(
    handle.db,
  )
  t.same(
    recorded.map((row) => row.name),
    expected,
    'each recorded as applied',
  )

  const tables = await tablesOf(handle)
  for (const table of ['parties', 'claims', 'claim_versions', 'links'])
    t.ok(tables.includes(table), `table ${table} exists`)

  const second = await migrateToLatest(handle.db)
  t.equal(second.error, undefined)
  t.same(second.results, [], 'a second run applies nothing')
  t.same(await tablesOf(handle), tables, 'and changes no tables')
})

t.test(
  "a migration is not cut short by the statement timeout of the service's sessions",
  { skip: serverUrl === undefined && 'needs DATABASE_URL: the embedded database does not enforce statement_timeout' },
  async (t) => {
    const url = await createEmptyServerDatabase((fn) => t.teardown(fn))
    const handle = openServerDatabase({ url, poolMax: 1, statementTimeoutMs: 200 })
    t.teardown(() => handle.close())
    const dir = t.testdir({ '20260101000000_slow.sql': 'SELECT pg_sleep(0.6);' })
    const result = await migrateToLatest(handle.db, dir)
    t.same(
      result.results?.map((r) => r.status),
      ['Success'],
      'a migration slower than the timeout applies',
    )
    await t.rejects(sql`SELECT pg_sleep(0.6)`.execute(handle.db), { code: '57014' }, 'the timeout still bounds queries')

    // A second instance starting meanwhile waits for the migration lock longer than the timeout, then finds
    // nothing left to do.
    const slower = t.testdir({
      '20260101000000_slow.sql': 'SELECT pg_sleep(0.6);',
      '20260101000100_slower.sql': 'SELECT pg_sleep(0.8);',
    })
    const other = openServerDatabase({ url, poolMax: 1, statementTimeoutMs: 200 })
    t.teardown(() => other.close())
    const [first, second] = await Promise.all([migrateToLatest(handle.db, slower), migrateToLatest(other.db, slower)])
    t.same(
      [...(first.results ?? []), ...(second.results ?? [])].map((r) => r.migrationName),
      ['20260101000100_slower'],
      'the new migration applied once, by one of the two',
    )
  },
)

t.test('the migrated schema enforces what the API relies on', async (t) => {
  const handle = await openEmptyDatabase((fn) => t.teardown(fn))
  await migrateToLatest(handle.db)
  const party = { slug: 'armenia', name: 'Armenia', kind: 'state' }
  await handle.db.insertInto('parties').values(party).execute()
  await t.rejects(handle.db.insertInto('parties').values(party).execute(), { code: '23505' }, 'a live slug is unique')
  await t.rejects(
    handle.db
      .insertInto('parties')
      .values({ ...party, slug: 'Not A Slug' })
      .execute(),
    { code: '23514' },
    'a slug is checked',
  )
  await handle.db.updateTable('parties').set({ deleted_at: new Date() }).where('slug', '=', 'armenia').execute()
  await handle.db.insertInto('parties').values(party).execute()
  t.pass('a deleted party frees its slug')
})

t.test('npm run db:migrate applies the migrations to the configured database, then finds nothing to do', async (t) => {
  const env =
    serverUrl === undefined
      ? { DATABASE_URL: '', DATA_DIR: t.testdir() }
      : { DATABASE_URL: await createEmptyServerDatabase((fn) => t.teardown(fn)) }
  const run = async () => {
    const migrate = startProjectProcess(t, 'src/cli/migrate.ts', env)
    const { code } = await migrate.exited
    return { code, stdout: migrate.stdout(), stderr: migrate.stderr() }
  }

  const first = await run()
  t.equal(first.code, 0, first.stderr)
  t.equal(first.stdout.trim(), `applied: ${files.map((file) => file.replace(/\.sql$/, '')).join(', ')}`)
  const second = await run()
  t.equal(second.code, 0, second.stderr)
  t.equal(second.stdout.trim(), 'the database is up to date')
})

t.test('reviews made before reviews were pinned rate the claim version of that time', async (t) => {
  const handle = await openEmptyDatabase((fn) => t.teardown(fn))
  const before = t.testdir(
    Object.fromEntries(
      await Promise.all(
        files
          .filter((file) => file < '20261204100000')
          .map(async (file) => [file, await readFile(resolve(MIGRATIONS, file), 'utf8')] as const),
      ),
    ),
  )
  await migrateToLatest(handle.db, before)
  const { rows } = await sql<{ review: string }>`
    WITH p AS (
      INSERT INTO parties (slug, name, kind) VALUES ('ministry', 'M', 'government'), ('desk', 'D', 'fact-checker')
      RETURNING id, slug
    ), c AS (
      INSERT INTO claims (party_id, text, stated_at, version)
      SELECT id, 'Said twice.', now(), 2 FROM p WHERE slug = 'ministry' RETURNING id
    ), cv AS (
      INSERT INTO claim_versions (claim_id, version, snapshot)
      SELECT c.id, v, jsonb_build_object('text', 'Said twice.') FROM c, generate_series(1, 2) v
    ), r AS (
      INSERT INTO reviews (claim_id, reviewer_party_id, verdict, rating_label, published_at)
      SELECT c.id, p.id, 'false', 'False', now() FROM c, p WHERE p.slug = 'desk' RETURNING id
    ), rv AS (
      INSERT INTO review_versions (review_id, version, snapshot)
      SELECT r.id, 1, '{"verdict": "false"}'::jsonb FROM r
    )
    SELECT r.id AS review FROM r`.execute(handle.db)
  await migrateToLatest(handle.db)
  const { rows: after } = await sql<{ claim_version: number; snapshot: Record<string, unknown> }>`
    SELECT r.claim_version, rv.snapshot FROM reviews r JOIN review_versions rv ON rv.review_id = r.id
    WHERE r.id = ${rows[0]!.review}`.execute(handle.db)
  t.same(after, [{ claim_version: 2, snapshot: { verdict: 'false', claim_version: 2, claim_summary: null } }])
})

t.test('parties and links made before they kept versions get the version they are at, by no key', async (t) => {
  const handle = await openEmptyDatabase((fn) => t.teardown(fn))
  const before = t.testdir(
    Object.fromEntries(
      await Promise.all(
        files
          .filter((file) => file < '20261204170000')
          .map(async (file) => [file, await readFile(resolve(MIGRATIONS, file), 'utf8')] as const),
      ),
    ),
  )
  await migrateToLatest(handle.db, before)
  await sql`
    INSERT INTO parties (slug, name, kind, version, deleted_at)
    VALUES ('state', 'State', 'state', 1, NULL), ('ministry', 'M', 'government', 3, NULL),
           ('gone', 'Gone', 'media', 2, now()), ('rival', 'Rival', 'state', 1, NULL)`.execute(handle.db)
  await sql`
    UPDATE parties SET side_id = (SELECT id FROM parties WHERE slug = 'state') WHERE slug = 'ministry'`.execute(
    handle.db,
  )
  await sql`
    WITH c AS (
      INSERT INTO claims (party_id, text, stated_at) SELECT id, 'Said.', '2020-10-06' FROM parties WHERE slug = 'ministry'
      RETURNING id, party_id
    ), d AS (
      INSERT INTO claims (party_id, text, stated_at) SELECT id, 'Denied.', '2020-10-07' FROM parties WHERE slug = 'rival'
      RETURNING id, party_id
    )
    INSERT INTO links (from_claim_id, to_claim_id, from_party_id, to_party_id, kind, note, version, to_claim_stated_at,
                       from_claim_stated_at)
    SELECT d.id, c.id, d.party_id, c.party_id, 'rebuts', 'A lie.', 2, '2020-10-06', '2020-10-07' FROM c, d`.execute(
    handle.db,
  )
  await migrateToLatest(handle.db)
  const { rows } = await sql<{ slug: string; version: number; snapshot: Record<string, unknown>; recorded_by: null }>`
    SELECT p.slug, v.version, v.snapshot, v.recorded_by FROM party_versions v JOIN parties p ON p.id = v.party_id
    ORDER BY p.slug`.execute(handle.db)
  t.same(
    rows.map((row) => [
      row.slug,
      row.version,
      row.snapshot.name,
      (row.snapshot.side as { slug?: string } | null)?.slug,
    ]),
    [
      ['gone', 1, 'Gone', undefined],
      ['ministry', 3, 'M', 'state'],
      ['rival', 1, 'Rival', undefined],
      ['state', 1, 'State', undefined],
    ],
    'a deleted party keeps the version before its deletion',
  )
  t.ok(rows.every((row) => row.recorded_by === null))
  const { rows: links } = await sql<{ version: number; snapshot: unknown }>`
    SELECT version, snapshot FROM link_versions`.execute(handle.db)
  t.same(links, [{ version: 2, snapshot: { note: 'A lie.', prebuttal: false } }])
})
