import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import {
  ApiKeyListQuery,
  ApiKeyParams,
  ApiKeySchema,
  CreateApiKeyBody,
  CreatedApiKeySchema,
} from '../schemas/api-key.schema.js'
import { CountedPage, problemResponses } from '../schemas/common.schema.js'
import * as apiKeys from '../services/api-key.service.js'

const LIST_ORDER = 'keys:-created_at'
const isListKey = isValueIdKey(cursorPart.timestamp)

/** Key management over HTTP, for `admin` keys; `npm run keys` does the same from the command line. */
const keyRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const admin = { access: 'admin' as const }

  fastify.post(
    '/v1/keys',
    {
      config: admin,
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key',
        description: 'The answer holds the token, the only time it is shown: only a hash of it is stored.',
        tags: ['keys'],
        body: CreateApiKeyBody,
        response: {
          201: Type.Ref(CreatedApiKeySchema, {
            description: 'The key was created; Location names it.',
            headers: { location: { type: 'string', description: 'The path of the new key.' } },
          }),
          ...problemResponses(400, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const { key, token } = await apiKeys.createApiKey(fastify.db, request.body)
      reply.code(201).header('location', `/v1/keys/${key.id}`).header('cache-control', 'no-store')
      return { ...key, token }
    },
  )

  fastify.get(
    '/v1/keys',
    {
      config: admin,
      schema: {
        operationId: 'listApiKeys',
        summary: 'List API keys, newest first, revoked ones too',
        tags: ['keys'],
        querystring: ApiKeyListQuery,
        response: { 200: CountedPage(Type.Ref(ApiKeySchema), 'ApiKeyPage'), ...problemResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const limit = pageLimit(request.query)
      const cursor = decodeCursor(request.query.cursor, LIST_ORDER, isListKey, { backward: true })
      const keys = await apiKeys.listApiKeys(request.readDb, {
        limit,
        after: cursor?.key as [string, string] | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        keys,
        limit,
        (key) => key,
        (key) => ({ sort: LIST_ORDER, key: [key.created_at, key.id] }),
        cursor,
      )
      const { count } = request.query
      if (count === undefined) return page
      return { ...page, ...(await apiKeys.countApiKeys(request.readDb, count)) }
    },
  )

  fastify.get(
    '/v1/keys/:id',
    {
      config: admin,
      schema: {
        operationId: 'getApiKey',
        summary: 'Get an API key (without its token)',
        tags: ['keys'],
        params: ApiKeyParams,
        response: { 200: Type.Ref(ApiKeySchema), ...problemResponses(400, 404, 503) },
      },
    },
    async (request) => apiKeys.getApiKey(request.readDb, request.params.id),
  )

  fastify.delete(
    '/v1/keys/:id',
    {
      config: admin,
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        description:
          'Its next request is refused (401). The key stays listed with `revoked_at`, and the records it created ' +
          'stay as they are: only admin keys can change them from now on. Revoking a revoked key is a no-op.',
        tags: ['keys'],
        params: ApiKeyParams,
        response: { 204: Type.Null({ description: 'Revoked.' }), ...problemResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      await apiKeys.revokeApiKey(fastify.db, request.params.id)
      return reply.code(204).send(null)
    },
  )
}

export default keyRoutes
