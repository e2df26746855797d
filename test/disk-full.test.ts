import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, openSync, rmSync, rmdirSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { openEmbeddedDatabase, openServerDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { startServerProcess } from './helpers/project-process.js'
import { serverUrl } from './helpers/test-database.js'
import { postgresBinaries, serverUser, startThrowawayCluster } from './helpers/throwaway-cluster.js'

/**
 * The database's disk fills up under a running service: a small tmpfs holds the embedded data directory (or, with
 * DATABASE_URL, a throwaway PostgreSQL cluster), and a ballast file takes the rest of its space.
 */
t.setTimeout(300_000)

/** Mounts a tmpfs of `sizeMb` on a new directory; a reason to skip when that cannot be done here. */
function mountTmpfs(sizeMb: number): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting a small tmpfs needs root (CI runs as root)' }
  const dir = mkdtempSync(join(tmpdir(), 'counterclaim-disk-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0777`, 'tmpfs', dir], {
    encoding: 'utf8',
  })
  if (mounted.status !== 0) {
    rmdirSync(dir)
    return { skip: `a tmpfs could not be mounted: ${mounted.stderr.trim() || mounted.error?.message}` }
  }
  return dir
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir])
  rmSync(dir, { recursive: true, force: true })
}

const bindir = postgresBinaries()
const runAs = serverUser()
const mount =
  serverUrl !== undefined && (bindir === undefined || runAs === undefined)
    ? { skip: 'needs the PostgreSQL server binaries and a user to run them' }
    : mountTmpfs(serverUrl === undefined ? 96 : 160)
if (typeof mount === 'string') t.teardown(() => unmount(mount))

/** Writes zeros to `path` until the file system has no space left; returns the bytes written. */
function fillDisk(path: string): number {
  const chunk = Buffer.alloc(256 * 1024)
  const fd = openSync(path, 'w')
  let written = 0
  try {
    for (;;) written += writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  return written
}

/** The service's settings for a database on `mount`, with a key to write with. */
async function databaseOn(t: Test, mount: string): Promise<{ env: NodeJS.ProcessEnv; token: string }> {
  if (serverUrl === undefined) {
    const dataDir = join(mount, 'data')
    const database = await openEmbeddedDatabase(dataDir)
    try {
      await migrateToLatest(database.db)
      const { token } = await createApiKey(database.db, { name: 'writer', scopes: ['write'] })
      return { env: { DATABASE_URL: '', DATA_DIR: dataDir }, token }
    } finally {
      await database.close()
    }
  }
  const cluster = await startThrowawayCluster(bindir!, runAs!, { parent: mount })
  t.teardown(() => cluster.destroy())
  const database = openServerDatabase({ url: cluster.url, poolMax: 1, statementTimeoutMs: 60_000 })
  try {
    await migrateToLatest(database.db)
    const { token } = await createApiKey(database.db, { name: 'writer', scopes: ['write'] })
    return { env: { DATABASE_URL: cluster.url, MIGRATE_ON_START: 'false' }, token }
  } finally {
    await database.close()
  }
}

t.test(
  'a full disk: writes answer 503 saying so, reads and /healthz go on, /readyz says why, space freed heals',
  { skip: typeof mount === 'string' ? false : mount.skip },
  async (t) => {
    const database = await databaseOn(t, mount as string)
    const server = await startServerProcess(t, { ...database.env, RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_PER_IP: '0' })
    const headers = { authorization: `Bearer ${database.token}`, 'content-type': 'application/json' }
    // Every request must be answered: a hang fails the test here instead of stalling it.
    const send = (path: string, init: RequestInit = {}) =>
      fetch(`${server.base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) })
    let created = 0
    const createParty = () =>
      send('/v1/parties', {
        method: 'POST',
        headers,
        body: JSON.stringify({
          slug: `party-${++created}`,
          name: `Party ${created}`,
          kind: 'organisation',
          // Random, so that it takes its size on disk (a repeated letter compresses to nothing).
          description: randomBytes(2400).toString('hex'),
        }),
      })

    t.equal((await createParty()).status, 201, 'a write with room to spare')
    const ballast = join(mount as string, 'ballast')
    t.ok(fillDisk(ballast) > 0, 'the ballast took what space was left')

    // The first writes may still fit in pages the database has; within a few, one must find no room.
    const statuses: number[] = []
    let refused: Response | undefined
    for (let attempt = 0; attempt < 400 && refused === undefined; attempt++) {
      const response = await createParty()
      statuses.push(response.status)
      if (response.status === 201) await response.arrayBuffer()
      else refused = response
    }
    t.ok(refused !== undefined, `a write was refused after ${statuses.length - 1} that fit`)
    t.same(new Set(statuses), new Set([201, 503].filter((status) => statuses.includes(status))), 'only 201s, then 503')
    t.equal(refused?.status, 503, 'as 503, not 500')
    t.ok(Number(refused?.headers.get('retry-after')) > 0, 'with Retry-After')
    const problem = (await refused?.json()) as { detail?: string } | undefined
    t.match(problem?.detail, /space/, 'saying the disk is full')

    const health = await send('/healthz')
    t.equal(health.status, 200, '/healthz answers: the process is alive')
    const ready = await send('/readyz')
    t.equal(ready.status, 503, '/readyz: not ready')
    t.match(((await ready.json()) as { detail: string }).detail, /disk is full/, '/readyz says why')
    const read = await send('/v1/parties?limit=5')
    t.equal(read.status, 200, 'reads are served')
    t.ok(((await read.json()) as { data: unknown[] }).data.length > 0, 'with the records written before')

    rmSync(ballast)
    let healed = 0
    for (let attempt = 0; attempt < 40 && healed !== 201; attempt++) {
      const response = await createParty()
      healed = response.status
      await response.arrayBuffer()
      if (healed !== 201) await new Promise((resolve) => setTimeout(resolve, 250))
    }
    t.equal(healed, 201, 'once space is freed, writes succeed again')
  },
)
