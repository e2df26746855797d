import type { FastifyReply, FastifyRequest } from 'fastify'
import { invalidField } from '../errors/problems.js'
import { isStorableInstant, isUuid, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from '../schemas/common.schema.js'

/**
 * The page size asked for: `limit` is optional in the schema, and validation fills in its default. A list that
 * exports takes a larger `limit` for its exports, but a page never holds more than PAGE_LIMIT_MAX.
 */
export function pageLimit(query: { limit?: number }): number {
  const limit = query.limit ?? PAGE_LIMIT_DEFAULT
  if (limit > PAGE_LIMIT_MAX) {
    throw invalidField(
      'query',
      'limit',
      `must be at most ${PAGE_LIMIT_MAX} for a page; only a CSV or NDJSON export takes more`,
    )
  }
  return limit
}

/**
 * Keyset pagination. A cursor is the sort key of the last item of a page (and the sort it belongs to), encoded
 * as base64url JSON. It is opaque to clients: they pass back what they were given, and anything else is a 400.
 */
export interface Cursor {
  sort: string
  key: Array<string | number>
  /** A `prev_cursor`: the page before this key, not after it. */
  backward?: boolean
}

/** A backward cursor names its sort with this suffix, so that a list that cannot page back refuses it. */
const BACKWARD = ':prev'

export function encodeCursor(cursor: Cursor): string {
  const sort = cursor.backward ? `${cursor.sort}${BACKWARD}` : cursor.sort
  return Buffer.from(JSON.stringify([sort, ...cursor.key])).toString('base64url')
}

/** `isValidKey` checks the decoded key's parts (a timestamp, a uuid), so a tampered cursor is a 400, not a 500. */
export function decodeCursor(
  text: string | undefined,
  sort: string,
  isValidKey: (key: Array<string | number>) => boolean,
  options: { backward?: boolean } = {},
): Cursor | undefined {
  if (text === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length < 2 ||
    !parsed.every((part) => typeof part === 'string' || (typeof part === 'number' && Number.isFinite(part))) ||
    !isValidKey(parsed.slice(1))
  ) {
    throw invalidField('query', 'cursor', 'is not a cursor this API issued; pass next_cursor back unchanged')
  }
  const [cursorSort, ...key] = parsed as Array<string | number>
  if (options.backward && cursorSort === `${sort}${BACKWARD}`) return { sort, key, backward: true }
  if (cursorSort !== sort) {
    throw invalidField('query', 'cursor', `belongs to sort ${String(cursorSort)}, not ${sort}`)
  }
  return { sort, key }
}

/**
 * Checks for the parts of a cursor key, strict enough that whatever passes is also valid to the database: only
 * the exact forms the API itself issues, and only values the column type can hold.
 */
export const cursorPart = {
  /** A timestamp as `toISOString()` writes it. */
  timestamp: (value: unknown): value is string =>
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) &&
    isStorableInstant(Date.parse(value)) &&
    new Date(value).toISOString() === value,
  /** A text-search rank: a PostgreSQL `real`, which holds 0 and normal numbers, not the subnormal ones. */
  rank: (value: unknown): value is number =>
    typeof value === 'number' && (value === 0 || (value >= 1.18e-38 && value <= 3.4e38)),
  /** A positive PostgreSQL `integer`. */
  positiveInteger: (value: unknown): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2_147_483_647,
}

/**
 * The key of a list sorted by one value with the id breaking ties: `[value, id]` and nothing more, the value
 * passing `valueFits` (one of `cursorPart`) and the id a uuid.
 */
export const isValueIdKey =
  (valueFits: (value: unknown) => boolean) =>
  (key: Array<string | number>): boolean =>
    key.length === 2 && valueFits(key[0]) && isUuid(key[1])

/**
 * Answers with a page: `{ data, next_cursor }` and, when there is a next page, a `Link: <…>; rel="next"` header
 * holding the request's own path and query with the new cursor.
 * `rows` holds up to limit + 1 items: the extra one only tells that another page exists.
 */
export function sendPage<Row, Item>(
  request: FastifyRequest,
  reply: FastifyReply,
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => Cursor,
) {
  const hasMore = rows.length > limit
  const pageRows = hasMore ? rows.slice(0, limit) : rows
  const last = pageRows.at(-1)
  const nextCursor = hasMore && last !== undefined ? encodeCursor(cursorOf(last)) : null
  if (nextCursor !== null) {
    const url = new URL(request.url, 'http://localhost')
    url.searchParams.set('cursor', nextCursor)
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`)
  }
  return { data: pageRows.map(toItem), next_cursor: nextCursor }
}

/**
 * Answers with a page of a list that pages both ways: `{ data, next_cursor, prev_cursor }`, with `Link` naming
 * `next` and `prev` when there are such pages. Going back is the same keyset query in the opposite order from the
 * first row: `rows` then come in reverse, up to limit + 1 of them, the extra one telling that more pages precede.
 */
export function sendTwoWayPage<Row, Item>(
  request: FastifyRequest,
  reply: FastifyReply,
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => Cursor,
  cursor: Cursor | undefined,
) {
  const backward = cursor?.backward === true
  const hasMore = rows.length > limit
  const pageRows = hasMore ? rows.slice(0, limit) : rows
  if (backward) pageRows.reverse()
  const first = pageRows.at(0)
  const last = pageRows.at(-1)
  // Forward, a page reached by a cursor has the rows before it; backward, the page came from the rows after it.
  const hasNext = backward ? last !== undefined : hasMore
  const hasPrev = backward ? hasMore : cursor !== undefined
  const nextCursor = hasNext && last !== undefined ? encodeCursor(cursorOf(last)) : null
  const prevCursor = hasPrev && first !== undefined ? encodeCursor({ ...cursorOf(first), backward: true }) : null
  const links: string[] = []
  for (const [rel, value] of [
    ['next', nextCursor],
    ['prev', prevCursor],
  ] as const) {
    if (value === null) continue
    const url = new URL(request.url, 'http://localhost')
    url.searchParams.set('cursor', value)
    links.push(`<${url.pathname}${url.search}>; rel="${rel}"`)
  }
  if (links.length > 0) reply.header('link', links.join(', '))
  return { data: pageRows.map(toItem), next_cursor: nextCursor, prev_cursor: prevCursor }
}

/**
 * A record's history is paged by version number, newest first: the version a page starts below, from a cursor
 * of that history's `order`.
 */
export function versionBelow(cursor: string | undefined, order: string): number | undefined {
  const decoded = decodeCursor(cursor, order, (key) => key.length === 1 && cursorPart.positiveInteger(key[0]))
  return decoded?.key[0] as number | undefined
}

/** A page of a record's history, its next cursor the version number of its last entry. */
export function sendHistoryPage<Version extends { version: number }>(
  request: FastifyRequest,
  reply: FastifyReply,
  versions: Version[],
  limit: number,
  order: string,
) {
  return sendPage(
    request,
    reply,
    versions,
    limit,
    (version) => version,
    (version) => ({ sort: order, key: [version.version] }),
  )
}
