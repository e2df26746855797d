import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problemResponses } from '../schemas/common.schema.js'
import { checkDatabaseReady } from '../services/health.service.js'

const READINESS_TIMEOUT_MS = 2000

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/healthz',
    {
      // Probes answer whatever the key settings: a load balancer holds no key.
      config: { access: 'public' },
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process is up and serving',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
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
        summary: 'Readiness: the database answers',
        tags: ['operations'],
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
          ...problemResponses(503),
        },
      },
    },
    async () => {
      await checkDatabaseReady(fastify.db, READINESS_TIMEOUT_MS)
      return { status: 'ready' as const, database: fastify.databaseEngine }
    },
  )
}

export default healthRoutes
