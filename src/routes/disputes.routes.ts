import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { sendRepresentation } from '../http/conditional-requests.js'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport, toAsync } from '../http/export.js'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import { varyOn } from '../http/vary.js'
import { ClaimParams } from '../schemas/claim.schema.js'
import { ConditionalReadHeaders, CountedPage, NotModified, problemResponses } from '../schemas/common.schema.js'
import { DisputeListQuery, DisputeSchema, MatrixQuery, MatrixSchema } from '../schemas/dispute.schema.js'
import { DISPUTE_CSV_COLUMNS, listRepresentations, MATRIX_CSV_COLUMNS } from '../schemas/export.schema.js'
import { THREAD_DEPTH_DEFAULT, ThreadQuery, ThreadSchema } from '../schemas/thread.schema.js'
import type { ClaimListKey } from '../services/claim-list.service.js'
import * as disputes from '../services/dispute.service.js'
import { getThread } from '../services/thread.service.js'

const etagHeader = { etag: { type: 'string', description: 'The entity tag of this answer, for If-None-Match.' } }

const disputeRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.get(
    '/v1/disputes',
    {
      schema: {
        operationId: 'listDisputes',
        summary: 'Disputed claims: who rebutted them, how often, and when last',
        description:
          'Live claims that at least one live claim of another party rebuts, each with its latest rebuttals. ' +
          '`since` and `until` bound when the disputed claim was stated, `disputed_after` and `disputed_before` when ' +
          'it became disputed, `answered_after` and `answered_before` when it was last answered. The last response ' +
          'time, the time it became disputed and the rebuttal ' +
          'count move as responses come and go: a claim whose key moves between two page requests can be missed ' +
          'or seen twice when paging by those sorts; `-stated_at` is stable.',
        tags: ['disputes'],
        querystring: DisputeListQuery,
        response: {
          200: listRepresentations(CountedPage(Type.Ref(DisputeSchema), 'DisputePage'), DISPUTE_CSV_COLUMNS, 'dispute'),
          ...problemResponses(400, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const query = request.query
      const sort = query.sort ?? '-last_response_at'
      const format = listFormat(request, query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const items = await disputes.exportDisputes(request.readDb, query, sort, options.exportTimeoutMs)
        return sendExport(request, reply, items, {
          format,
          limit: first,
          slots: options.exportSlots,
          stallTimeoutMs: options.exportStallTimeoutMs,
          name: 'disputes',
          columns: DISPUTE_CSV_COLUMNS,
        })
      }
      varyOn(reply, 'Accept')
      // Named apart from the claim list's sorts, so that a cursor of one list is refused by the other.
      const cursorSort = `disputes:${sort}`
      const limit = pageLimit(query)
      const valueFits = sort === '-rebuttal_count' ? cursorPart.positiveInteger : cursorPart.timestamp
      const cursor = decodeCursor(query.cursor, cursorSort, isValueIdKey(valueFits), { backward: true })
      const rows = await disputes.listDisputes(request.readDb, query, {
        sort,
        limit,
        after: cursor?.key as ClaimListKey | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (row) => row.dispute,
        (row) => ({ sort: cursorSort, key: row.key }),
        cursor,
      )
      if (query.count === undefined) return page
      return { ...page, ...(await disputes.countDisputes(request.readDb, query, query.count)) }
    },
  )

  fastify.get(
    '/v1/disputes/matrix',
    {
      schema: {
        operationId: 'getDisputeMatrix',
        summary: 'Who rebuts whom: rebuttal counts between parties or sides',
        description:
          'Counts of live rebuttal links from each rebutter to each claimant. `tag`, `since` and `until` filter ' +
          'on the rebutted claim, as on /v1/disputes.',
        tags: ['disputes'],
        querystring: MatrixQuery,
        headers: ConditionalReadHeaders,
        response: {
          200: {
            description:
              'The matrix, largest counts first: as JSON, or as CSV (Accept, or the format parameter), one row per ' +
              'cell.',
            headers: {
              ...etagHeader,
              vary: { type: 'string', description: 'Accept: the representation depends on it.' },
              'content-disposition': { type: 'string', description: 'CSV only: `attachment; filename="…"`.' },
            },
            content: {
              'application/json': { schema: Type.Ref(MatrixSchema) },
              'text/csv': {
                schema: {
                  type: 'string',
                  description: `RFC 4180, CRLF line ends, a header row, then one row per cell: ${MATRIX_CSV_COLUMNS.map((c) => c.name).join(', ')}.`,
                },
              },
            },
          },
          304: NotModified,
          ...problemResponses(400, 503),
        },
      },
    },
    async (request, reply) => {
      const matrix = await disputes.getMatrix(request.readDb, request.query)
      varyOn(reply, 'Accept')
      const csv =
        request.query.format === 'csv' ||
        (request.query.format === undefined && request.accepts().type(['application/json', 'text/csv']) === 'text/csv')
      if (!csv) return sendRepresentation(request, reply, matrix)
      sendRepresentation(request, reply, { csv: true, ...matrix })
      if (reply.statusCode === 304) return reply
      return sendExport(request, reply, toAsync(matrix.cells), {
        format: 'csv',
        slots: options.exportSlots,
        stallTimeoutMs: options.exportStallTimeoutMs,
        name: `matrix-${matrix.kind}`,
        columns: MATRIX_CSV_COLUMNS,
      })
    },
  )

  fastify.get(
    '/v1/claims/:id/thread',
    {
      schema: {
        operationId: 'getClaimThread',
        summary: 'The exchange around a claim, both ways',
        tags: ['disputes'],
        params: ClaimParams,
        querystring: ThreadQuery,
        headers: ConditionalReadHeaders,
        response: {
          200: Type.Ref(ThreadSchema, { description: 'The thread.', headers: etagHeader }),
          304: NotModified,
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      const thread = await getThread(request.readDb, request.params.id, request.query.depth ?? THREAD_DEPTH_DEFAULT)
      return sendRepresentation(request, reply, thread)
    },
  )
}

export default disputeRoutes
