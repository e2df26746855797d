import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport } from '../http/export.js'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import { varyOn } from '../http/vary.js'
import { CountedPage, problemResponses } from '../schemas/common.schema.js'
import { listRepresentations, TOMBSTONE_CSV_COLUMNS } from '../schemas/export.schema.js'
import { TombstoneListQuery, TombstoneSchema } from '../schemas/tombstone.schema.js'
import * as tombstones from '../services/tombstone.js'
import type { TombstoneListKey } from '../services/tombstone.js'

const LIST_ORDER = 'tombstones:-deleted_at'

const tombstoneRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.get(
    '/v1/tombstones',
    {
      schema: {
        operationId: 'listTombstones',
        summary: 'List deleted records, newest deleted first',
        description:
          'The tombstone of every deleted party, claim, review and link: what the record was, and when and by ' +
          'which API key it was deleted, as its own id answers with 410 Gone. Exported (CSV, NDJSON) and imported ' +
          'as deletion lines, it carries what was deleted to another instance. Erased records have none.',
        tags: ['tombstones'],
        querystring: TombstoneListQuery,
        response: {
          200: listRepresentations(
            CountedPage(Type.Ref(TombstoneSchema), 'TombstonePage'),
            TOMBSTONE_CSV_COLUMNS,
            'tombstone',
          ),
          ...problemResponses(400, 503),
        },
      },
    },
    async (request, reply) => {
      const format = listFormat(request, request.query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        return sendExport(
          request,
          reply,
          tombstones.exportTombstones(request.readDb, request.query, options.exportTimeoutMs),
          {
            format,
            limit: first,
            slots: options.exportSlots,
            stallTimeoutMs: options.exportStallTimeoutMs,
            name: 'tombstones',
            columns: TOMBSTONE_CSV_COLUMNS,
          },
        )
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(request.query)
      const cursor = decodeCursor(request.query.cursor, LIST_ORDER, isValueIdKey(cursorPart.timestamp), {
        backward: true,
      })
      const rows = await tombstones.listTombstones(request.readDb, request.query, {
        limit,
        after: cursor?.key as TombstoneListKey | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (row) => row.tombstone,
        (row) => ({ sort: LIST_ORDER, key: row.key }),
        cursor,
      )
      const { count } = request.query
      if (count === undefined) return page
      return { ...page, ...(await tombstones.countTombstones(request.readDb, request.query, count)) }
    },
  )
}

export default tombstoneRoutes
