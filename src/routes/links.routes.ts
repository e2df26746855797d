import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { etagOf, sendRepresentation } from '../http/conditional-requests.js'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport } from '../http/export.js'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import { ClaimParams } from '../schemas/claim.schema.js'
import {
  ConditionalReadHeaders,
  CountedPage,
  CountQuery,
  NotModified,
  PageQuery,
  problemResponses,
  resourceHeaders,
} from '../schemas/common.schema.js'
import { LINK_CSV_COLUMNS, listRepresentations } from '../schemas/export.schema.js'
import {
  CreateLinkBody,
  CreateRebuttalBody,
  LinkListQuery,
  LinkParams,
  LinkSchema,
  LinkVersionSchema,
  RebuttalSchema,
  UpdateLinkBody,
} from '../schemas/link.schema.js'
import { varyOn } from '../http/vary.js'
import { versionedRoutes } from '../http/versioned-routes.js'
import * as links from '../services/link.service.js'
import type { LinkListKey, RebuttalListKey } from '../services/link.service.js'
import {
  announceDuplicates,
  duplicateResponseHeaders,
  PreferHeaders,
  prefersStrictHandling,
} from '../http/duplicates.js'
import { duplicateClaimProblem, findDuplicateClaims } from '../services/claim.service.js'

// Named apart from the sorts of other lists, so that a cursor of one list is refused by another.
const LIST_ORDER = 'links:-created_at'
const REBUTTAL_ORDER = 'rebuttals:-stated_at'
const HISTORY_ORDER = 'link-versions'

/** A cursor key of these lists: a timestamp, then an id. */
const isTimestampKey = isValueIdKey(cursorPart.timestamp)

const linkRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.post(
    '/v1/links',
    {
      schema: {
        operationId: 'createLink',
        summary: 'Link a claim to a claim it rebuts or supports',
        description:
          'Both claims must be live and of different parties. The answered claim is recounted in the same ' +
          'transaction: its status, rebuttal and support counts and last response time are current at once.',
        tags: ['links'],
        body: CreateLinkBody,
        response: {
          201: Type.Ref(LinkSchema, {
            description: 'The link was made; Location names it.',
            ...resourceHeaders('link', { created: true }),
          }),
          ...problemResponses(400, 409, 410, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const link = await links.createLink(fastify.db, request.body, request.apiKey?.id ?? null)
      reply.code(201).header('location', `/v1/links/${link.id}`)
      return sendRepresentation(request, reply, link)
    },
  )

  fastify.get(
    '/v1/links',
    {
      schema: {
        operationId: 'listLinks',
        summary: 'List links, newest first',
        tags: ['links'],
        querystring: LinkListQuery,
        response: {
          200: listRepresentations(CountedPage(Type.Ref(LinkSchema), 'LinkPage'), LINK_CSV_COLUMNS, 'link'),
          ...problemResponses(400, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const format = listFormat(request, request.query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const items = await links.exportLinks(request.readDb, request.query, options.exportTimeoutMs)
        return sendExport(request, reply, items, {
          format,
          limit: first,
          slots: options.exportSlots,
          stallTimeoutMs: options.exportStallTimeoutMs,
          name: 'links',
          columns: LINK_CSV_COLUMNS,
        })
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(request.query)
      const cursor = decodeCursor(request.query.cursor, LIST_ORDER, isTimestampKey, { backward: true })
      const rows = await links.listLinks(request.readDb, request.query, {
        limit,
        after: cursor?.key as LinkListKey | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (row) => row.link,
        (row) => ({ sort: LIST_ORDER, key: row.key }),
        cursor,
      )
      const { count } = request.query
      if (count === undefined) return page
      return { ...page, ...(await links.countLinks(request.readDb, request.query, count)) }
    },
  )

  fastify.get(
    '/v1/links/:id',
    {
      schema: {
        operationId: 'getLink',
        summary: 'Get a link',
        tags: ['links'],
        params: LinkParams,
        headers: ConditionalReadHeaders,
        response: {
          200: Type.Ref(LinkSchema, { description: 'The link.', ...resourceHeaders('link') }),
          304: NotModified,
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) =>
      sendRepresentation(request, reply, await links.getLink(request.readDb, request.params.id)),
  )

  versionedRoutes(fastify, {
    name: 'link',
    path: '/v1/links/:id',
    params: LinkParams,
    key: 'id',
    tag: 'links',
    schema: LinkSchema,
    update: {
      summary: 'Edit a link',
      description:
        'A JSON Merge Patch (sent as application/json or application/merge-patch+json) of its note and whether ' +
        'it is a prebuttal: its claims and kind cannot change. A link stops being a prebuttal only when its ' +
        'responding claim is not stated before the claim it answers (422 out-of-time-order). Every edit makes a ' +
        'new version (see /history). With If-Match, the edit applies only if the link is unchanged since that ' +
        'ETag (else 412).',
      edited: 'The link as edited.',
      body: UpdateLinkBody,
      problems: [400, 404, 410, 412, 413, 415, 422, 503],
      apply: links.updateLink,
    },
    delete: {
      description:
        'The answered claim is recounted at once: with its last rebuttal gone, it is unchallenged again. With ' +
        'If-Match, applies only if the link is unchanged since that ETag (else 412).',
      problems: [400, 404, 410, 412, 503],
      apply: links.deleteLink,
    },
    history: { version: LinkVersionSchema, order: HISTORY_ORDER, list: links.listLinkHistory },
  })

  fastify.post(
    '/v1/claims/:id/rebuttals',
    {
      schema: {
        operationId: 'createRebuttal',
        summary: 'Rebut a claim, with an existing claim or a new counter-claim',
        description:
          'With claim_id, links that existing claim as a rebuttal. With claim, records the counter-claim and ' +
          'its rebuttal link in one transaction: both are recorded, or neither. Answers with both: Location and ' +
          "ETag are the link's, Claim-ETag is the rebutting claim's (the ETag GET /v1/claims/{id} answers), " +
          'so the new claim can be edited with If-Match at once. A ' +
          'counter-claim is checked for near-duplicates as POST /v1/claims checks a claim.',
        tags: ['links'],
        params: ClaimParams,
        headers: PreferHeaders,
        body: CreateRebuttalBody,
        response: {
          201: Type.Ref(RebuttalSchema, {
            description: 'The rebuttal was recorded: its link, and the rebutting claim.',
            headers: {
              ...resourceHeaders('link', { created: true }).headers,
              'claim-etag': {
                type: 'string',
                required: true,
                description: 'The entity tag of the rebutting claim, for If-Match on PATCH or DELETE /v1/claims/{id}.',
              },
              ...duplicateResponseHeaders,
            },
          }),
          ...problemResponses(400, 404, 409, 410, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const strict = prefersStrictHandling(request)
      const counterClaim = 'claim' in request.body ? request.body.claim : undefined
      const duplicates = counterClaim === undefined ? [] : await findDuplicateClaims(fastify.db, counterClaim)
      if (strict && duplicates.length > 0) throw duplicateClaimProblem(duplicates, 'claim')
      const rebuttal = await links.createRebuttal(
        fastify.db,
        request.params.id,
        request.body,
        request.apiKey?.id ?? null,
      )
      reply
        .code(201)
        .header('location', `/v1/links/${rebuttal.link.id}`)
        .header('etag', etagOf(rebuttal.link))
        .header('claim-etag', etagOf(rebuttal.claim))
      announceDuplicates(reply, duplicates, strict)
      return reply.send(rebuttal)
    },
  )

  fastify.get(
    '/v1/claims/:id/rebuttals',
    {
      schema: {
        operationId: 'listRebuttals',
        summary: 'The claims that rebut a claim, latest stated first',
        tags: ['links'],
        params: ClaimParams,
        querystring: Type.Object({ ...PageQuery, ...CountQuery }, { additionalProperties: false }),
        response: {
          200: CountedPage(Type.Ref(RebuttalSchema), 'RebuttalPage'),
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      const limit = pageLimit(request.query)
      const cursor = decodeCursor(request.query.cursor, REBUTTAL_ORDER, isTimestampKey, { backward: true })
      const rows = await links.listRebuttals(request.readDb, request.params.id, {
        limit,
        after: cursor?.key as RebuttalListKey | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (row) => row.rebuttal,
        (row) => ({ sort: REBUTTAL_ORDER, key: row.key }),
        cursor,
      )
      const { count } = request.query
      if (count === undefined) return page
      return { ...page, ...(await links.countRebuttals(request.readDb, request.params.id, count)) }
    },
  )
}

export default linkRoutes
