import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { unavailable } from '../errors/problems.js'
import { problemResponses } from '../schemas/common.schema.js'
import { StringEnum } from '../schemas/string-enum.js'
import { checkDatabaseReady } from '../services/health.service.js'

const READINESS_TIMEOUT_MS = 2000

export interface HealthRoutesOptions {
  /** Whether the service is draining before a shutdown (SIGTERM with `SHUTDOWN_DRAIN_MS`): it is then not ready. */
  draining: () => boolean
}

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (fastify, { draining }) => {
  fastify.get(
    '/healthz',
    {
      // Probes answer whatever the key settings: a load balancer holds no key.
      config: { access: 'public' },
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process is up and serving',
        tags: ['operations'],
        response: {
          200: Type.Object({ status: Type.Literal('ok') }, { title: 'Health', description: 'The process is up.' }),
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  fastify.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers and has room to write',
        description:
          '503 when the database does not answer within 2 s, for 30 s after it refused a write for want of disk ' +
          'space (the detail says which; reads are still served meanwhile), and while the instance drains before a ' +
          'shutdown (`SHUTDOWN_DRAIN_MS`; requests are still served meanwhile). With read replicas (`DATABASE_READ_URL`), ' +
          '`replicas` tells what the last background check found of each; a replica down or lagging does not make ' +
          'the instance unready, since the primary serves its reads meanwhile.',
        tags: ['operations'],
        response: {
          200: Type.Object(
            {
              status: Type.Literal('ready'),
              database: Type.String(),
              replicas: Type.Optional(
                Type.Array(
                  Type.Object({
                    replica: Type.Integer({ minimum: 1, description: 'Its place in `DATABASE_READ_URL`, from 1.' }),
                    state: StringEnum(['starting', 'ok', 'lagging', 'down', 'not-a-replica'], {
                      title: 'ReplicaState',
                      description:
                        '`ok` serves reads; `starting`: not checked yet; `lagging`: further behind than ' +
                        '`REPLICA_MAX_LAG_MS`; `down`: did not answer; `not-a-replica`: the server is not in recovery.',
                    }),
                    lag_ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
                      description: 'How far behind the primary it was at the last check (at least that when lagging).',
                    }),
                  }),
                ),
              ),
            },
            { title: 'Readiness', description: 'The service can answer: its database is reachable.' },
          ),
          ...problemResponses(503),
        },
      },
    },
    async () => {
      // Not ready first, so that a load balancer's health checks take the instance out before it stops listening.
      if (draining()) throw unavailable('the service is shutting down: it serves requests until it stops listening')
      await checkDatabaseReady(fastify.db, READINESS_TIMEOUT_MS, fastify.lastDiskFullAt())
      const replicas = fastify.replicaStatus().map(({ replica, state, lagMs }) => ({
        replica,
        state,
        lag_ms: lagMs === undefined ? null : Math.max(0, lagMs),
      }))
      return {
        status: 'ready' as const,
        database: fastify.databaseEngine,
        ...(replicas.length > 0 ? { replicas } : {}),
      }
    },
  )
}

export default healthRoutes
