import createClient, { type Client, type ClientOptions } from 'openapi-fetch'
import type { components, paths } from './schema.js'

export type { components, operations, paths } from './schema.js'

/**
 * The typed Counterclaim client: openapi-fetch over the types openapi-typescript generates from the OpenAPI
 * document (src/schema.ts), and the few things a generator does not give: the API key on every request, problem
 * answers as exceptions (`unwrap`), ETags (`versioned`, `ifMatch`, `updateIfUnchanged`, `refresh`) and
 * cursor iteration over lists (`pages`, `items`).
 */
export type CounterclaimClient = Client<paths, JsonMedia>

/**
 * The media types the client reads: JSON and problems. A list's CSV and NDJSON are asked for with
 * `format: 'csv'` and `parseAs: 'text'`, and read as a string.
 */
type JsonMedia = 'application/json' | 'application/problem+json'

/** An RFC 9457 problem, as every 4xx and 5xx of the service is. */
export type Problem = components['schemas']['Problem']
/** The stable, machine-readable codes of problems (docs/errors.md). */
export type ProblemCode = Problem['code']

export interface CounterclaimOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the service is, such as `https://counterclaim.example` (no trailing `/v1`). */
  baseUrl: string
  /** An API key (`cck_…`), sent as a bearer token: writes need one, reads only when the server says so. */
  apiKey?: string
}

/** What openapi-fetch answers: data on a 2xx, error (the parsed body) otherwise, and the response either way. */
export type FetchResult<T = unknown> =
  { data: T; error?: never; response: Response } | { data?: never; error: unknown; response: Response }

/** The data of a result's 2xx branch. */
export type DataOf<R> = R extends { data: infer D } ? D : never

/** A record read with its entity tag: what a conditional write (`ifMatch`) is based on. */
export interface Versioned<T> {
  value: T
  etag: string
}

/** A page of a list: its items in `data`, and the cursor of the next page while there is one. */
export interface Page<T> {
  data: T[]
  next_cursor?: string | null
}

/** The service answered with a problem (any status from 400): its fields, typed, and the response. */
export class ProblemError extends Error {
  readonly status: number
  readonly code: ProblemCode | undefined
  readonly type: string
  readonly title: string
  readonly detail: string | undefined
  /** For validation failures: every bad field, where it was (body, query, path, header) and what is wrong. */
  readonly errors: NonNullable<Problem['errors']>
  /** The whole problem as the service sent it (duplicate-claim adds `duplicates`, for one). */
  readonly problem: Partial<Problem> & Record<string, unknown>
  readonly response: Response

  constructor(response: Response, body: unknown) {
    const problem = isObject(body) ? (body as Partial<Problem> & Record<string, unknown>) : {}
    const title = typeof problem.title === 'string' ? problem.title : response.statusText || `HTTP ${response.status}`
    const detail = typeof problem.detail === 'string' ? problem.detail : undefined
    super(detail === undefined ? `${response.status} ${title}` : `${response.status} ${title}: ${detail}`)
    this.name = 'ProblemError'
    this.status = typeof problem.status === 'number' ? problem.status : response.status
    this.code = typeof problem.code === 'string' ? problem.code : undefined
    this.type = typeof problem.type === 'string' ? problem.type : 'about:blank'
    this.title = title
    this.detail = detail
    this.errors = Array.isArray(problem.errors) ? problem.errors : []
    this.problem = problem
    this.response = response
  }
}

/**
 * A PATCH or DELETE with If-Match found the record changed since that ETag (412): nothing was changed. `current`
 * is the record as it is now, with its ETag, as the 412 carried it: to show the user both versions, or to retry on
 * top of it.
 */
export class PreconditionFailedError<T = unknown> extends ProblemError {
  readonly current: Versioned<T> | undefined

  constructor(response: Response, body: unknown, current: Versioned<T> | undefined) {
    super(response, body)
    this.name = 'PreconditionFailedError'
    this.current = current
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The current version a 412 carries: the service answers it with the record as it is now (`current`) and that
 * version's entity tag (`current_etag`, also the ETag header).
 */
function currentOf(response: Response, body: unknown): Versioned<unknown> | undefined {
  if (!isObject(body) || !isObject(body.current)) return undefined
  const etag = typeof body.current_etag === 'string' ? body.current_etag : response.headers.get('etag')
  return etag === null ? undefined : { value: body.current, etag }
}

/** A client for one service; `apiKey` is sent with every request. */
export function createCounterclaimClient(options: CounterclaimOptions): CounterclaimClient {
  const { apiKey, baseUrl, headers, ...rest } = options
  const client = createClient<paths, JsonMedia>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }), ...toRecord(headers) },
  })
  return client
}

function toRecord(headers: CounterclaimOptions['headers']): Record<string, string> {
  if (headers === undefined) return {}
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(new Headers(headers))
  const record: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === null || value === undefined) continue
    record[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return record
}

