import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './project-process.js'

/**
 * A PostgreSQL cluster of a test's own, made with initdb in a temporary directory and served on a free port of
 * 127.0.0.1, for what cannot be done to a shared server: killing it. Its server runs as a child of the test
 * process (as the `postgres` user when the tests run as root, since PostgreSQL refuses to run as root).
 */
export interface ThrowawayCluster {
  url: string
  port: number
  /** The postmaster's process id, while it runs. */
  pid(): number | undefined
  /** Starts the server (again) on the same directory and port; resolves once it accepts connections. */
  start(): Promise<void>
  /** SIGKILL to the postmaster alone, as a crash would; its backends are left to notice and exit. */
  kill(): void
  /**
   * A fast shutdown (SIGINT), as `pg_ctl stop -m fast` does: sessions are ended, a shutdown checkpoint is written and
   * sent to the streaming replicas; resolves once every process of the server is gone.
   */
  stop(): Promise<void>
  /** `pg_ctl promote -w` on a replica: resolves once it has left recovery and takes writes. */
  promote(): void
  /**
   * `pg_controldata`'s "Latest checkpoint location" of a stopped server: after a clean shutdown, the end of its WAL
   * (the shutdown checkpoint), which a replica that received everything has replayed past.
   */
  latestCheckpoint(): string
  /** Resolves once the postmaster and every process it had started are gone (SIGKILL to those that linger). */
  gone(): Promise<void>
  /** Stops everything and removes the directory; safe to call at any point, and more than once. */
  destroy(): Promise<void>
}

/** The directory of initdb and postgres: `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinaries(): string | undefined {
  const hasServer = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))
  const configured = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  const bindir = configured.status === 0 ? configured.stdout.trim() : ''
  if (bindir !== '' && hasServer(bindir)) return bindir
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
  return versions.map((version) => join(root, version, 'bin')).find(hasServer)
}

interface RunAs {
  /** The command prefix that runs a program as that user (none when the tests do not run as root). */
  prefix: string[]
  uid: number
  gid: number
}

/** How to run the server as a user it accepts; undefined when the tests run as root with no way to switch. */
export function serverUser(): RunAs | undefined {
  const uid = process.getuid?.()
  const gid = process.getgid?.()
  if (uid === undefined || gid === undefined) return undefined
  if (uid !== 0) return { prefix: [], uid, gid }
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim() || NaN)
  const user = { uid: id('-u'), gid: id('-g') }
  if (!Number.isInteger(user.uid) || !Number.isInteger(user.gid) || user.uid === 0) return undefined
  // setpriv executes the program in place, so the child is the postmaster itself.
  if (spawnSync('setpriv', ['--version']).status === 0) {
    return { prefix: ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--'], ...user }
  }
  if (spawnSync('runuser', ['--version']).status === 0) return { prefix: ['runuser', '-u', 'postgres', '--'], ...user }
  return undefined
}

