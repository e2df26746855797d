import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport } from '../http/export.js'
import { cursorPart, decodeCursor, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import { varyOn } from '../http/vary.js'
import { CountedPage, isUuid, problemResponses } from '../schemas/common.schema.js'
import { FIGURE_CSV_COLUMNS, listRepresentations } from '../schemas/export.schema.js'
import { FigureListQuery, StatedFigureSchema } from '../schemas/figure.schema.js'
import * as figures from '../services/figure.service.js'
import type { FigureListKey } from '../services/figure.service.js'

const LIST_ORDER = 'figures:-stated_at'

/** A figure's cursor key: its claim's stated_at and id, and its place among the claim's figures (a smallint). */
const isFigureKey = (key: Array<string | number>) =>
  key.length === 3 &&
  cursorPart.timestamp(key[0]) &&
  isUuid(key[1]) &&
  typeof key[2] === 'number' &&
  Number.isInteger(key[2]) &&
  key[2] >= 0 &&
  key[2] <= 32767

const figureRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.get(
    '/v1/figures',
    {
      schema: {
        operationId: 'listFigures',
        summary: 'List the figures that live claims state, latest stated claim first',
        description:
          'One item per figure (a claim stating three figures gives three), with the claim, its party, when it ' +
          "was stated and its standing; each claim's figures in their order. As CSV, one row per figure.",
        tags: ['claims'],
        querystring: FigureListQuery,
        response: {
          200: listRepresentations(
            CountedPage(Type.Ref(StatedFigureSchema), 'StatedFigurePage'),
            FIGURE_CSV_COLUMNS,
            'figure',
          ),
          ...problemResponses(400, 422, 503),
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
          await figures.exportFigures(request.readDb, request.query, options.exportTimeoutMs),
          {
            format,
            limit: first,
            slots: options.exportSlots,
            stallTimeoutMs: options.exportStallTimeoutMs,
            name: 'figures',
            columns: FIGURE_CSV_COLUMNS,
          },
        )
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(request.query)
      const cursor = decodeCursor(request.query.cursor, LIST_ORDER, isFigureKey, { backward: true })
      const rows = await figures.listFigures(request.readDb, request.query, {
        limit,
        after: cursor?.key as FigureListKey | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (row) => row.figure,
        (row) => ({ sort: LIST_ORDER, key: row.key }),
        cursor,
      )
      const { count } = request.query
      if (count === undefined) return page
      return { ...page, ...(await figures.countFigures(request.readDb, request.query, count)) }
    },
  )
}

export default figureRoutes
