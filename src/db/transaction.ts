import { sql } from 'kysely'
import { SqlState, sqlStateOf } from './postgres-error-codes.js'
import type { Db } from './schema.js'

/** PostgreSQL rolled the transaction back for another one, and it may simply rerun. */
const RETRYABLE = new Set<string>([SqlState.deadlockDetected, SqlState.serializationFailure])
const ATTEMPTS = 3

declare const openedByInTransaction: unique symbol

/**
 * A transaction that inTransaction opened. Kysely's own transaction type is structurally the pool's, so this one
 * carries a brand only inTransaction gives: writes that must share a unit of work take it, and passing the pool
 * to them does not compile. It is still a `Db`, for every repository function.
 */
export type Transaction = Db & { readonly [openedByInTransaction]: true }

/**
 * Runs `work` in a transaction, the unit of work of a write. Writers lock rows in one order so that they do not
 * deadlock, but a lock taken inside a statement (a foreign key check, an index entry) has no order to follow;
 * when PostgreSQL breaks such a deadlock by rolling one transaction back, that transaction is run again.
 */
export async function inTransaction<T>(db: Db, work: (trx: Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => work(trx as Db as Transaction))
    } catch (error) {
      const code = sqlStateOf(error)
      if (attempt >= ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error
    }
  }
}

/**
 * Runs `work` in a read-only transaction of its own whose statement_timeout is `timeoutMs` in place of the pool's
 * (meant for short queries): for the one long query of an export that must see every match before its first row.
 */
export async function withStatementTimeout<T>(db: Db, timeoutMs: number, work: (trx: Db) => Promise<T>): Promise<T> {
  return db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx) => {
      await sql`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx)
      return work(trx)
    })
}
