import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { type ExportRouteOptions, listFormat, sendExport, toAsync } from '../http/export.js'
import { varyOn } from '../http/vary.js'
import { CONSISTENCY_HEADER } from '../plugins/database.plugin.js'
import { problemResponses } from '../schemas/common.schema.js'
import { PartyParams } from '../schemas/party.schema.js'
import {
  RESPONSE_TIMES_CSV_COLUMNS,
  ResponseTimesListQuery,
  ResponseTimesListSchema,
  ResponseTimesSchema,
} from '../schemas/response-times.schema.js'
import { allResponseTimes, partyResponseTimes } from '../services/response-times.service.js'

const responseTimeRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.get(
    '/v1/parties/:party/response-times',
    {
      schema: {
        operationId: 'getPartyResponseTimes',
        summary: "How fast a party answers others' claims, and is answered",
        description:
          'From the stated times of the claims that live rebuttal and support links join: for the claims of ' +
          'others it answered, the time to its first response to each; for its own claims, the time to the first ' +
          'response by anyone; and how many of its claims nothing answers.',
        tags: ['parties'],
        params: PartyParams,
        response: { 200: Type.Ref(ResponseTimesSchema), ...problemResponses(400, 404, 410, 503) },
      },
    },
    async (request) => partyResponseTimes(request.readDb, request.params.party),
  )

  fastify.get(
    '/v1/response-times',
    {
      schema: {
        operationId: 'listResponseTimes',
        summary: 'Who answers fastest: the response times of every party',
        description:
          'Every live party that made or answered a claim, with its response times as ' +
          '`/v1/parties/{party}/response-times` gives them, fastest answering first; as JSON, CSV or NDJSON.',
        tags: ['disputes'],
        querystring: ResponseTimesListQuery,
        response: {
          200: {
            description: 'Every party as JSON; or as CSV or NDJSON (Accept, or the format parameter).',
            headers: {
              vary: { type: 'string', description: 'Accept: the representation depends on it.' },
              'content-disposition': { type: 'string', description: 'CSV only: `attachment; filename="…"`.' },
            },
            content: {
              'application/json': { schema: Type.Ref(ResponseTimesListSchema) },
              'text/csv': {
                schema: {
                  type: 'string',
                  description: `RFC 4180, CRLF line ends, a header row, then one row per party: ${RESPONSE_TIMES_CSV_COLUMNS.map((c) => c.name).join(', ')}.`,
                },
              },
              'application/x-ndjson': {
                schema: {
                  type: 'string',
                  description: 'One party per line, as in `data` of the JSON, each ended by \\n.',
                },
              },
            },
          },
          ...problemResponses(400, 503),
        },
      },
    },
    async (request, reply) => {
      const format = listFormat(request, request.query.format)
      const rows = await allResponseTimes(request.readDb, {
        writes: fastify.writesAnswered(),
        ownRead: request.headers[CONSISTENCY_HEADER] !== undefined,
      })
      if (format === 'json') {
        varyOn(reply, 'Accept')
        return { data: rows }
      }
      return sendExport(request, reply, toAsync(rows), {
        format,
        slots: options.exportSlots,
        stallTimeoutMs: options.exportStallTimeoutMs,
        name: 'response-times',
        columns: RESPONSE_TIMES_CSV_COLUMNS,
      })
    },
  )
}

export default responseTimeRoutes
