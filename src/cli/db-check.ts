import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config.js'
import { openDatabase } from '../db/database.js'
import { DataDirLockedError } from '../db/data-dir-lock.js'
import { pendingMigrations } from '../db/migrator.js'
import { derivedStateDrift } from '../services/derived-state.js'

const USAGE = `usage: npm run db:check

Compares the derived state stored in the configured database (DATABASE_URL, or the embedded one under DATA_DIR,
with the server stopped) with a fresh count: claims' rebuttal, support, repeat and review counts, last response time and
standing, the matrix's rebuttal and support pair counts, and the copies of their claims that links keep. Prints each difference and
exits 1 when there is any, 0 when there is none, 2 when the check could not run. Changes nothing.`

class UsageError extends Error {}

const shown = (value: unknown) =>
  value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value)

/** `npm run db:check`: what an operator runs after restoring a backup, before serving from it. */
async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' } } })
  if (values.help === true) {
    console.log(USAGE)
    return
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`)

  const database = await openDatabase(loadConfig())
  try {
    const pending = await pendingMigrations(database.db)
    if (pending.length > 0) {
      throw new UsageError(`${pending.length} migration(s) not applied yet (npm run db:migrate): ${pending.join(', ')}`)
    }
    const drifts = await derivedStateDrift(database.db)
    for (const drift of drifts) {
      console.log(`${drift.record}  ${drift.field}: stored ${shown(drift.stored)}, counted ${shown(drift.counted)}`)
    }
    console.error(
      drifts.length === 0
        ? 'db:check: the derived state matches a fresh count'
        : `db:check: ${drifts.length} difference(s) from a fresh count`,
    )
    process.exitCode = drifts.length === 0 ? 0 : 1
  } finally {
    await database.close()
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.exitCode = 2
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(`db:check: ${error.message}`)
    return
  }
  if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`db:check: ${error.message}\n\n${USAGE}`)
    return
  }
  console.error('db:check: failed', error)
})