/**
 * The data of a 2xx answer; any other answer is thrown: a `PreconditionFailedError` for a 412, a `ProblemError`
 * otherwise. `await unwrap(client.GET('/v1/claims/{id}', { params: { path: { id } } }))` is the claim.
 */
export async function unwrap<R extends FetchResult>(call: Promise<R>): Promise<DataOf<R>> {
  const result = await call
  if (result.error === undefined && result.response.ok) return result.data as DataOf<R>
  throw problemOf(result.response, result.error)
}

function problemOf(response: Response, body: unknown): ProblemError {
  if (response.status === 412) return new PreconditionFailedError(response, body, currentOf(response, body))
  return new ProblemError(response, body)
}

/** A record read with its ETag, kept to send back in If-Match (`ifMatch`) with a later PATCH or DELETE. */
export async function versioned<R extends FetchResult>(call: Promise<R>): Promise<Versioned<DataOf<R>>> {
  const result = await call
  const value = await unwrap(Promise.resolve(result))
  const etag = result.response.headers.get('etag')
  if (etag === null) throw new Error(`${result.response.url} answered without an ETag`)
  return { value, etag }
}

/**
 * The header of a write that applies only if the record is unchanged since `copy` was read:
 * `client.PATCH('/v1/claims/{id}', { params: { path: { id }, header: ifMatch(copy) }, body })`.
 */
export function ifMatch(copy: { etag: string }): { 'if-match': string } {
  return { 'if-match': copy.etag }
}

/**
 * A write that applies only if the record is unchanged since `copy` was read: the record as the write left it,
 * with its new ETag, or a `PreconditionFailedError<T>` carrying the current version.
 */
export async function updateIfUnchanged<T, R extends FetchResult>(
  copy: Versioned<T>,
  write: (header: { 'if-match': string }) => Promise<R>,
): Promise<Versioned<DataOf<R>>> {
  return versioned(write(ifMatch(copy)))
}

/**
 * A record read again only if it changed: the read is sent with If-None-Match and the copy's ETag, and a 304 gives
 * the copy back (`changed: false`) without a body; otherwise the new version and its ETag (`changed: true`).
 * `refresh(copy, (header) => client.GET('/v1/claims/{id}', { params: { path: { id }, header } }))`.
 */
export async function refresh<R extends FetchResult>(
  copy: Versioned<DataOf<R>>,
  read: (header: { 'if-none-match': string }) => Promise<R>,
): Promise<Versioned<DataOf<R>> & { changed: boolean }> {
  const result = await read({ 'if-none-match': copy.etag })
  if (result.response.status === 304) return { ...copy, changed: false }
  return { ...(await versioned(Promise.resolve(result))), changed: true }
}

/**
 * Every page of a list, first to last, following `next_cursor`: `fetchPage` is called with undefined for the
 * first page and with the cursor of the page before for each next one. A problem answer is thrown (`unwrap`).
 */
export async function* pages<R extends FetchResult<Page<unknown>>>(
  fetchPage: (cursor: string | undefined) => Promise<R>,
): AsyncGenerator<DataOf<R>, void, undefined> {
  let cursor: string | undefined
  do {
    const page: DataOf<R> = await unwrap(fetchPage(cursor))
    yield page
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
}

/**
 * Every item of a list, across its pages (see `pages`):
 * `for await (const claim of items((cursor) => client.GET('/v1/claims', { params: { query: { cursor } } })))`.
 */
export async function* items<R extends FetchResult<Page<unknown>>>(
  fetchPage: (cursor: string | undefined) => Promise<R>,
): AsyncGenerator<DataOf<R>['data'][number], void, undefined> {
  for await (const page of pages(fetchPage)) yield* page.data as Array<DataOf<R>['data'][number]>
}

/** One line of an import (NDJSON): a party, event, claim, link, review or deletion, as the document types it. */
export type ImportLine = paths['/v1/import']['post']['requestBody']['content']['application/x-ndjson']
type ImportQuery = NonNullable<paths['/v1/import']['post']['parameters']['query']>

/**
 * POST /v1/import with many lines: the document types the body as one line, and openapi-fetch would send it as
 * JSON; this sends them as NDJSON, one per line, and answers what the import did (a problem is thrown).
 */
export async function importLines(
  client: CounterclaimClient,
  lines: readonly ImportLine[],
  query: ImportQuery = {},
  header: { 'idempotency-key'?: string } = {},
) {
  return unwrap(
    client.POST('/v1/import', {
      params: { query, header },
      // The lines travel as the one body the document types; the serializer writes each on its own line.
      body: lines as unknown as ImportLine,
      bodySerializer: (body) => (body as unknown as ImportLine[]).map((line) => JSON.stringify(line)).join('\n') + '\n',
      headers: { 'content-type': 'application/x-ndjson' },
    }),
  )
}
