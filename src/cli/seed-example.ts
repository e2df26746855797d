import { readFileSync } from 'node:fs'
import { loadConfig } from '../config.js'
import { openDatabase } from '../db/database.js'
import { migrateToLatest } from '../db/migrator.js'
import { ApiError } from '../errors/problems.js'
import { InvalidDataSetError, loadDataSet, parseDataSet } from '../services/data-set.service.js'

/**
 * `npm run seed:example [-- file.json]`: loads the demo data set (the 2020 Nagorno-Karabakh report, by default)
 * into the configured database, server or embedded. Loading it again changes nothing.
 */
const file = process.argv[2] ?? new URL('../../examples/nagorno-karabakh-2020.json', import.meta.url)
const config = loadConfig()
const database = await openDatabase(config)
try {
  await migrateToLatest(database.db)
  const counts = await loadDataSet(database.db, parseDataSet(JSON.parse(readFileSync(file, 'utf8'))))
  for (const [what, { created, unchanged }] of Object.entries(counts)) {
    console.log(`${what}: ${created} created, ${unchanged} already there`)
  }
} catch (error) {
  if (!(error instanceof InvalidDataSetError || error instanceof ApiError)) throw error
  console.error(`the data set was not loaded: ${error.message}`)
  process.exitCode = 1
} finally {
  await database.close()
}
