import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type Kysely, type Migration, type MigrationProvider, type MigrationResultSet, Migrator, sql } from 'kysely'
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

/** The migrations not yet applied to the database, by name, without applying any. */
export async function pendingMigrations(db: Kysely<any>, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await new Migrator({ db, provider: new SqlFileMigrationProvider(dir) }).getMigrations()
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name)
}
