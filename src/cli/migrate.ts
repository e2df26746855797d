import { loadConfig } from '../config.js'
import { openDatabase } from '../db/database.js'
import { migrateToLatest } from '../db/migrator.js'

/** `npm run db:migrate`: applies pending migrations to the configured database (server or embedded) and exits. */
const config = loadConfig()
const database = await openDatabase(config)
try {
  const result = await migrateToLatest(database.db)
  const applied = result.results?.map((r) => r.migrationName) ?? []
  console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database is up to date')
} finally {
  await database.close()
}
