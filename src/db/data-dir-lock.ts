import { randomUUID } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
}

const LOCK_FILE = 'counterclaim.pid'

/**
 * Who holds a lock: a pid, and a token drawn once per process. The token tells this process from an earlier one
 * that had the same pid, as happens when a container restarts and the service is pid 1 again.
 */
interface Owner {
  pid: number
  token: string | undefined
}

const THIS_PROCESS: Owner = { pid: process.pid, token: randomUUID() }

/**
 * Takes the embedded database's data directory for this process. Two processes on one PGlite directory silently
 * lose each other's writes, so a second one must refuse to start, and so must a second open in this process.
 *
 * The lock is a file naming its owner, written aside and hard-linked into place so that it never exists
 * half-written. A lock left by a process that no longer runs (a crash, a kill -9) is taken over at once; an
 * mtime-refreshed lock would instead refuse restarts for its whole staleness window, and call itself compromised
 * while PGlite's first initdb blocks the event loop.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, LOCK_FILE)
  const draft = `${path}.${process.pid}`
  writeFileSync(draft, `${THIS_PROCESS.pid} ${THIS_PROCESS.token}\n`)
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
          if (readOwner(path)?.token === THIS_PROCESS.token) unlinkSync(path)
        } catch {
          // already gone: nothing to release
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = readOwner(path)
      if (owner !== undefined && isLive(owner)) throw inUse(dataDir, owner)
      removeStaleLock(path, owner, dataDir)
    }
  }
  throw new DataDirLockedError(`could not lock the data directory ${dataDir}: another process keeps taking it`)
}

/**
 * Removes a lock whose owner is gone. Two processes may find the same stale lock at once; each first moves it
 * aside under a name of its own (a rename succeeds for one of them only), and checks that what it moved is still
 * the stale lock, not one the other process has just taken, which it puts back. A limit remains: should a third
 * process take the lock in the instant it is aside, the one whose lock was moved would not know it lost it.
 */
function removeStaleLock(path: string, stale: Owner | undefined, dataDir: string): void {
  const aside = `${path}.stale.${process.pid}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const moved = readOwner(aside)
  if (moved === undefined || !isLive(moved) || (moved.pid === stale?.pid && moved.token === stale.token)) {
    unlinkSync(aside)
    return
  }
  try {
    linkSync(aside, path)
  } catch (error) {
    // EEXIST: a third process took the lock meanwhile (the limit above).
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(aside)
  }
  throw inUse(dataDir, moved)
}

function inUse(dataDir: string, owner: Owner): DataDirLockedError {
  const who =
    owner.token === THIS_PROCESS.token ? 'this process already' : `another Counterclaim process (pid ${owner.pid})`
  return new DataDirLockedError(
    `the data directory ${dataDir} is in use by ${who}; stop it first, or point DATA_DIR at another directory`,
  )
}

function readOwner(path: string): Owner | undefined {
  try {
    const [pidText = '', token] = readFileSync(path, 'utf8').trim().split(/\s+/)
    const pid = Number.parseInt(pidText, 10)
    return Number.isInteger(pid) && pid > 0 ? { pid, token } : undefined
  } catch {
    return undefined
  }
}

/** A lock is live while its owner runs: another running process, or this very process (same token). */
function isLive(owner: Owner): boolean {
  if (owner.pid === THIS_PROCESS.pid) return owner.token === THIS_PROCESS.token
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
