import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config.js'
import { DatabaseCopyError, DEFAULT_BATCH_ROWS, copyDatabase } from '../db/database-copy.js'
import { openDatabase, openServerDatabase } from '../db/database.js'
import { DataDirLockedError } from '../db/data-dir-lock.js'
import { derivedStateDriftWithin } from '../services/derived-state.js'

const USAGE = `usage: npm run db:move -- --to postgres://user@host:port/database [--batch-size N]
       DB_MOVE_TO=postgres://user:password@host:port/database npm run db:move

The target comes from --to or, so that a password stays out of the process list and the shell's history, from
DB_MOVE_TO (or a password in PGPASSWORD or ~/.pgpass, as for psql).

Copies everything in the configured database (the embedded one under DATA_DIR, with the service stopped, or
DATABASE_URL) into an empty PostgreSQL database: every record with its id, version, history and tombstone, API keys
(their hashes), import refs, idempotency records, rate-limit counters and the derived counts. The target is migrated
first; one that holds any row is refused. The copy is one transaction on the target, checked before it commits (rows
per table, and the derived state against a fresh count): when anything fails, the target is left empty. The source
is only read. Exits 0 once the copy is committed, 1 when it was refused or failed, 2 on a usage error.`

class UsageError extends Error {}

/** The target, checked to be a URL; a usage error that does not repeat it (it may hold a password) when not. */
function targetUrl(to: string | undefined): string {
  if (to === undefined || !/^postgres(ql)?:\/\//.test(to)) {
    throw new UsageError('--to postgres://… (or DB_MOVE_TO) names the PostgreSQL database to copy into')
  }
  try {
    new URL(to)
    return to
  } catch {
    throw new UsageError('the target is not a valid URL: percent-encode any of : / @ # ? in its user or password')
  }
}

const sameDatabase = (a: string, b: string) => URL.canParse(a) && new URL(a).toString() === new URL(b).toString()

/** `npm run db:move`: what an operator runs to take the data of the embedded database to a PostgreSQL server. */
async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      'batch-size': { type: 'string' },
      help: { type: 'boolean' },
      // Undocumented: stops the copy with an error after this many rows, to show that it leaves nothing behind.
      'fail-after': { type: 'string' },
    },
  })
  if (values.help === true) {
    console.log(USAGE)
    return
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`)
  const to = targetUrl(values.to ?? process.env.DB_MOVE_TO)
  const count = (option: string, value: string | undefined) => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${option} ${value}: give a whole number above 0`)
    return n
  }
  const batchRows = count('batch-size', values['batch-size']) ?? DEFAULT_BATCH_ROWS
  const failAfterRows = count('fail-after', values['fail-after'])

  const config = loadConfig()
  if (config.databaseUrl !== undefined && sameDatabase(config.databaseUrl, to)) {
    throw new UsageError('--to names the database DATABASE_URL already uses: give another one')
  }
  // Opening the embedded database makes one where there is none: a mistyped DATA_DIR would copy nothing, cleanly.
  if (config.databaseUrl === undefined && !existsSync(join(config.dataDir, 'pgdata'))) {
    throw new DatabaseCopyError(`there is no embedded database under DATA_DIR (${resolve(config.dataDir)}) to copy`)
  }
  const started = performance.now()
  const source = await openDatabase(config)
  try {
    const target = openServerDatabase({ url: to, poolMax: 1, statementTimeoutMs: config.statementTimeoutMs })
    try {
      const copied = await copyDatabase(source.db, target.db, {
        batchRows,
        failAfterRows,
        onTableCopied: ({ table, rows }) => console.log(`${table}: ${rows} rows`),
        beforeCommit: async (trx) => {
          const drifts = await derivedStateDriftWithin(trx)
          if (drifts.length > 0) {
            const [first] = drifts
            throw new DatabaseCopyError(
              `the derived state differs from a fresh count in ${drifts.length} place(s), such as ` +
                `${first!.record} ${first!.field} (npm run db:check on the source lists them)`,
            )
          }
        },
      })
      const rows = copied.reduce((sum, table) => sum + table.rows, 0)
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      console.error(
        `db:move: ${rows} rows in ${copied.length} tables copied in ${seconds} s; ` +
          'row counts and derived state checked',
      )
    } finally {
      await target.close()
    }
  } finally {
    await source.close()
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.exitCode = 1
  if (error instanceof DatabaseCopyError || error instanceof DataDirLockedError || error instanceof ConfigError) {
    console.error(`db:move: nothing was copied: ${error.message}`)
    return
  }
  if (
    error instanceof UsageError ||
    (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
  ) {
    process.exitCode = 2
    console.error(`db:move: ${error.message}\n\n${USAGE}`)
    return
  }
  // The message alone: an error object can carry the connection string it was given, password and all.
  console.error(`db:move: failed; the target was left without any copied row: ${(error as Error).message}`)
})
