import { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { invalidField } from '../errors/problems.js'
import type { CsvColumn } from '../schemas/export.schema.js'
import { type ListFormat, MEDIA_TYPES } from '../schemas/list-format.schema.js'
import type { ConcurrencySlots } from './concurrency-slots.js'
import { varyOn } from './vary.js'

/** In the order that wins a tie: `*∕*`, or no Accept at all, is the JSON page. */
const NEGOTIATED = [MEDIA_TYPES.json, 'text/csv', MEDIA_TYPES.ndjson]

/**
 * The representation a list is asked in: `format` when given (whatever Accept says), else the best of Accept. An
 * Accept that allows none of them was answered 406 before the route ran (the content-negotiation plugin).
 */
export function listFormat(request: FastifyRequest, format: ListFormat | undefined): ListFormat {
  if (format !== undefined) return format
  const accept = request.headers.accept
  if (accept === undefined || accept === '*/*' || accept === MEDIA_TYPES.json) return 'json'
  switch (request.accepts().type(NEGOTIATED)) {
    case 'text/csv':
      return 'csv'
    case MEDIA_TYPES.ndjson:
      return 'ndjson'
    default:
      return 'json'
  }
}

/**
 * An export holds every matching item, or with `limit` the first N, so a cursor would silently mean nothing: it is
 * refused. `limit` is looked for in the query as sent, since validation fills in the page's default.
 */
export function exportLimit(request: FastifyRequest & { query: { limit?: number } }): number | undefined {
  const queryStart = request.url.indexOf('?')
  const sent = new URLSearchParams(queryStart < 0 ? '' : request.url.slice(queryStart + 1))
  if (sent.has('cursor')) {
    throw invalidField('query', 'cursor', 'pages the JSON list; a CSV or NDJSON export has every matching item')
  }
  if (sent.has('count')) {
    throw invalidField('query', 'count', 'counts for the JSON page; a CSV or NDJSON export is counted by its rows')
  }
  return sent.has('limit') ? request.query.limit : undefined
}

/** What the list routes need to know to export. */
export interface ExportRouteOptions {
  /** How long one export may run in all (EXPORT_TIMEOUT_MS). */
  exportTimeoutMs: number
  /** How long a send may make no progress before the export is ended (EXPORT_STALL_TIMEOUT_MS). */
  exportStallTimeoutMs: number
  exportSlots: ConcurrencySlots
}

export interface ExportOptions<Item> {
  format: 'csv' | 'ndjson'
  slots: ConcurrencySlots
  /** How long the client may take nothing before the response is ended and its slot freed. */
  stallTimeoutMs: number
  /** The file name offered for a CSV download, without its extension. */
  name: string
  columns: CsvColumn<Item>[]
  /** Only the first so many items (`limit`); the rest are never read. */
  limit?: number
}

/** Items encoded together into one chunk of the body, so that the cost of a chunk is spread over many rows. */
const BATCH_ITEMS = 500
/** What the body holds ready for the socket before it stops reading rows: the rest waits in the database. */
const BUFFER_BYTES = 64 * 1024

/**
 * Streams `items` as CSV or NDJSON, read only as fast as the client takes them. The first item is awaited
 * before anything is sent, so that a failure to start (no free connection) is still a problem answer; after
 * the first byte a failure can only cut the response off: the socket is closed without the final chunk, so the
 * client sees a truncated transfer instead of a well-formed partial file. A client that goes away ends the
 * iteration, which closes the cursor and gives its connection back.
 */
export function sendExport<Item>(
  request: FastifyRequest,
  reply: FastifyReply,
  items: AsyncIterable<Item>,
  options: ExportOptions<Item>,
) {
  const encoder = options.format === 'csv' ? csvEncoder(options.columns) : ndjsonEncoder<Item>()
  const limited = options.limit === undefined ? items : firstItems(items, options.limit)
  return streamExport(request, reply, limited, encoder, options)
}

/**
 * Streams an export that arrives already written, as the database wrote it (its header, if any, in the first
 * piece): as sendExport, each piece passed on as it is.
 */
export function sendWrittenExport(
  request: FastifyRequest,
  reply: FastifyReply,
  pieces: AsyncIterable<string>,
  options: Omit<ExportOptions<string>, 'columns' | 'limit'>,
) {
  return streamExport(request, reply, pieces, WRITTEN, options)
}

async function streamExport<Item>(
  request: FastifyRequest,
  reply: FastifyReply,
  items: AsyncIterable<Item>,
  encode: Encoder<Item>,
  options: Pick<ExportOptions<Item>, 'format' | 'slots' | 'stallTimeoutMs' | 'name'>,
) {
  varyOn(reply, 'Accept')
  reply.type(MEDIA_TYPES[options.format])
  if (options.format === 'csv') reply.header('content-disposition', `attachment; filename="${options.name}.csv"`)
  // A HEAD asks for the headers only: the rows are never read (Fastify would read a stream body to its end).
  if (request.method === 'HEAD') return reply.send()

  const giveSlotBack = options.slots.take()
  const iterator = items[Symbol.asyncIterator]()
  let first: IteratorResult<Item>
  try {
    first = await iterator.next()
  } catch (error) {
    giveSlotBack()
    throw error
  }

  async function* chunks(): AsyncGenerator<string> {
    try {
      if (encode.head !== '') yield encode.head
      if (first.done) return
      let batch: Item[] = [first.value]
      for (;;) {
        const next = await iterator.next()
        if (next.done) break
        batch.push(next.value)
        if (batch.length >= encode.batchItems) {
          const text = encode.items(batch)
          batch = []
          // A chunk the database wrote may hold no rows: nothing to send.
          if (text !== '') yield text
        }
      }
      if (batch.length > 0) {
        const text = encode.items(batch)
        if (text !== '') yield text
      }
    } catch (error) {
      request.log.error({ err: error }, 'export failed after its first byte; the response is cut off')
      throw error
    } finally {
      // As soon as the rows are read, not when the response closes later: a client that reads an export to its
      // end and asks for the next at once finds the slot free.
      giveSlotBack()
    }
  }

  const body = Readable.from(chunks(), { objectMode: false, highWaterMark: BUFFER_BYTES })
  // Whether the body ended, failed or was abandoned, the items are given up; for an iteration that already
  // ended this does nothing. The body may never be read at all when the client left while the first item came.
  body.once('close', () => {
    giveSlotBack()
    iterator.return?.().catch((error: unknown) => request.log.warn({ err: error }, 'closing an export failed'))
  })
  if (request.raw.destroyed) body.destroy()
  endWhenStalled(request, reply, options.stallTimeoutMs)
  return reply.send(body)
}

/**
 * A client that stops reading leaves the socket silent: nothing more can be written to it. After `stallTimeoutMs`
 * of that the response is ended, which ends the export and frees its slot, instead of holding it until the
 * client leaves. Only on a real socket: an injected request has none, and nothing to stall.
 */
function endWhenStalled(request: FastifyRequest, reply: FastifyReply, stallTimeoutMs: number) {
  if (!(request.raw.socket instanceof Socket)) return
  reply.raw.setTimeout(stallTimeoutMs, () => {
    request.log.warn({ stallTimeoutMs }, 'export client took nothing for too long; the response is ended')
    reply.raw.destroy()
  })
}

export interface Encoder<Item> {
  head: string
  /** How many items are encoded together into one piece of the body. */
  batchItems: number
  items(batch: Item[]): string
}

/** Pieces already written pass as they are, one by one. */
const WRITTEN: Encoder<string> = { head: '', batchItems: 1, items: (batch) => batch.join('') }

/** RFC 4180: CRLF after every record, and fields holding a quote, comma, CR or LF quoted, quotes doubled. */
export function csvEncoder<Item>(columns: CsvColumn<Item>[]): Encoder<Item> {
  // csv-stringify quotes a field holding the record delimiter, CRLF, but not one holding a bare CR or LF, which
  // RFC 4180 allows only inside quotes (and which a spreadsheet would take for the end of the row).
  const options = { record_delimiter: 'windows' as const, quoted_match: /[\r\n]/ }
  return {
    head: stringify([columns.map((column) => column.name)], options),
    batchItems: BATCH_ITEMS,
    items: (batch) =>
      stringify(
        batch.map((item) => columns.map((column) => spreadsheetSafe(column.value(item) ?? ''))),
        options,
      ),
  }
}

/**
 * Text that a spreadsheet would take for a formula (starting with =, +, -, @, a tab or a carriage return) gets a
 * leading apostrophe, as OWASP advises against CSV injection: claims are written by anyone with a key, and the
 * CSV is meant to be opened in spreadsheets. Numbers (a negative latitude) are left as they are.
 */
function spreadsheetSafe(value: unknown): unknown {
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
}

function ndjsonEncoder<Item>(): Encoder<Item> {
  return {
    head: '',
    batchItems: BATCH_ITEMS,
    items: (batch) => {
      let text = ''
      for (const item of batch) text += `${JSON.stringify(item)}\n`
      return text
    },
  }
}

/** The first `count` of `items`: leaving the loop early closes the iteration, and so the cursor reading them. */
async function* firstItems<T>(items: AsyncIterable<T>, count: number): AsyncIterable<T> {
  let taken = 0
  for await (const item of items) {
    yield item
    if (++taken >= count) return
  }
}

/** Items already in memory (a matrix, a table), as the async iterable an export streams. */
export async function* toAsync<T>(items: T[]): AsyncIterable<T> {
  yield* items
}
