import type { FastifyInstance, FastifyRequest, onSendHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { DatabaseEngine, DatabaseHandle } from '../db/database.js'
import { migrateToLatest } from '../db/migrator.js'
import { type ReplicaStatus, parseLsn } from '../db/read-replicas.js'
import type { Database } from '../db/schema.js'
import { ApiError } from '../errors/problems.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The primary: every write, and every read within a write. */
    db: Kysely<Database>
    databaseEngine: DatabaseEngine
    /** When the database last refused a statement for want of disk space; undefined if it never did. */
    lastDiskFullAt: () => Date | undefined
    /** What the last check found of each read replica; empty without DATABASE_READ_URL. */
    replicaStatus: () => ReplicaStatus[]
    /** How many writes this instance has answered with success: a read started after it may not share an older one. */
    writesAnswered: () => number
  }
  interface FastifyRequest {
    /**
     * Where this request's reads go: for a GET or HEAD, a read replica when one is well (and has replayed the
     * client's Counterclaim-Consistency position), else the primary; for every other method, the primary.
     */
    readDb: Kysely<Database>
  }
}

export interface DatabasePluginOptions {
  /** An open database; the app takes ownership and closes it when it closes. */
  database: DatabaseHandle
  migrate: boolean
}

/**
 * The read-your-writes header: a write answers the primary's WAL position after its commit; a read that sends it
 * back is served by a replica that has replayed at least that far.
 */
export const CONSISTENCY_HEADER = 'counterclaim-consistency'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const isRead = (request: FastifyRequest) =>
  request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS'

/** The position a request's Counterclaim-Consistency names; a 400 when it is not one a write answered. */
function consistencyTokenOf(request: FastifyRequest): bigint | undefined {
  const value = request.headers[CONSISTENCY_HEADER]
  if (value === undefined) return undefined
  const lsn = typeof value === 'string' ? parseLsn(value.trim()) : undefined
  if (lsn !== undefined) return lsn
  throw new ApiError('validation-failed', 'Counterclaim-Consistency must be sent back as a write answered it', {
    errors: [
      {
        in: 'header',
        field: 'counterclaim-consistency',
        message: 'must be a position such as 0/3000148, sent back as a write answered it',
      },
    ],
  })
}

/**
 * Exposes the primary to every route and repository caller as `fastify.db`, and the database of a request's reads
 * as `request.readDb`. With read replicas, it also answers each successful write with Counterclaim-Consistency.
 */
export default fp<DatabasePluginOptions>(
  async function databasePlugin(fastify: FastifyInstance, { database, migrate }) {
    fastify.addHook('onClose', () => database.close())
    if (migrate) {
      const result = await migrateToLatest(database.db)
      const applied = result.results?.map((r) => r.migrationName) ?? []
      if (applied.length > 0) fastify.log.info({ migrations: applied }, 'database migrated')
    }
    fastify.decorate('db', database.db)
    fastify.decorate('databaseEngine', database.engine)
    fastify.decorate('lastDiskFullAt', () => database.lastDiskFullAt())
    const { replicas } = database
    fastify.decorate('replicaStatus', () => replicas?.status() ?? [])
    fastify.decorateRequest('readDb', null as unknown as Kysely<Database>)
    let writesAnswered = 0
    fastify.decorate('writesAnswered', () => writesAnswered)
    // Counted as the answer leaves: a client can only ask again after its write is counted.
    const countWrite: onSendHookHandler = (_request, reply, payload, done) => {
      if (reply.statusCode < 400) writesAnswered++
      done(null, payload)
    }
    // On the routes that write, on those alone: reads skip the hook.
    fastify.addHook('onRoute', (route) => {
      if (![route.method].flat().some((method) => WRITE_METHODS.has(method))) return
      route.onSend = [...[route.onSend ?? []].flat(), countWrite]
    })

    // A preHandler: after authentication, rate limits and validation, so that a refused request never waits.
    fastify.addHook('preHandler', async (request) => {
      const token = consistencyTokenOf(request)
      if (replicas === undefined || !isRead(request)) {
        request.readDb = database.db
        return
      }
      const choice = await replicas.forRead(token)
      request.readDb = choice.db
      if (token !== undefined) {
        request.log.debug({ servedBy: choice.servedBy, waitedMs: choice.waitedMs }, 'read after a write')
      }
    })

    if (replicas === undefined) return
    // Read after the handler's commit, the position is at or past the write's: what the client sends back.
    fastify.addHook('onSend', async (request, reply, payload) => {
      // A 409 or 412 says the client's copy is behind: its next read must see what the primary holds.
      if (isRead(request) || (reply.statusCode >= 400 && reply.statusCode !== 409 && reply.statusCode !== 412)) {
        return payload
      }
      try {
        reply.header(CONSISTENCY_HEADER, await replicas.currentPrimaryLsn())
      } catch (error) {
        // The write is done: it is answered, and the client's next read goes where the service sends it.
        request.log.warn({ err: error }, 'the consistency position could not be read after a write')
      }
      return payload
    })
  },
  { name: 'database' },
)
