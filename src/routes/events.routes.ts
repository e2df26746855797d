import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { sendRepresentation } from '../http/conditional-requests.js'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport, toAsync } from '../http/export.js'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import { varyOn } from '../http/vary.js'
import { versionedRoutes } from '../http/versioned-routes.js'
import {
  ConditionalReadHeaders,
  CountedPage,
  NotModified,
  problemResponses,
  resourceHeaders,
} from '../schemas/common.schema.js'
import {
  CreateEventBody,
  EventListQuery,
  EventParams,
  EventSchema,
  EventVersionSchema,
  UpdateEventBody,
} from '../schemas/event.schema.js'
import { EventFiguresQuery, EventFiguresSchema } from '../schemas/event-figures.schema.js'
import { EVENT_CSV_COLUMNS, EVENT_FIGURE_CSV_COLUMNS, listRepresentations } from '../schemas/export.schema.js'
import * as events from '../services/event.service.js'
import type { EventListKey } from '../services/event.service.js'

const EventRef = Type.Ref(EventSchema)
const LIST_ORDER = '-starts_at'
const HISTORY_ORDER = 'event-versions'

const eventRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.post(
    '/v1/events',
    {
      schema: {
        operationId: 'createEvent',
        summary: 'Create an event',
        description: 'An incident that claims are about; a claim names it in its `event`.',
        tags: ['events'],
        body: CreateEventBody,
        response: {
          201: Type.Ref(EventSchema, {
            description: 'The event was created; Location names it.',
            ...resourceHeaders('event', { created: true }),
          }),
          ...problemResponses(400, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const event = await events.createEvent(fastify.db, request.body, request.apiKey?.id ?? null)
      reply.code(201).header('location', `/v1/events/${event.id}`)
      return sendRepresentation(request, reply, event)
    },
  )

  fastify.get(
    '/v1/events',
    {
      schema: {
        operationId: 'listEvents',
        summary: 'List events, latest begun first',
        tags: ['events'],
        querystring: EventListQuery,
        response: {
          200: listRepresentations(CountedPage(EventRef, 'EventPage'), EVENT_CSV_COLUMNS, 'event'),
          ...problemResponses(400, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const query = request.query
      const format = listFormat(request, query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const items = await events.exportEvents(request.readDb, query, options.exportTimeoutMs)
        return sendExport(request, reply, items, {
          format,
          limit: first,
          slots: options.exportSlots,
          stallTimeoutMs: options.exportStallTimeoutMs,
          name: 'events',
          columns: EVENT_CSV_COLUMNS,
        })
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(query)
      const cursor = decodeCursor(query.cursor, LIST_ORDER, isValueIdKey(cursorPart.timestamp), { backward: true })
      const rows = await events.listEvents(request.readDb, query, {
        limit,
        after: cursor?.key as EventListKey | undefined,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (event) => event,
        (event) => ({ sort: LIST_ORDER, key: [event.starts_at, event.id] }),
        cursor,
      )
      if (query.count === undefined) return page
      return { ...page, ...(await events.countEvents(request.readDb, query, query.count)) }
    },
  )

  fastify.get(
    '/v1/events/:event',
    {
      schema: {
        operationId: 'getEvent',
        summary: 'Get an event by id or slug',
        description:
          'With its live claims counted. Its claims are at /v1/claims?event=…, its disputes at /v1/disputes?event=….',
        tags: ['events'],
        params: EventParams,
        headers: ConditionalReadHeaders,
        response: {
          200: Type.Ref(EventSchema, { description: 'The event.', ...resourceHeaders('event') }),
          304: NotModified,
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      const event = await events.getEvent(request.readDb, request.params.event)
      return sendRepresentation(request, reply, event)
    },
  )

  fastify.get(
    '/v1/events/:event/figures',
    {
      schema: {
        operationId: 'getEventFigures',
        summary: 'The contested quantities of an event',
        description:
          'For each measure that the live claims about the event state: each party’s latest figure and the others ' +
          'it stated, each with its claim and that claim’s standing (a corrected figure shows as `corrected`), and ' +
          'the spread between the parties’ latest figures.',
        tags: ['events'],
        params: EventParams,
        querystring: EventFiguresQuery,
        headers: ConditionalReadHeaders,
        response: {
          200: {
            description:
              'The table: as JSON, or as CSV (Accept, or the format parameter), one row per figure, each party’s ' +
              'latest first.',
            headers: {
              etag: {
                type: 'string',
                required: true,
                description: 'The entity tag of this answer, for If-None-Match.',
              },
              vary: { type: 'string', description: 'Accept: the representation depends on it.' },
              'content-disposition': { type: 'string', description: 'CSV only: `attachment; filename="…"`.' },
            },
            content: {
              'application/json': { schema: Type.Ref(EventFiguresSchema) },
              'text/csv': {
                schema: {
                  type: 'string',
                  description: `RFC 4180, CRLF line ends, a header row, then one row per figure: ${EVENT_FIGURE_CSV_COLUMNS.map((c) => c.name).join(', ')}.`,
                },
              },
            },
          },
          304: NotModified,
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      const table = await events.getEventFigures(request.readDb, request.params.event)
      varyOn(reply, 'Accept')
      const csv =
        request.query.format === 'csv' ||
        (request.query.format === undefined && request.accepts().type(['application/json', 'text/csv']) === 'text/csv')
      if (!csv) return sendRepresentation(request, reply, table)
      sendRepresentation(request, reply, { csv: true, ...table })
      if (reply.statusCode === 304) return reply
      return sendExport(request, reply, toAsync(events.eventFigureRows(table)), {
        format: 'csv',
        slots: options.exportSlots,
        stallTimeoutMs: options.exportStallTimeoutMs,
        name: `figures-${table.event.slug}`,
        columns: EVENT_FIGURE_CSV_COLUMNS,
      })
    },
  )

  versionedRoutes(fastify, {
    name: 'event',
    path: '/v1/events/:event',
    params: EventParams,
    key: 'event',
    tag: 'events',
    schema: EventSchema,
    update: {
      summary: 'Change an event',
      description:
        'A JSON Merge Patch (sent as application/json or application/merge-patch+json). Every change makes a ' +
        'new version (see /history). With If-Match, the change applies only if the event is unchanged since that ' +
        'ETag (else 412).',
      edited: 'The event as changed.',
      body: UpdateEventBody,
      problems: [400, 404, 409, 410, 412, 413, 415, 422, 503],
      apply: events.updateEvent,
    },
    delete: {
      description:
        'Refused (409, naming how many) while live claims are about the event: set their event to another or to ' +
        'null, or delete them, first. With If-Match, applies only if the event is unchanged since that ETag ' +
        '(else 412).',
      problems: [400, 404, 409, 410, 412, 503],
      apply: events.deleteEvent,
    },
    history: { version: EventVersionSchema, order: HISTORY_ORDER, list: events.listEventHistory },
  })
}

export default eventRoutes
