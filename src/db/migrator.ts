import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  DEFAULT_MIGRATION_TABLE,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  sql,
} from 'kysely'
import { withoutClientTimeouts } from './guarded-client.js'

/** `migrations/` at the project root, both from `src/db` (tsx, tests) and from `dist/db` (the build). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))

/**
 * Migrations are plain SQL files, applied in name order (their names start with a UTC timestamp). Each file is
 * sent as one simple-protocol query, so it may hold several statements; Kysely's Migrator runs them all in one
 * transaction under its own lock, on PostgreSQL and PGlite alike.
 */
export class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string = MIGRATIONS_DIR) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.dir)).filter((name) => name.endsWith('.sql')).sort()
    const migrations: Record<string, Migration> = {}
    for (const file of files) {
      const text = await readFile(`${this.dir}/${file}`, 'utf8')
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (db: Kysely<unknown>) => {
          await sql.raw(text).execute(db)
        },
      }
    }
    return migrations
  }
}

/** Applies every pending migration; throws (naming the migration) if one fails, leaving none of them applied. */
export async function migrateToLatest(db: Kysely<any>, dir: string = MIGRATIONS_DIR): Promise<MigrationResultSet> {
  if (await isAtLatest(db, dir)) return { results: [] }
  // The statement timeout of the service's sessions bounds requests, not a migration that rewrites a large table,
  // nor the wait for the migration lock while another instance migrates: lifted on the migrating session, and
  // so is the client's own limit on waiting for an answer.
  const result = await withoutClientTimeouts(() =>
    db.connection().execute(async (session) => {
      await sql`SET statement_timeout = 0`.execute(session)
      try {
        return await new Migrator({ db: session, provider: new SqlFileMigrationProvider(dir) }).migrateToLatest()
      } finally {
        await sql`RESET statement_timeout`.execute(session)
      }
    }),
  )
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')
    const cause = result.error instanceof Error ? result.error.message : String(result.error)
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`, { cause: result.error })
  }
  return result
}

/**
 * Whether the database has applied exactly the migrations in `dir`, read with two small queries. Kysely's Migrator
 * introspects every table of the schema a few times before it decides there is nothing to do: most of a restart
 * on the embedded database. Anything else (a new database, a pending or an unknown migration) goes to it.
 */
async function isAtLatest(db: Kysely<any>, dir: string): Promise<boolean> {
  const [files, { rows }] = await Promise.all([
    new SqlFileMigrationProvider(dir).getMigrations(),
    sql<{ present: boolean }>`SELECT to_regclass(${DEFAULT_MIGRATION_TABLE}) IS NOT NULL AS present`.execute(db),
  ])
  if (!rows[0]?.present) return false
  const { rows: applied } = await sql<{ name: string }>`SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(
    db,
  )
  const names = new Set(applied.map(({ name }) => name))
  return names.size === Object.keys(files).length && Object.keys(files).every((name) => names.has(name))
}

/** The migrations not yet applied to the database, by name, without applying any. */
export async function pendingMigrations(db: Kysely<any>, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await new Migrator({ db, provider: new SqlFileMigrationProvider(dir) }).getMigrations()
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name)
}
