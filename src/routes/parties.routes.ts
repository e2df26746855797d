import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { sendRepresentation } from '../http/conditional-requests.js'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport } from '../http/export.js'
import { decodeCursor, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import {
  ConditionalReadHeaders,
  CountedPage,
  NotModified,
  problemResponses,
  resourceHeaders,
} from '../schemas/common.schema.js'
import { listRepresentations, PARTY_CSV_COLUMNS } from '../schemas/export.schema.js'
import {
  CreatePartyBody,
  PartyListQuery,
  PartyParams,
  PartySchema,
  PartyVersionSchema,
  UpdatePartyBody,
} from '../schemas/party.schema.js'
import { varyOn } from '../http/vary.js'
import { versionedRoutes } from '../http/versioned-routes.js'
import * as parties from '../services/party.service.js'

const PartyRef = Type.Ref(PartySchema)
const SLUG_ORDER = 'slug'
const HISTORY_ORDER = 'party-versions'

const partyRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.post(
    '/v1/parties',
    {
      schema: {
        operationId: 'createParty',
        summary: 'Create a party',
        tags: ['parties'],
        body: CreatePartyBody,
        response: {
          201: Type.Ref(PartySchema, {
            description: 'The party was created; Location names it.',
            ...resourceHeaders('party', { created: true }),
          }),
          ...problemResponses(400, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const party = await parties.createParty(fastify.db, request.body, request.apiKey?.id ?? null)
      reply.code(201).header('location', `/v1/parties/${party.id}`)
      return sendRepresentation(request, reply, party)
    },
  )

  fastify.get(
    '/v1/parties',
    {
      schema: {
        operationId: 'listParties',
        summary: 'List parties, by slug',
        tags: ['parties'],
        querystring: PartyListQuery,
        response: {
          200: listRepresentations(CountedPage(PartyRef, 'PartyPage'), PARTY_CSV_COLUMNS, 'party'),
          ...problemResponses(400, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const query = request.query
      const format = listFormat(request, query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const items = await parties.exportParties(request.readDb, query, options.exportTimeoutMs)
        return sendExport(request, reply, items, {
          format,
          limit: first,
          slots: options.exportSlots,
          stallTimeoutMs: options.exportStallTimeoutMs,
          name: 'parties',
          columns: PARTY_CSV_COLUMNS,
        })
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(query)
      const cursor = decodeCursor(query.cursor, SLUG_ORDER, (key) => key.length === 1 && typeof key[0] === 'string', {
        backward: true,
      })
      const afterSlug = cursor?.key[0] as string | undefined
      const rows = await parties.listParties(request.readDb, query, { limit, afterSlug, backward: cursor?.backward })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (party) => party,
        (party) => ({ sort: SLUG_ORDER, key: [party.slug] }),
        cursor,
      )
      if (query.count === undefined) return page
      return { ...page, ...(await parties.countParties(request.readDb, query, query.count)) }
    },
  )

  fastify.get(
    '/v1/parties/:party',
    {
      schema: {
        operationId: 'getParty',
        summary: 'Get a party by id or slug',
        tags: ['parties'],
        params: PartyParams,
        headers: ConditionalReadHeaders,
        response: {
          200: Type.Ref(PartySchema, { description: 'The party.', ...resourceHeaders('party') }),
          304: NotModified,
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      const party = await parties.getParty(request.readDb, request.params.party)
      return sendRepresentation(request, reply, party)
    },
  )

  versionedRoutes(fastify, {
    name: 'party',
    path: '/v1/parties/:party',
    params: PartyParams,
    key: 'party',
    tag: 'parties',
    schema: PartySchema,
    update: {
      summary: 'Change a party',
      description:
        'A JSON Merge Patch (sent as application/json or application/merge-patch+json). Every change makes a ' +
        'new version (see /history). With If-Match, the change applies only if the party is unchanged since that ' +
        'ETag (else 412).',
      edited: 'The party as changed.',
      body: UpdatePartyBody,
      problems: [400, 404, 409, 410, 412, 413, 415, 422, 503],
      apply: parties.updateParty,
    },
    delete: {
      description:
        'Refused (409) while the party has live claims or parties speak for it. With If-Match, applies only if ' +
        'the party is unchanged since that ETag (else 412).',
      problems: [400, 404, 409, 410, 412, 503],
      apply: parties.deleteParty,
    },
    history: { version: PartyVersionSchema, order: HISTORY_ORDER, list: parties.listPartyHistory },
  })
}

export default partyRoutes
