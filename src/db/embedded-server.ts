import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import pg from 'pg'
import type { EmbeddedWorkerCommand, EmbeddedWorkerData, EmbeddedWorkerMessage } from './embedded-worker.js'

const WORKER_URL = new URL(`./embedded-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)

/** Past this, a worker asked to close (checkpoint, release its files) is ended instead. */
const CLOSE_TIMEOUT_MS = 5000

function startWorker(workerData: EmbeddedWorkerData): Worker {
  if (WORKER_URL.pathname.endsWith('.ts')) {
    // Run from the TypeScript sources (development, tests): a worker does not inherit the loader, so it
    // registers it before it imports its module.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
    const bootstrap = `import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
    return new Worker(bootstrap, { eval: true, workerData })
  }
  return new Worker(WORKER_URL, { workerData })
}

/**
 * PGlite on a data directory, run by a worker thread and served on a unix socket in a private temporary
 * directory. A query PGlite is stuck in can only be stopped by ending its thread: `restart()` does that, and
 * opens the data directory again in a new worker (PostgreSQL's crash recovery replays what was committed).
 * The caller holds the data directory's lock for as long as this runs.
 */
export class EmbeddedServer {
  /** The directory holding the socket, which is what pg takes as the host of a unix socket connection. */
  readonly socketDir: string
  private worker: Worker | undefined
  private starting: Promise<void> | undefined
  private restarting: Promise<void> | undefined
  private closing = false

  private constructor(
    private readonly pgdata: string,
    private readonly onWorkerError: (error: Error) => void,
  ) {
    this.socketDir = mkdtempSync(join(tmpdir(), 'counterclaim-'))
  }

  /** Starts PGlite on `pgdata` and resolves once it serves (a first start creates the database: seconds). */
  static async start(pgdata: string, onWorkerError: (error: Error) => void = () => undefined): Promise<EmbeddedServer> {
    const server = new EmbeddedServer(pgdata, onWorkerError)
    try {
      await server.ready()
    } catch (error) {
      await server.close()
      throw error
    }
    return server
  }

  /** A `postgres://` URL reaching the socket (pg reads a host that is a directory as a unix socket's). */
  get url(): string {
    return `postgresql://postgres@${encodeURIComponent(this.socketDir)}:5432/postgres`
  }

  /** Resolves once a worker serves; starts one if none runs (the last one failed or exited). */
  ready(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the embedded database is closed'))
    this.starting ??= this.spawn()
    return this.starting
  }

  /** Ends the worker whatever it is doing, and starts another on the same data directory. */
  restart(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the embedded database is closed'))
    // Whoever asks while a restart is under way gets that one: its worker is not yet the one to end.
    if (this.restarting !== undefined) return this.restarting
    const worker = this.worker
    this.worker = undefined
    const previous = this.starting ?? Promise.resolve()
    const restarted = previous
      .catch(() => undefined)
      .then(() => worker?.terminate())
      .then(() => this.spawn())
    this.starting = restarted
    this.restarting = restarted.finally(() => (this.restarting = undefined))
    return this.restarting
  }

  /** Closes PGlite cleanly (a checkpoint), or ends its worker after CLOSE_TIMEOUT_MS. */
  async close(): Promise<void> {
    this.closing = true
    await this.starting?.catch(() => undefined)
    const worker = this.worker
    this.worker = undefined
    if (worker !== undefined) {
      const closed = new Promise<void>((resolve) => {
        worker.on('message', (message: EmbeddedWorkerMessage) => message.type === 'closed' && resolve())
        worker.once('exit', () => resolve())
      })
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))
      worker.postMessage({ type: 'close' } satisfies EmbeddedWorkerCommand)
      await Promise.race([closed, timedOut])
      clearTimeout(timer)
      // PGlite has written and closed its files: the thread's own teardown (its memory) need not hold a
      // shutting-down process up.
      worker.unref()
      void worker.terminate()
    }
    rmSync(this.socketDir, { recursive: true, force: true })
  }

  private spawn(): Promise<void> {
    const socketPath = join(this.socketDir, '.s.PGSQL.5432')
    // A socket file left by an ended worker would refuse the new one's listen.
    rmSync(socketPath, { force: true })
    const worker = startWorker({ pgdata: this.pgdata, socketPath })
    this.worker = worker
    const started = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: EmbeddedWorkerMessage) => {
        if (message.type === 'ready') resolve()
      })
      worker.on('error', (error) => {
        reject(error)
        this.onWorkerError(error)
      })
      worker.once('exit', (code) => {
        reject(new Error(`the embedded database's worker exited (code ${code}) before it served`))
        // The next connection starts a new one.
        if (this.worker === worker) {
          this.worker = undefined
          this.starting = undefined
        }
      })
    })
    // A failed start is retried by the next caller of ready().
    started.catch(() => {
      if (this.worker === worker || this.worker === undefined) this.starting = undefined
    })
    return started
  }

  /**
   * The pg client class of a pool on this server: a connection waits until a worker serves (one may be
   * restarting), and starts from a clean session. PGlite is one session whatever the connections: prepared
   * statements, settings and temporary tables of a connection the pool let go would still be there.
   */
  clientClass(): typeof pg.Client {
    const server = this
    return class EmbeddedClient extends pg.Client {
      override connect(): Promise<pg.Client>
      override connect(callback: (error: Error | null, client?: pg.Client) => void): void
      override connect(callback?: (error: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
        const connected = server
          .ready()
          .then(() => super.connect())
          .then(() =>
            this.query('DISCARD ALL').then(
              () => this,
              async (error: unknown) => {
                await this.end().catch(() => undefined)
                throw error
              },
            ),
          )
        if (callback === undefined) return connected
        connected.then(
          (client) => callback(null, client),
          (error: Error) => callback(error),
        )
      }
    }
  }
}
