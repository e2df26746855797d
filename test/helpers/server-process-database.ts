import { sql } from 'kysely'
import type { Test } from 'tap'
import { openEmbeddedDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrator.js'
import { createApiKey } from '../../src/services/api-key.service.js'
import { databaseUrl, openTestDatabase, serverUrl } from './test-database.js'

/** A key with the write scope in the database a server process will open, made before it starts. */
export async function prepareServerDatabase(t: Test): Promise<{ env: NodeJS.ProcessEnv; token: string }> {
  if (serverUrl !== undefined) {
    const database = await openTestDatabase()
    t.teardown(() => database.close())
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)
    const { token } = await createApiKey(database.db, { name: 'writer', scopes: ['write'] })
    return { env: { DATABASE_URL: databaseUrl(serverUrl, rows[0]!.name), MIGRATE_ON_START: 'false' }, token }
  }
  // The embedded database is one process's: the key is made before the server takes the directory.
  const dataDir = t.testdir()
  const database = await openEmbeddedDatabase(dataDir)
  try {
    await migrateToLatest(database.db)
    const { token } = await createApiKey(database.db, { name: 'writer', scopes: ['write'] })
    return { env: { DATABASE_URL: '', DATA_DIR: dataDir }, token }
  } finally {
    await database.close()
  }
}
