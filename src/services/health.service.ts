import type { Db } from '../db/schema.js'
import { unavailable } from '../errors/problems.js'
import { pingDatabase } from '../repositories/health.repository.js'

/** Resolves when the database answers within `timeoutMs`; fails with a 503 the client may retry otherwise. */
export async function checkDatabaseReady(db: Db, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)
  })
  try {
    await Promise.race([pingDatabase(db), timeout])
  } catch {
    throw unavailable('the database is not reachable')
  } finally {
    clearTimeout(timer)
  }
}
