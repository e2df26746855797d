import { type PostgresPool } from 'kysely'
import pg from 'pg'
import { DatabaseUnavailableError } from './database-errors.js'
import { type ClientGuard, guardedClient } from './guarded-client.js'
import { SqlState } from './postgres-error-codes.js'
import { preparingClient } from './prepared-statements.js'

export function connectionsOf(pool: pg.Pool) {
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

/** A pool of guarded connections to a server, as Kysely's dialect takes it, and what it reports. */
export interface ServerPool {
  pool: PostgresPool
  connections(): { inUse: number; idle: number; waiting: number }
  lastDiskFullAt(): Date | undefined
}

/** The pool of openServerDatabase, without the Kysely instance over it (read replicas build their own). */
export function openServerPool(options: ServerDatabaseOptions): ServerPool {
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
  const connections: PostgresPool = {
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
  return { pool: connections, connections: connectionsOf(pool), lastDiskFullAt: () => lastDiskFullAt }
}
