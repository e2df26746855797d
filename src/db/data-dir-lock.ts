import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
}

const LOCK_FILE = 'counterclaim.pid'

/**
 * Takes the embedded database's data directory for this process. Two processes on one PGlite directory silently
 * lose each other's writes, so a second one must refuse to start.
 *
 * The lock is a file holding the owner's pid, written aside and hard-linked into place so that it never exists
 * half-written. A lock left by a process that no longer runs
 * (a crash, a kill -9) is taken over at once; an mtime-refreshed lock would instead refuse restarts for its whole
 * staleness window, and call itself compromised while PGlite's first initdb blocks the event loop.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, LOCK_FILE)
  const draft = `${path}.${process.pid}`
  writeFileSync(draft, `${process.pid}\n`)
  try {
    return takeLock(draft, path, dataDir)
  } finally {
    unlinkSync(draft)
  }
}

function takeLock(draft: string, path: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      linkSync(draft, path)
      return () => {
        try {
          if (readOwner(path) === process.pid) unlinkSync(path)
        } catch {
          // already gone: nothing to release
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = readOwner(path)
      if (owner !== undefined && isRunning(owner)) throw inUse(dataDir, owner)
      removeStaleLock(path, owner, dataDir)
    }
  }
  throw new DataDirLockedError(`could not lock the data directory ${dataDir}: another process keeps taking it`)
}

/**
 * Removes a lock whose owner is gone. Two processes may find the same stale lock at once; each first moves it
 * aside under a name of its own (a rename succeeds for one of them only), and checks that what it moved is still
 * the stale lock, not one the other process has just taken, which it puts back.
 */
function removeStaleLock(path: string, staleOwner: number | undefined, dataDir: string): void {
  const aside = `${path}.stale.${process.pid}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const moved = readOwner(aside)
  if (moved === staleOwner || moved === undefined || !isRunning(moved)) {
    unlinkSync(aside)
    return
  }
  try {
    linkSync(aside, path)
  } catch (error) {
    // EEXIST: a third process took the lock meanwhile; either way the directory is in use.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(aside)
  }
  throw inUse(dataDir, moved)
}

function inUse(dataDir: string, owner: number): DataDirLockedError {
  return new DataDirLockedError(
    `the data directory ${dataDir} is in use by another Counterclaim process (pid ${owner}); ` +
      'stop it first, or point DATA_DIR at another directory',
  )
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
