import { join, resolve } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Config } from '../config.js'
import type { Database } from './schema.js'
import { lockDataDir } from './data-dir-lock.js'
import { EmbeddedServer } from './embedded-server.js'
import { type ReadReplicaOptions, ReadReplicas } from './read-replicas.js'
import { type ServerDatabaseOptions, connectionsOf, openServerPool } from './server-pool.js'

export { CLIENT_TIMEOUT_MARGIN_MS, SESSION_SETTINGS, type ServerDatabaseOptions } from './server-pool.js'

export type DatabaseEngine = 'postgres' | 'embedded'

/** An open database: the Kysely instance every repository takes, and how to close what was opened for it. */
export interface DatabaseHandle {
  db: Kysely<Database>
  engine: DatabaseEngine
  /** The pool's connections now: checked out, idle, and requests waiting for one. */
  connections(): { inUse: number; idle: number; waiting: number }
  /** When the database last refused a statement for want of disk space (53100); undefined if it never did. */
  lastDiskFullAt(): Date | undefined
  /** The streaming replicas that serve reads (DATABASE_READ_URL), when there are any. */
  replicas?: ReadReplicas
  close(): Promise<void>
}

/**
 * A connection pool to a PostgreSQL server. A dropped idle connection emits 'error' on the pool; without a
 * listener Node would crash the process, so it is reported and the pool replaces the connection on next use.
 * No wait on the server is unbounded: for a connection (connectTimeoutMs, which also covers opening one), for a
 * query's answer (queryTimeoutMs, see guardedClient), and a connection whose server vanished without a word is
 * found out by TCP keepalive.
 */
export function openServerDatabase(options: ServerDatabaseOptions): DatabaseHandle {
  const server = openServerPool(options)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: server.pool }) })
  return {
    db,
    engine: 'postgres',
    connections: server.connections,
    lastDiskFullAt: server.lastDiskFullAt,
    close: () => db.destroy(),
  }
}

/**
 * PGlite (PostgreSQL compiled to WebAssembly) in this thread, reached through the same `pg` driver and Kysely
 * dialect as a server, so every query runs unchanged on both. PGlite is a single session: the pool holds exactly
 * one connection, and requests queue for it. Its queries block this thread and have no time limit: for in-memory
 * databases that a test or a script owns; the service's own runs in a worker (openEmbeddedDatabase).
 */
export async function openPgliteDatabase(pglite: PGlite, onClose: () => Promise<void> | void): Promise<DatabaseHandle> {
  await pglite.waitReady
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres')
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    engine: 'embedded',
    connections: connectionsOf(pool),
    // An in-memory database has no disk to fill.
    lastDiskFullAt: () => undefined,
    close: async () => {
      await db.destroy()
      await pglite.close()
      await onClose()
    },
  }
}

export interface EmbeddedDatabaseOptions {
  /**
   * How long a query may run (default 5 s). PGlite does not enforce statement_timeout: past this the client gives
   * the query up, and the worker running it is ended and PGlite reopened.
   */
  statementTimeoutMs?: number
  /** How long a request waits for the connection, which is busy or reopening (default 5 s). */
  connectTimeoutMs?: number
  /** How long the client waits for a query's answer (default statementTimeoutMs). */
  queryTimeoutMs?: number
  /** Called when PGlite was reopened after a query ran out of time, with how long reopening took. */
  onRestart?: (event: { reopenedInMs: number }) => void
  /** Called when the worker running PGlite fails, or an idle connection to it drops. */
  onWorkerError?: (error: Error) => void
}

/**
 * The embedded database kept on disk under `dataDir`, locked against a second process. PGlite runs in a worker
 * thread (see EmbeddedServer), so that a long query does not stop the event loop, and is reached through the same
 * pool, client-side limits and Kysely dialect as a server, with one connection: PGlite is a single session.
 */
