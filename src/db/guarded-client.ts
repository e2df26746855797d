import { AsyncLocalStorage } from 'node:async_hooks'
import type pg from 'pg'
import { DatabaseUnavailableError } from './database-errors.js'
import { sqlStateOf } from './postgres-error-codes.js'

/** How long the client waits for the server (0 waits for ever), and what it reports of the answers. */
export interface ClientGuard {
  /** For the answer to one query. */
  queryTimeoutMs: number
  /** Called when a query ran out of time: the database may be stuck in it. */
  onTimeout?: () => void
  /** Called with every answer the server gave: a result, or an error with a SQLSTATE. */
  onAnswer?: (answer: ServerAnswer) => void
}

/** What a query came back with: the command of a result (`INSERT`, `COMMIT`…), or the SQLSTATE of an error. */
export type ServerAnswer = { command: string } | { sqlState: string }

/** What the pool hands out and the layers above (prepared statements, Kysely) call. */
export type PooledClient = Pick<pg.PoolClient, 'query' | 'release'>

const unbounded = new AsyncLocalStorage<true>()

/**
 * Runs `work` with no client-side limit on the wait for its queries' answers. For migrations: one may rewrite a
 * large table, or wait for another instance's migration lock (the migrator lifts statement_timeout for the same
 * reason).
 */
export function withoutClientTimeouts<T>(work: () => Promise<T>): Promise<T> {
  return unbounded.run(true, work)
}

const guardedClients = new WeakMap<pg.PoolClient, PooledClient>()

/**
 * A pooled connection whose queries cannot wait for ever. PostgreSQL's statement_timeout is enforced by the server:
 * when the network stalls, or the server hangs, no cancellation ever arrives and a query would wait as long as
 * TCP keeps the connection (many minutes). Here each query also has a client-side limit, a little longer than the
 * server's, so that the server's answer (57014, or the rows) normally comes first.
 *
 * A connection whose query ran out of time, or that failed under a query (reset, server killed), is in an unknown
 * state: a query may still run on it, a named statement may be half-prepared, a transaction may be open. It is
 * marked broken: its later queries (the ROLLBACK Kysely sends after a failure) fail at once instead of queueing
 * behind the stalled one, and it is closed instead of going back to the pool. Both failures are
 * DatabaseUnavailableError, which the API answers 503 with Retry-After; pg's own errors for a lost connection
 * carry no SQLSTATE and would otherwise be taken for a bug.
 */
export function guardedClient(client: pg.PoolClient, guard: ClientGuard): PooledClient {
  const known = guardedClients.get(client)
  if (known !== undefined) return known

  let broken: DatabaseUnavailableError | undefined
  const breakWith = (detail: string, cause?: unknown) => {
    broken ??= new DatabaseUnavailableError(detail, { cause })
    return broken
  }
  // pg emits 'error' on a client whose connection fails, whether it is checked out or not; with no listener while
  // it is checked out (the pool listens only to idle ones), the process would crash.
  client.on('error', (error) => breakWith('the connection to the database was lost', error))

  const limitOf = (ms: number) => (unbounded.getStore() === true ? 0 : ms)

  /** `pending`, or a DatabaseUnavailableError after `ms`, or when the connection is lost under it. */
  function bounded<T>(pending: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer =
        ms > 0
          ? setTimeout(() => {
              reject(breakWith(`the database did not answer within ${ms} ms`))
              guard.onTimeout?.()
            }, ms)
          : undefined
      pending.then(
        (value) => {
          clearTimeout(timer)
          const command = (value as { command?: unknown } | undefined)?.command
          if (typeof command === 'string') guard.onAnswer?.({ command })
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          // An error the server sent (it has a SQLSTATE) leaves the connection usable, and says what went wrong.
          const sqlState = sqlStateOf(error)
          if (sqlState !== undefined) guard.onAnswer?.({ sqlState })
          reject(broken !== undefined && sqlState === undefined ? broken : error)
        },
      )
    })
  }

  const guarded: PooledClient = {
    query: ((config: unknown, values?: unknown) => {
      const query = client.query as (config: unknown, values?: unknown) => unknown
      if (broken !== undefined) return Promise.reject(broken)
      return bounded(query.call(client, config, values) as Promise<unknown>, limitOf(guard.queryTimeoutMs))
    }) as pg.PoolClient['query'],
    // A broken connection is closed (pg destroys the socket of a client with a query still running) and replaced.
    release: (discard?: Error | boolean) => client.release(broken ?? discard),
  }
  guardedClients.set(client, guarded)
  return guarded
}
