import { join, resolve } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Config } from '../config.js'
import type { Database } from './schema.js'
import { lockDataDir } from './data-dir-lock.js'
import { DatabaseUnavailableError } from './database-errors.js'
import { EmbeddedServer } from './embedded-server.js'
import { type ClientGuard, guardedClient } from './guarded-client.js'
import { SqlState } from './postgres-error-codes.js'
import { preparingClient } from './prepared-statements.js'

export type DatabaseEngine = 'postgres' | 'embedded'

/** An open database: the Kysely instance every repository takes, and how to close what was opened for it. */
export interface DatabaseHandle {
  db: Kysely<Database>
  engine: DatabaseEngine
  /** The pool's connections now: checked out, idle, and requests waiting for one. */
  connections(): { inUse: number; idle: number; waiting: number }
  /** When the database last refused a statement for want of disk space (53100); undefined if it never did. */
  lastDiskFullAt(): Date | undefined
  close(): Promise<void>
}

function connectionsOf(pool: pg.Pool) {
  return () => ({ inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount })
}

/**
 * Settings of every session the service opens on a server. The queries are short and planned for indexes; JIT
 * compilation only adds its own time to them (on a misestimated matrix query, most of its time).
 */
export const SESSION_SETTINGS = '-c jit=off'

/**
 * How much longer than the server's own limit the client waits for an answer: enough for the server's
 * cancellation (57014) to arrive first when the server is merely slow, so that the connection is kept.
 */
export const CLIENT_TIMEOUT_MARGIN_MS = 1000

export interface ServerDatabaseOptions {
  url: string
  poolMax: number
  statementTimeoutMs: number
  /**
   * How long a query may wait for a free connection, or for a new one to open, before it fails as unavailable
   * (default 5 s).
   */
  connectTimeoutMs?: number
  /**
   * How long the client waits for the answer to a query before it gives the connection up and fails as unavailable
   * (default: statementTimeoutMs plus CLIENT_TIMEOUT_MARGIN_MS; 0: no limit). The server's statement_timeout does
   * not fire when the network stalls.
   */
  queryTimeoutMs?: number
  /** Called when an idle pooled connection fails (the server restarted, the network dropped). */
  onIdleError?: (error: Error) => void
  /** Called when a query ran past queryTimeoutMs. */
  onQueryTimeout?: () => void
  /**
   * Whether parameterised statements run as named prepared statements (default true). A pooler in transaction mode
   * hands each transaction to any server session, where a statement prepared in another one is unknown.
   */
  preparedStatements?: boolean
  /** The pg client class of the pool (the embedded database's waits for its worker). */
  client?: typeof pg.Client
}

/**
 * A connection pool to a PostgreSQL server. A dropped idle connection emits 'error' on the pool; without a
 * listener Node would crash the process, so it is reported and the pool replaces the connection on next use.
 * No wait on the server is unbounded: for a connection (connectTimeoutMs, which also covers opening one), for a
 * query's answer (queryTimeoutMs, see guardedClient), and a connection whose server vanished without a word is
 * found out by TCP keepalive.
 */
export function openServerDatabase(options: ServerDatabaseOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: options.statementTimeoutMs,
    options: SESSION_SETTINGS,
    application_name: 'counterclaim',
    ...(options.client === undefined ? {} : { Client: options.client }),
  })
  const withMargin = (ms: number) => (ms > 0 ? ms + CLIENT_TIMEOUT_MARGIN_MS : 0)
  let lastDiskFullAt: Date | undefined
  const guard: ClientGuard = {
    queryTimeoutMs: options.queryTimeoutMs ?? withMargin(options.statementTimeoutMs),
    onTimeout: options.onQueryTimeout,
    onAnswer: (answer) => {
      if ('sqlState' in answer && answer.sqlState === SqlState.diskFull) lastDiskFullAt = new Date()
    },
  }
  pool.on('error', (error) => options.onIdleError?.(error))
  // pg reports a full pool or a failed connect as plain Errors, without a code to tell them apart from others:
  // every failure to get a connection is marked here, where it is known for what it is. A wrong password or a
  // missing database fail the same way (a 503 a client may retry); the migration at start reports those at once.
  const connections = {
    connect: () =>
      pool.connect().then(
        (client) =>
          options.preparedStatements === false
            ? guardedClient(client, guard)
            : preparingClient(guardedClient(client, guard)),
        (error: unknown) => {
          throw new DatabaseUnavailableError('no database connection could be had', { cause: error })
        },
      ),
    end: () => pool.end(),
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: connections }) })
  return {
    db,
    engine: 'postgres',
    connections: connectionsOf(pool),
    lastDiskFullAt: () => lastDiskFullAt,
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
}

/** The database the configuration names: a server at DATABASE_URL, or the embedded one under DATA_DIR. */
export async function openDatabase(config: Config, events: DatabaseEvents = {}): Promise<DatabaseHandle> {
  if (config.databaseUrl !== undefined) {
    return openServerDatabase({
      url: config.databaseUrl,
      poolMax: config.databasePoolMax,
      statementTimeoutMs: config.statementTimeoutMs,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      queryTimeoutMs: config.databaseQueryTimeoutMs,
      preparedStatements: config.databasePreparedStatements,
      onIdleError: events.onIdleError,
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