/** The processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The command name, in parentheses, may hold spaces: the parent id is the second field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (parent === pid) children.push(Number(entry))
    } catch {
      // The process ended while the list was read.
    }
  }
  return children
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type AsServerUser = (program: string, args: string[]) => [string, string[]]

/** A new cluster in `dataDir`; the error's text when initdb failed. */
function initdb(asServerUser: AsServerUser, dataDir: string): string | undefined {
  const made = spawnSync(
    ...asServerUser('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]),
    { encoding: 'utf8', timeout: 120_000 },
  )
  return made.status === 0 ? undefined : `initdb failed: ${made.stderr || made.error?.message}`
}

/** A copy of `primary` in `dataDir`, set up as its streaming standby; the error's text when pg_basebackup failed. */
function baseBackup(asServerUser: AsServerUser, dataDir: string, primary: ThrowawayCluster): string | undefined {
  const made = spawnSync(
    ...asServerUser('pg_basebackup', [
      ...['-D', dataDir, '-d', `host=127.0.0.1 port=${primary.port} user=postgres`],
      // -R writes standby.signal and primary_conninfo; a fast checkpoint starts the copy at once.
      ...['-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
    ]),
    { encoding: 'utf8', timeout: 120_000 },
  )
  return made.status === 0 ? undefined : `pg_basebackup failed: ${made.stderr || made.error?.message}`
}

export interface ClusterOptions {
  /** Where the cluster's directory is made (default the system's temp directory). */
  parent?: string
  /**
   * A streaming replica of this cluster instead of a new one: copied from it with `pg_basebackup -R` (which writes
   * the standby's connection settings), then started as a hot standby that serves reads.
   */
  replicaOf?: ThrowawayCluster
}

/**
 * Every cluster can be the primary of streaming replicas: `wal_level=replica` with WAL senders, and initdb's
 * pg_hba.conf lets the replication pseudo-database in over loopback (trust, like every other connection).
 */
export async function startThrowawayCluster(
  bindir: string,
  runAs: RunAs,
  options: ClusterOptions = {},
): Promise<ThrowawayCluster> {
  const parent = options.parent ?? tmpdir()
  const root = mkdtempSync(join(parent, 'counterclaim-cluster-'))
  chownSync(root, runAs.uid, runAs.gid)
  const dataDir = join(root, 'data')
  const port = await freePort()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  /** The program and arguments that run one of the server's programs as runAs. */
  const asServerUser = (program: string, args: string[]): [string, string[]] => {
    const [command = '', ...rest] = [...runAs.prefix, join(bindir, program), ...args]
    return [command, rest]
  }

  let server: ChildProcess | undefined
  let postmaster: number | undefined
  /** Everything the postmaster had started, as last seen: what must be gone before the next start. */
  let backends: number[] = []
  let log = ''

  const made =
    options.replicaOf === undefined
      ? initdb(asServerUser, dataDir)
      : baseBackup(asServerUser, dataDir, options.replicaOf)
  if (made !== undefined) {
    rmSync(root, { recursive: true, force: true })
    throw new Error(made)
  }
  if (options.replicaOf === undefined) {
    // Said explicitly, whatever the version's defaults: the replicas of this cluster depend on them.
    appendFileSync(join(dataDir, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n')
  }

  async function start() {
    log = ''
    server = spawn(
      ...asServerUser('postgres', [
        ...['-D', dataDir, '-p', String(port), '-k', root],
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=40', '-c', 'shared_buffers=16MB'],
        ...['-c', 'wal_level=replica', '-c', 'max_wal_senders=5', '-c', 'hot_standby=on'],
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    server.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)))
    const exited = new Promise<void>((resolve) => server!.once('exit', () => resolve()))
    for (let attempt = 0; attempt < 300; attempt++) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
      const ready = await client.connect().then(
        () => true,
        () => false,
      )
      await client.end().catch(() => undefined)
      if (ready) {
        postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
        return
      }
      const ended = await Promise.race([exited.then(() => true), sleep(50).then(() => false)])
      if (ended) break
    }
    throw new Error(`the throwaway PostgreSQL server did not start:\n${log}`)
  }

  async function gone() {
    const watched = [...(postmaster === undefined ? [] : [postmaster]), ...backends]
    for (let attempt = 0; attempt < 100 && watched.some(alive); attempt++) await sleep(50)
    for (const pid of watched.filter(alive)) process.kill(pid, 'SIGKILL')
    for (let attempt = 0; attempt < 100 && watched.some(alive); attempt++) await sleep(50)
    postmaster = undefined
    backends = []
  }

  await start().catch((error: unknown) => {
    rmSync(root, { recursive: true, force: true })
    throw error
  })

  let destroyed = false
  /** Ends every process of the cluster at once and removes its directory: when the test process exits anyway. */
  function destroyNow() {
    const running = postmaster !== undefined && alive(postmaster) ? [postmaster, ...childrenOf(postmaster)] : []
    for (const pid of [...running, ...backends].filter(alive)) process.kill(pid, 'SIGKILL')
    if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
  process.once('exit', destroyNow)

  return {
    url,
    port,
    pid: () => postmaster,
    start,
    kill() {
      if (postmaster === undefined) throw new Error('the server is not running')
      backends = childrenOf(postmaster)
      process.kill(postmaster, 'SIGKILL')
    },
    async stop() {
      if (postmaster === undefined) throw new Error('the server is not running')
      backends = childrenOf(postmaster)
      process.kill(postmaster, 'SIGINT')
      const exited = server === undefined || server.exitCode !== null || server.signalCode !== null
      if (!exited) await new Promise<void>((resolve) => server!.once('exit', () => resolve()))
      await gone()
    },
    promote() {
      const promoted = spawnSync(...asServerUser('pg_ctl', ['promote', '-w', '-t', '60', '-D', dataDir]), {
        encoding: 'utf8',
        timeout: 70_000,
      })
      if (promoted.status !== 0) throw new Error(`pg_ctl promote failed: ${promoted.stderr || promoted.error?.message}`)
    },
    latestCheckpoint() {
      const control = spawnSync(...asServerUser('pg_controldata', ['-D', dataDir]), { encoding: 'utf8' })
      const location = /^Latest checkpoint location:\s+(\S+)$/m.exec(control.stdout ?? '')?.[1]
      if (control.status !== 0 || location === undefined) {
        throw new Error(`pg_controldata failed: ${control.stderr || control.error?.message}`)
      }
      return location
    },
    gone,
    async destroy() {
      if (destroyed) return
      destroyed = true
      process.off('exit', destroyNow)
      if (postmaster !== undefined && alive(postmaster)) {
        backends = childrenOf(postmaster)
        process.kill(postmaster, 'SIGKILL')
      }
      await gone()
      // The wrapper that ran the server (runuser) ends with it; whatever still runs of ours is ended too.
      if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL')
      rmSync(root, { recursive: true, force: true })
    },
  }
}
