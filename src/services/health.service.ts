import type { Db } from '../db/schema.js'
import { unavailable } from '../errors/problems.js'
import { pingDatabase } from '../repositories/health.repository.js'

/**
 * How long an instance reads as not ready after the database refused a write for want of space. Nothing tells
 * when space is freed (an update that fits in a page succeeds on a full disk), so readiness returns this long
 * after the last refusal: the next write that finds the disk still full starts the wait again.
 */
export const DISK_FULL_NOT_READY_MS = 30_000

/**
 * Resolves when the database answers within `timeoutMs` and has not refused a write for want of space in the last
 * DISK_FULL_NOT_READY_MS; fails with a 503 the client may retry otherwise, its detail saying which.
 */
export async function checkDatabaseReady(db: Db, timeoutMs: number, lastDiskFullAt?: Date): Promise<void> {
  const sinceDiskFull = lastDiskFullAt === undefined ? Infinity : Date.now() - lastDiskFullAt.getTime()
  if (sinceDiskFull < DISK_FULL_NOT_READY_MS) {
    throw unavailable(
      `the database's disk is full: a write was refused for want of space ${Math.round(sinceDiskFull / 1000)} s ` +
        'ago; writes fail until space is freed, reads are served',
    )
  }
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
