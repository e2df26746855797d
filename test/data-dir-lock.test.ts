import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DataDirLockedError, lockDataDir } from '../src/db/data-dir-lock.js'
import { freePort, type ProjectProcess, startProjectProcess } from './helpers/project-process.js'

const LOCK_FILE = 'counterclaim.pid'

/** The pid a lock file names (its first field; the second is the owner's per-process token). */
function lockPid(path: string): string {
  return readFileSync(path, 'utf8').trim().split(/\s+/)[0] ?? ''
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', ''])
  if (result.status !== 0 || typeof result.pid !== 'number') throw new Error('could not run a short-lived process')
  return result.pid
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('a fresh directory is locked with this process id', async (t) => {
  const dir = t.testdir()
  const release = lockDataDir(dir)
  t.teardown(release)
  t.equal(lockPid(join(dir, LOCK_FILE)), String(process.pid))
})

t.test('a directory that does not exist yet is created and locked', async (t) => {
  const dir = join(t.testdir(), 'nested', 'data')
  const release = lockDataDir(dir)
  t.teardown(release)
  t.ok(existsSync(join(dir, LOCK_FILE)))
})

t.test('a second lock on the same directory fails, naming the owner; after release it is free', async (t) => {
  const dir = t.testdir()
  const release = lockDataDir(dir)
  let released = false
  t.teardown(() => released || release())

  t.throws(() => lockDataDir(dir), DataDirLockedError)
  try {
    lockDataDir(dir)
    t.fail('a second lock was granted')
  } catch (error) {
    t.ok(error instanceof DataDirLockedError, 'a DataDirLockedError')
    t.match((error as Error).message, /in use by this process already/)
    t.match((error as Error).message, dir)
  }
  t.equal(lockPid(join(dir, LOCK_FILE)), String(process.pid), 'the refused attempt left the lock alone')

  release()
  released = true
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'release removes the lock file')
  const again = lockDataDir(dir)
  t.ok(existsSync(join(dir, LOCK_FILE)), 'taken again')
  again()
})

t.test('a lock left by a process that no longer runs is taken over', async (t) => {
  const dir = t.testdir()
  const dead = deadPid()
  t.notOk(isRunning(dead), `pid ${dead} has exited`)
  writeFileSync(join(dir, LOCK_FILE), `${dead}\n`)

  const release = lockDataDir(dir)
  t.teardown(release)
  t.equal(lockPid(join(dir, LOCK_FILE)), String(process.pid))
})

t.test('a lock file with no pid in it is taken over', async (t) => {
  const dir = t.testdir({ [LOCK_FILE]: '' })
  const release = lockDataDir(dir)
  t.teardown(release)
  t.equal(lockPid(join(dir, LOCK_FILE)), String(process.pid))
})

t.test('a lock naming this pid but another process (a restarted container, pid 1 again) is taken over', async (t) => {
  const dir = t.testdir()
  writeFileSync(join(dir, LOCK_FILE), `${process.pid} token-of-an-earlier-process\n`)
  const release = lockDataDir(dir)
  t.teardown(release)
  t.equal(lockPid(join(dir, LOCK_FILE)), String(process.pid))
  t.notMatch(readFileSync(join(dir, LOCK_FILE), 'utf8'), /token-of-an-earlier-process/)
})

t.test('release does not remove a lock another process has taken since', async (t) => {
  const dir = t.testdir()
  const release = lockDataDir(dir)
  // Someone (wrongly) removed our lock and a live process took the directory: here, our parent.
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`)
  release()
  t.equal(lockPid(join(dir, LOCK_FILE)), String(process.ppid))
})

type Started = ProjectProcess

function startServer(dataDir: string, port: number): Started {
  return startProjectProcess(t, 'src/server.ts', {
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The embedded database is the one a data directory lock protects.
    DATABASE_URL: '',
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until the server answers /healthz; fails if it exits first or takes longer than `limitMs`. */
async function waitUntilListening(server: Started, port: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs
  let exited = false
  void server.exited.then(() => (exited = true))
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the server exited before listening: ${server.stderr()}`)
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })
      if (response.status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  throw new Error(`the server did not listen within ${limitMs} ms: ${server.stderr()}`)
}

/** Resolves with the exit, or with 'timeout' after `ms`. */
async function exitWithin(server: Started, ms: number) {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))
  try {
    return await Promise.race([server.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

t.test('a second server on the same data directory refuses to start; the first stops cleanly', async (t) => {
  const dataDir = t.testdir()
  const lockFile = join(dataDir, LOCK_FILE)
  const port = await freePort()
  const first = startServer(dataDir, port)
  const started = Date.now()
  await waitUntilListening(first, port, 90_000)
  t.comment(`the first server listened after ${Date.now() - started} ms`)
  t.equal(lockPid(lockFile), String(first.child.pid), 'the lock names the running server')

  const second = startServer(dataDir, await freePort())
  const secondExit = await exitWithin(second, 30_000)
  t.not(secondExit, 'timeout', 'the second server exits')
  t.same(secondExit, { code: 1, signal: null }, 'with code 1')
  t.match(second.stderr(), /data directory .* is in use/)
  t.match(second.stderr(), new RegExp(`\\bpid ${first.child.pid}\\b`), 'naming the process that holds it')
  t.notMatch(second.stderr(), /\n\s+at /, 'without a stack trace')

  const stillServing = await fetch(`http://127.0.0.1:${port}/readyz`)
  t.equal(stillServing.status, 200, 'the first server still serves')
  t.equal(lockPid(lockFile), String(first.child.pid), 'and still holds the lock')

  first.child.kill('SIGTERM')
  const firstExit = await exitWithin(first, 10_000)
  t.not(firstExit, 'timeout', 'the first server exits on SIGTERM')
  t.same(firstExit, { code: 0, signal: null }, 'with code 0')
  t.notOk(existsSync(lockFile), 'and releases the lock')
  t.equal(first.stderr(), '', 'nothing on stderr')
})
