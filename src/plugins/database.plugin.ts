import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { DatabaseEngine, DatabaseHandle } from '../db/database.js'
import { migrateToLatest } from '../db/migrator.js'
import type { Database } from '../db/schema.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>
    databaseEngine: DatabaseEngine
    /** When the database last refused a statement for want of disk space; undefined if it never did. */
    lastDiskFullAt: () => Date | undefined
  }
}

export interface DatabasePluginOptions {
  /** An open database; the app takes ownership and closes it when it closes. */
  database: DatabaseHandle
  migrate: boolean
}

/** Exposes the database to every route and repository caller as `fastify.db`. */
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
  },
  { name: 'database' },
)
