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
        summary: 'Readiness: the database answers and has room to write',
        description:
          '503 when the database does not answer within 2 s, and for 30 s after it refused a write for want of disk ' +
          'space (the detail says which); reads are still served meanwhile.',
        tags: ['operations'],
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
          ...problemResponses(503),
        },
      },
    },
    async () => {
      await checkDatabaseReady(fastify.db, READINESS_TIMEOUT_MS, fastify.lastDiskFullAt())
      return { status: 'ready' as const, database: fastify.databaseEngine }
    },
  )
}

export default healthRoutes
