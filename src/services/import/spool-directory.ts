import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where imports spool their bodies when IMPORT_SPOOL_DIR is not set. */
export const DEFAULT_SPOOL_BASE = join(tmpdir(), 'counterclaim-import')

/**
 * This process's directory under a base is `<pid>-<token>`: the token, drawn once per process, tells this process
 * from an earlier one that had the same pid (a restarted container is pid 1 again).
 */
const TOKEN = randomUUID()
const OWN_NAME = `${process.pid}-${TOKEN}`
const NAME = /^(\d+)-[0-9a-f-]{36}$/

const opened = new Map<string, Promise<string>>()

/**
 * This process's spool directory under `base`, made on first use, after removing the directories of processes
 * that no longer run: what a kill -9, or a shutdown cut short in the middle of an import, left behind. Entries
 * that are not spool directories are left alone. The directory is removed when the process exits.
 */
export function openSpoolDirectory(base: string = DEFAULT_SPOOL_BASE): Promise<string> {
  let directory = opened.get(base)
  if (directory === undefined) {
    directory = prepare(base)
    opened.set(base, directory)
    directory.catch(() => opened.delete(base))
  }
  return directory
}

async function prepare(base: string): Promise<string> {
  await mkdir(base, { recursive: true, mode: 0o700 })
  await removeLeftovers(base)
  const own = join(base, OWN_NAME)
  await mkdir(own, { mode: 0o700 })
  if (removeOnExit.size === 0) process.once('exit', removeOwnDirectories)
  removeOnExit.add(own)
  return own
}

/** Removes the spool directories under `base` whose process is gone; returns their names. */
export async function removeLeftovers(base: string): Promise<string[]> {
  const removed: string[] = []
  for (const entry of await readdir(base, { withFileTypes: true })) {
    const pid = NAME.exec(entry.name)?.[1]
    if (!entry.isDirectory() || pid === undefined || entry.name === OWN_NAME) continue
    if (Number(pid) !== process.pid && isRunning(Number(pid))) continue
    await rm(join(base, entry.name), { recursive: true, force: true })
    removed.push(entry.name)
  }
  return removed
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

const removeOnExit = new Set<string>()

function removeOwnDirectories(): void {
  for (const directory of removeOnExit) rmSync(directory, { recursive: true, force: true })
}

/** A fresh file path for one import's body in this process's spool directory. */
export async function spoolFilePath(base?: string): Promise<string> {
  const directory = await openSpoolDirectory(base)
  // Recreated if something removed it while the service ran (a temp cleaner, an operator).
  mkdirSync(directory, { recursive: true, mode: 0o700 })
  return join(directory, `${randomUUID()}.ndjson`)
}
