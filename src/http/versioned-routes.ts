import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox'
import type { Db } from '../db/schema.js'
import type { ApiKeyIdentity } from '../schemas/api-key.schema.js'
import {
  ConditionalWriteHeaders,
  MERGE_PATCH_MEDIA_TYPES,
  Page,
  PageQuery,
  ProblemSchema,
  problemResponses,
  resourceHeaders,
} from '../schemas/common.schema.js'
import type { Precondition } from '../services/precondition.js'
import { sendRepresentation, writePreconditions } from './conditional-requests.js'
import { pageLimit, sendHistoryPage, versionBelow } from './pagination.js'

type TypeboxInstance = Parameters<FastifyPluginAsyncTypebox>[0]

const HistoryQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

/**
 * The 412 of a PATCH or DELETE of a record: the problem with the record as it is now and its entity tag, so that a
 * client can show both versions, or retry on top of the current one, without reading it again.
 */
function preconditionFailedResponse(title: string, name: string, schema: TSchema) {
  return {
    description: `The If-Match entity tag is stale (or If-None-Match names the current one): nothing was changed. The problem carries the current ${name}, and the ETag header its entity tag.`,
    headers: {
      etag: { type: 'string', required: true, description: `The entity tag of the current ${name}, for If-Match.` },
    },
    content: {
      'application/problem+json': {
        schema: Type.Object(
          {
            ...ProblemSchema.properties,
            current: Type.Ref(schema, { description: `The ${name} as it is now, as a GET answers it.` }),
            current_etag: Type.String({ description: `The entity tag of \`current\`, the same as the ETag header.` }),
          },
          {
            title: `${title}PreconditionFailed`,
            description: `A precondition-failed problem (412) about a ${name}, with its current version.`,
          },
        ),
      },
    },
  }
}

/** The routes that change a versioned record, delete it and list its versions: what differs between records. */
export interface VersionedRoutes<Params extends TObject, Patch extends TSchema> {
  /** The record as the document names it: `claim` gives `updateClaim`, "Delete a claim", `ClaimVersionPage`. */
  name: string
  /** The record's path, `/v1/claims/:id`, its parameters, and which of them names the record. */
  path: string
  params: Params
  key: keyof Static<Params> & string
  tag: string
  /** The record's schema, which a PATCH answers with. */
  schema: TSchema
  update?: {
    summary: string
    description: string
    /** What the 200 answer holds: "The claim as edited." */
    edited: string
    body: Patch
    problems: number[]
    /** `recordedBy` is the request's key (its id), which the version the edit makes records. */
    apply: (
      db: Db,
      key: string,
      patch: Static<Patch>,
      precondition: Precondition<unknown>,
      recordedBy: string | null,
    ) => Promise<unknown>
  }
  delete: {
    description: string
    problems: number[]
    apply: (db: Db, key: string, precondition: Precondition<unknown>, deleter: ApiKeyIdentity | null) => Promise<void>
  }
  history?: {
    /** The schema of one version. */
    version: TSchema
    /** The order its cursors name, apart from every other list's, so that one list refuses another's cursor. */
    order: string
    list: (db: Db, key: string, limit: number, beforeVersion: number | undefined) => Promise<Array<{ version: number }>>
  }
}

/**
 * Declares PATCH and DELETE on a versioned record, with their If-Match preconditions, and GET of its history,
 * newest version first: the same three routes, documented alike, for every record that has them.
 */
export function versionedRoutes<Params extends TObject, Patch extends TSchema>(
  fastify: TypeboxInstance,
  record: VersionedRoutes<Params, Patch>,
): void {
  const title = record.name.charAt(0).toUpperCase() + record.name.slice(1)
  const keyOf = (params: unknown) => (params as Record<string, string>)[record.key] as string
  const { update, history } = record
  /** The problem responses of a write, its 412 with the current record. */
  const writeProblems = (statuses: number[]) => ({
    ...problemResponses(...statuses),
    ...(statuses.includes(412) ? { 412: preconditionFailedResponse(title, record.name, record.schema) } : {}),
  })

  if (update !== undefined) {
    fastify.patch(
      record.path,
      {
        schema: {
          operationId: `update${title}`,
          summary: update.summary,
          description: update.description,
          tags: [record.tag],
          params: record.params,
          headers: ConditionalWriteHeaders,
          body: update.body,
          consumes: MERGE_PATCH_MEDIA_TYPES,
          response: {
            200: Type.Ref(record.schema, { description: update.edited, ...resourceHeaders(record.name) }),
            ...writeProblems(update.problems),
          },
        },
      },
      async (request, reply) => {
        const precondition = writePreconditions(request)
        const recordedBy = request.apiKey?.id ?? null
        const updated = await update.apply(fastify.db, keyOf(request.params), request.body, precondition, recordedBy)
        return sendRepresentation(request, reply, updated)
      },
    )
  }

  fastify.delete(
    record.path,
    {
      schema: {
        operationId: `delete${title}`,
        summary: `Delete a ${record.name}`,
        description: record.delete.description,
        tags: [record.tag],
        params: record.params,
        headers: ConditionalWriteHeaders,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...writeProblems(record.delete.problems) },
      },
    },
    async (request, reply) => {
      await record.delete.apply(fastify.db, keyOf(request.params), writePreconditions(request), request.apiKey)
      return reply.code(204).send(null)
    },
  )

  if (history !== undefined) {
    fastify.get(
      `${record.path}/history`,
      {
        schema: {
          operationId: `list${title}History`,
          summary: `Every version of a ${record.name}, newest first`,
          tags: [record.tag],
          params: record.params,
          querystring: HistoryQuery,
          response: {
            200: Page(Type.Ref(history.version), `${title}VersionPage`),
            ...problemResponses(400, 404, 503),
          },
        },
      },
      async (request, reply) => {
        const limit = pageLimit(request.query)
        const below = versionBelow(request.query.cursor, history.order)
        const versions = await history.list(request.readDb, keyOf(request.params), limit, below)
        return sendHistoryPage(request, reply, versions, limit, history.order)
      },
    )
  }
}
