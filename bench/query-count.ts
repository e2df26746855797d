import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { SESSION_SETTINGS } from '../src/db/database.js'
import type { Database } from '../src/db/schema.js'

/**
 * How many statements the service sends to answer one request: the round trips to the database that a request
 * waits for, BEGIN and COMMIT included. The service is built in process, on a pool that counts what its clients
 * are sent, and each request is injected once (after one run to warm it). A cursor counts as one statement.
 */

export interface CountedRequest {
  name: string
  method: 'GET' | 'POST'
  url: string
  payload?: unknown
  headers?: Record<string, string>
}

export interface QueryCount {
  status: number
  statements: number
  /** The first words of each statement, in order: enough to tell a lock from a read from a transaction. */
  outline: string[]
}

/** What a statement does and to which table first: `select claims`, `insert links`, `begin`. */
function outline(statement: string): string {
  const verb = /^[\s(]*(\w+)/.exec(statement)?.[1]?.toLowerCase() ?? '?'
  // Kysely quotes the table it builds a statement on; subqueries written as SQL in the select list do not.
  const table = (/\b(?:from|into|update)\s+"(\w+)"/i.exec(statement) ??
    /\b(?:from|into|update)\s+(\w+)/i.exec(statement))?.[1]
  return table === undefined || verb === 'begin' || verb === 'commit' ? verb : `${verb} ${table}`
}

export async function countQueries(databaseUrl: string, requests: CountedRequest[]): Promise<Map<string, QueryCount>> {
  let sent: string[] | undefined
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, options: SESSION_SETTINGS })
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()
  const counting: PostgresPool = {
    connect: async () => {
      const client = await pool.connect()
      let wrapper = wrappers.get(client)
      if (wrapper === undefined) {
        wrapper = {
          query: ((text: unknown, parameters?: unknown[]) => {
            const statement = typeof text === 'string' ? text : 'cursor'
            sent?.push(outline(statement))
            return typeof text === 'string' ? client.query(text, parameters) : client.query(text as never)
          }) as unknown as PostgresPoolClient['query'],
          release: (destroy?: boolean) => client.release(destroy),
        }
        wrappers.set(client, wrapper)
      }
      return wrapper
    },
    end: () => pool.end(),
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: counting }) })
  const config = loadConfig({ DATABASE_URL: databaseUrl, MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent' })
  const app = await buildApp({
    config,
    database: {
      db,
      engine: 'postgres',
      connections: () => ({
        inUse: pool.totalCount - pool.idleCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
      }),
      lastDiskFullAt: () => undefined,
      close: () => db.destroy(),
    },
    logger: false,
  })
  const counts = new Map<string, QueryCount>()
  try {
    await app.ready()
    for (const request of requests) {
      const inject = () =>
        app.inject({
          method: request.method,
          url: request.url,
          ...(request.payload === undefined ? {} : { payload: request.payload as object }),
          ...(request.headers === undefined ? {} : { headers: request.headers }),
        })
      if (request.method === 'GET') await inject()
      sent = []
      const response = await inject()
      counts.set(request.name, { status: response.statusCode, statements: sent.length, outline: sent })
      sent = undefined
    }
  } finally {
    await app.close()
  }
  return counts
}