export async function openEmbeddedDatabase(
  dataDir: string,
  options: EmbeddedDatabaseOptions = {},
): Promise<DatabaseHandle> {
  const root = resolve(dataDir)
  const unlock = lockDataDir(root)
  try {
    const server = await EmbeddedServer.start(join(root, 'pgdata'), options.onWorkerError)
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000
    const restartAfterTimeout = () => {
      const started = performance.now()
      server.restart().then(
        () => options.onRestart?.({ reopenedInMs: Math.round(performance.now() - started) }),
        (error: unknown) => options.onWorkerError?.(error as Error),
      )
    }
    const handle = openServerDatabase({
      url: server.url,
      poolMax: 1,
      statementTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      // No server-side cancellation will come first: the client's limit is the statement timeout itself.
      queryTimeoutMs: options.queryTimeoutMs ?? statementTimeoutMs,
      onQueryTimeout: restartAfterTimeout,
      onIdleError: options.onWorkerError,
      client: server.clientClass(),
    })
    return {
      db: handle.db,
      engine: 'embedded',
      connections: handle.connections,
      lastDiskFullAt: handle.lastDiskFullAt,
      close: async () => {
        try {
          await handle.close()
          await server.close()
        } finally {
          unlock()
        }
      },
    }
  } catch (error) {
    unlock()
    throw error
  }
}

/** What opening the database reports as it runs: failures it recovers from, and the embedded database's reopening. */
export interface DatabaseEvents {
  onIdleError?: (error: Error) => void
  onRestart?: (event: { reopenedInMs: number }) => void
  onReplicaStateChange?: ReadReplicaOptions['onStateChange']
}

/** The database the configuration names: a server at DATABASE_URL, or the embedded one under DATA_DIR. */
export async function openDatabase(config: Config, events: DatabaseEvents = {}): Promise<DatabaseHandle> {
  if (config.databaseUrl !== undefined) {
    const options: ServerDatabaseOptions = {
      url: config.databaseUrl,
      poolMax: config.databasePoolMax,
      statementTimeoutMs: config.statementTimeoutMs,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      queryTimeoutMs: config.databaseQueryTimeoutMs,
      preparedStatements: config.databasePreparedStatements,
      onIdleError: events.onIdleError,
    }
    if (config.databaseReadUrl === undefined) return openServerDatabase(options)
    return openReplicatedDatabase(options, {
      ...options,
      urls: config.databaseReadUrl,
      maxLagMs: config.replicaMaxLagMs,
      readYourWritesWaitMs: config.readYourWritesWaitMs,
      onStateChange: events.onReplicaStateChange,
    })
  }
  return openEmbeddedDatabase(config.dataDir, {
    statementTimeoutMs: config.statementTimeoutMs,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    onRestart: events.onRestart,
    onWorkerError: events.onIdleError,
  })
}

/** A database being opened while the rest of the service loads; `opened()` waits for it. */
export interface OpeningDatabase {
  /** The open database, with what it reported until now, and will report from now on, sent to `events`. */
  opened(events: DatabaseEvents): Promise<DatabaseHandle>
  /** Closes it once it is open, for a service that will not start after all. */
  abandon(): Promise<void>
}

/**
 * Starts opening the database the configuration names before anything is there to hear what it reports: the
 * embedded engine opens PGlite on its own thread, which takes about as long as loading the service does.
 */
export function openDatabaseEarly(config: Config): OpeningDatabase {
  let listener: DatabaseEvents | undefined
  const held: Array<(events: DatabaseEvents) => void> = []
  const report = (deliver: (events: DatabaseEvents) => void) => (listener ? deliver(listener) : held.push(deliver))
  const opening = openDatabase(config, {
    onIdleError: (error) => report((events) => events.onIdleError?.(error)),
    onRestart: (event) => report((events) => events.onRestart?.(event)),
    onReplicaStateChange: (status, previous) => report((events) => events.onReplicaStateChange?.(status, previous)),
  })
  // A failure is the caller's once it awaits opened(); until then it must not end the process as unhandled.
  opening.catch(() => undefined)
  return {
    opened(events) {
      listener = events
      for (const deliver of held.splice(0)) deliver(events)
      return opening
    },
    abandon: () => opening.then((database) => database.close()).catch(() => undefined),
  }
}

/**
 * A primary for writes and the reads within them, and streaming replicas for reads (see ReadReplicas), whose
 * checks start at once.
 */
export function openReplicatedDatabase(primary: ServerDatabaseOptions, replicas: ReadReplicaOptions): DatabaseHandle {
  const server = openServerPool(primary)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: server.pool }) })
  const readReplicas = new ReadReplicas({ db, server }, replicas)
  readReplicas.start()
  return {
    db,
    engine: 'postgres',
    connections: server.connections,
    lastDiskFullAt: server.lastDiskFullAt,
    replicas: readReplicas,
    close: async () => {
      await readReplicas.close()
      await db.destroy()
    },
  }
}
