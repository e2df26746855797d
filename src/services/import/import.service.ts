import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { type Readable, pipeline } from 'node:stream'
import split2 from 'split2'
import type { Db } from '../../db/schema.js'
import { inTransaction } from '../../db/transaction.js'
import { ApiError, unavailable } from '../../errors/problems.js'
import type { ApiKeyIdentity } from '../../schemas/api-key.schema.js'
import type { ImportMode, ImportResult } from '../../schemas/import.schema.js'
import { PendingPairCounts, settlePairCounts } from '../derived-state.js'
import { ownedBy } from '../precondition.js'
import { MAX_LINE_BYTES, spool } from './body-spool.js'
import { spoolFilePath } from './spool-directory.js'
import { type ExistingRecords, ImportAborted } from './import-context.js'
import { ImportRefs } from './import-refs.js'
import type { CheckedLine } from './line-check.js'
import { ImportRun } from './line-runs.js'

/**
 * Lines read and checked together, whose new claims and links are written a statement per table: large enough
 * that the round trips cost little next to the rows, small enough that a statement stays well within the
 * protocol's 65,535 parameters (a claim takes 13) and a batch of long lines within a few MiB.
 */
const BATCH_LINES = 1000
const BATCH_CHARS = 4 * 1024 * 1024

/** Who imports, and what becomes of the records already there. */
export interface ImportOptions {
  mode: ImportMode
  /** The key importing: it owns what the import creates, and may change only what it owns, unless admin. */
  key: ApiKeyIdentity | null
  /** Whose refs the lines give and name: the key's own, unless told otherwise. */
  refNamespace?: string
  existing?: ExistingRecords
}

/** Rolls an all-or-nothing import with bad lines back, carrying what it found. */
export class ImportRejected extends Error {
  constructor(readonly result: ImportResult) {
    super('the import has bad lines')
  }
}

/**
 * Applies lines in one transaction, batch by batch as `feed` gives them, and moves the rebuttal matrix's counts
 * once, at the end, in key order. Should PostgreSQL roll the transaction back on a deadlock, inTransaction runs
 * it again, and `feed` gives the lines again from the start.
 */
async function applyLines(
  db: Db,
  options: ImportOptions,
  feed: (run: ImportRun) => Promise<number>,
): Promise<ImportResult> {
  return inTransaction(db, async (trx) => {
    const pairCounts = new PendingPairCounts()
    const run = new ImportRun({
      trx,
      refs: new ImportRefs(trx, options.refNamespace ?? options.key?.id ?? ''),
      key: options.key,
      createdBy: options.key?.id ?? null,
      mayChange: ownedBy(options.key),
      existing: options.existing ?? 'update',
      pairCounts,
    })
    const lines = await feed(run)
    await settlePairCounts(trx, pairCounts)
    const result: ImportResult = {
      mode: options.mode,
      lines,
      counts: run.counts,
      line_errors: run.lineErrors,
      line_error_count: run.errorCount,
    }
    if (options.mode === 'all-or-nothing' && run.errorCount > 0) throw new ImportRejected(result)
    return result
  })
}

/**
 * Applies a spooled body, its lines read from the file batch by batch: only as fast as the database takes them,
 * holding a batch at most in memory. The import locks claims run after run, in file order, so a writer that
 * locks in id order can deadlock with it; PostgreSQL then rolls one back, and when that is the import, the whole
 * file is applied again from its start.
 */
function applyFile(db: Db, path: string, options: ImportOptions): Promise<ImportResult> {
  return applyLines(db, options, async (run) => {
    const lines = pipeline(createReadStream(path), split2({ maxLength: MAX_LINE_BYTES }), () => {})
    let number = 0
    let batch: Array<{ number: number; text: string }> = []
    let chars = 0
    try {
      for await (const text of lines) {
        number++
        if ((text as string).trim() === '') continue
        batch.push({ number, text: text as string })
        chars += (text as string).length
        if (batch.length >= BATCH_LINES || chars >= BATCH_CHARS) {
          await run.batch(batch)
          batch = []
          chars = 0
        }
      }
    } finally {
      lines.destroy()
    }
    await run.batch(batch)
    return number
  })
}

/**
 * Imports lines that are already objects checked against their schemas (a data set's records, made into lines),
 * as an import of a body holding them, in one transaction. Throws the ImportRejected or the problem that ends it.
 */
export async function importCheckedLines(db: Db, lines: CheckedLine[], options: ImportOptions): Promise<ImportResult> {
  try {
    return await applyLines(db, options, async (run) => {
      for (let start = 0; start < lines.length; start += BATCH_LINES) {
        await run.checkedBatch(lines.slice(start, start + BATCH_LINES))
      }
      return lines.length
    })
  } catch (error) {
    if (error instanceof ImportAborted) throw error.problem
    throw error
  }
}

/**
 * Imports an NDJSON body of parties, claims, links, reviews and deletions in one transaction. A bad line writes nothing and
 * is recorded with its number and problem, and the import goes on, so that all of them are reported at once;
 * all-or-nothing then rolls everything back (422), best-effort keeps the good lines. No savepoints: each line
 * checks every rule before it writes.
 *
 * The body is first written to a temporary file, whole, and only then applied. The upload so runs at the speed
 * of the network, and is bounded by the server's request timeout like any other body, however long applying it
 * then takes; and the transaction, with the locks it takes (on the embedded database, its one session), is not
 * held while a slow client sends. The file is read back line by line: memory stays flat whatever its size.
 */
export async function importRecords(
  db: Db,
  body: Readable,
  options: {
    mode: ImportMode
    bodyLimitBytes: number
    /** The base of the spool directories (IMPORT_SPOOL_DIR); the system's temp directory when undefined. */
    spoolDirectory?: string
    key: ApiKeyIdentity | null
    /**
     * Called with the SHA-256 of the whole body once it is in, before anything is applied: false skips the
     * import (an earlier request with the same body was answered again instead), and undefined is returned.
     */
    beforeApply?: (bodySha256: Buffer) => Promise<boolean>
  },
): Promise<ImportResult | undefined> {
  const path = await spoolFilePath(options.spoolDirectory).catch((error) => {
    throw spoolProblem(error) ?? error
  })
  try {
    const bodySha256 = await spool(body, path, options.bodyLimitBytes)
    if (options.beforeApply !== undefined && !(await options.beforeApply(bodySha256))) return undefined
    return await applyFile(db, path, { mode: options.mode, key: options.key })
  } catch (error) {
    if (error instanceof ImportAborted) throw error.problem
    if (error instanceof ImportRejected) {
      const { mode, lines: read, line_errors, line_error_count } = error.result
      throw new ApiError('import-rejected', `${line_error_count} of ${read} line(s) are bad; nothing was imported`, {
        members: { mode, lines: read, line_errors, line_error_count },
      })
    }
    throw spoolProblem(error) ?? error
  } finally {
    await rm(path, { force: true })
  }
}

/** File-system errors of the spool that are the machine's state, not a bug: a 503 the client may retry. */
function spoolProblem(error: unknown): ApiError | undefined {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return unavailable('the server has no space left to hold the import body; retry once space is freed')
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return unavailable('the server cannot write the import body to its spool directory (IMPORT_SPOOL_DIR)')
    default:
      return undefined
  }
}
