import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import pg from 'pg'
import { type DatabaseHandle, openPgliteDatabase, openServerDatabase } from '../../src/db/database.js'
import { MIGRATIONS_DIR, migrateToLatest } from '../../src/db/migrator.js'
import { PGLITE_EXTENSIONS } from '../../src/db/pglite-extensions.js'

/**
 * Every test file gets a database of its own, cloned from a template that the migrations built once, so files
 * run in parallel without seeing each other's rows.
 *  - With DATABASE_URL (a PostgreSQL server): `CREATE DATABASE … TEMPLATE counterclaim_template_<hash>`.
 *  - Without it: an in-memory PGlite loaded from a dump of a migrated PGlite, kept in the temp directory.
 * The template's name carries a hash of the migrations, so a changed migration builds a fresh template.
 */
export const serverUrl = process.env.DATABASE_URL || undefined

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256')
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) {
    hash.update(file).update(await readFile(join(MIGRATIONS_DIR, file)))
  }
  return hash.digest('hex').slice(0, 12)
}

export function databaseUrl(base: string, name: string): string {
  const url = new URL(base)
  url.pathname = `/${name}`
  return url.toString()
}

/** Runs `work` with a plain connection to the server's maintenance database (the one DATABASE_URL names). */
export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

async function ensureServerTemplate(): Promise<string> {
  const template = `counterclaim_template_${await migrationsHash()}`
  await withAdminClient(async (client) => {
    // One test process builds the template; the others wait on this lock and then find it built.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [template])
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])
      if (rowCount === 0) {
        // A run that died while building leaves this behind; it is ours to replace.
        await client.query(`DROP DATABASE IF EXISTS ${template}_building WITH (FORCE)`)
        await client.query(`CREATE DATABASE ${template}_building`)
        const handle = openServerDatabase({
          url: databaseUrl(serverUrl!, `${template}_building`),
          poolMax: 1,
          statementTimeoutMs: 60_000,
        })
        try {
          await migrateToLatest(handle.db)
        } finally {
          await handle.close()
        }
        await client.query(`ALTER DATABASE ${template}_building RENAME TO ${template}`)
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [template])
    }
  })
  return template
}

async function ensurePgliteTemplate(): Promise<string> {
  // A dump loads only into the PGlite version that wrote it, so the version is part of the name.
  const pgliteVersion = JSON.parse(
    await readFile(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8'),
  ).version
  const path = join(tmpdir(), `counterclaim-template-${pgliteVersion}-${await migrationsHash()}.tar`)
  const exists = await readFile(path).then(
    () => true,
    () => false,
  )
  if (!exists) {
    const pglite = new PGlite({ extensions: PGLITE_EXTENSIONS })
    const handle = await openPgliteDatabase(pglite, () => undefined)
    await migrateToLatest(handle.db)
    const dump = await pglite.dumpDataDir('none')
    await handle.close()
    // Written aside and renamed, so a parallel test process never loads half a file.
    const draft = `${path}.${process.pid}`
    await writeFile(draft, Buffer.from(await dump.arrayBuffer()))
    await rename(draft, path)
  }
  return path
}

/** A fresh, migrated database for one test file; closing it also drops it. Pool options apply on a server. */
export async function openTestDatabase(
  pool: { poolMax?: number; connectTimeoutMs?: number; onIdleError?: (error: Error) => void } = {},
): Promise<DatabaseHandle> {
  if (serverUrl !== undefined) {
    const template = await ensureServerTemplate()
    const name = `counterclaim_test_${randomBytes(6).toString('hex')}`
    await withAdminClient((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`))
    const handle = openServerDatabase({
      url: databaseUrl(serverUrl, name),
      poolMax: pool.poolMax ?? 10,
      connectTimeoutMs: pool.connectTimeoutMs,
      onIdleError: pool.onIdleError,
      statementTimeoutMs: 10_000,
    })
    return {
      ...handle,
      close: async () => {
        await handle.close()
        await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      },
    }
  }
  const dump = await readFile(await ensurePgliteTemplate())
  const pglite = new PGlite({ loadDataDir: new Blob([dump]), extensions: PGLITE_EXTENSIONS })
  return openPgliteDatabase(pglite, () => undefined)
}

/** Counts rows straight from the database, to assert what a request stored (or did not). */
export async function countRows(
  handle: DatabaseHandle,
  table: 'parties' | 'events' | 'claims' | 'claim_versions' | 'links' | 'reviews' | 'review_versions' | 'link_versions',
) {
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(handle.db)
  return Number(rows[0]?.n ?? 0)
}
