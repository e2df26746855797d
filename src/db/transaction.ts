import { sql } from 'kysely'
import type { Db } from './schema.js'

/** Deadlock detected, serialization failure: PostgreSQL rolled the transaction back, and it may simply rerun. */
const RETRYABLE = new Set(['40P01', '40001'])
const ATTEMPTS = 3

/**
 * Runs `work` in a transaction, the unit of work of a write. Writers lock rows in one order so that they do not
 * deadlock, but a lock taken inside a statement (a foreign key check, an index entry) has no order to follow;
 * when PostgreSQL breaks such a deadlock by rolling one transaction back, that transaction is run again.
 */
export async function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (attempt >= ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw error
    }
  }
}

/**
 * Yields what `read` yields, inside a read-only transaction of its own whose statement_timeout is `timeoutMs`.
 * A cursor's query is one statement from its first fetch until it is closed, including the time the client
 * takes to read, so the pool's statement_timeout (meant for short queries) would cut a long export off; the
 * export gets its own, longer limit instead, for this transaction only. Ending the iteration early (a client
 * that went away) closes the cursor and rolls back, which gives the connection back to the pool.
 */
export async function* readInTransaction<T>(
  db: Db,
  timeoutMs: number,
  read: (trx: Db) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const trx = await db.startTransaction().setAccessMode('read only').execute()
  let finished = false
  try {
    await sql`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx)
    yield* read(trx)
    await trx.commit().execute()
    finished = true
  } finally {
    // After a failed commit the rollback may fail too; the error worth reporting is the one already thrown.
    if (!finished)
      await trx
        .rollback()
        .execute()
        .catch(() => undefined)
  }
}
