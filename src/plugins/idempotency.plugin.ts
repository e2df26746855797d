import { createHash, randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError, invalidField, RETRY_AFTER_SECONDS } from '../errors/problems.js'
import {
  claimKey,
  completeKey,
  deleteExpiredRecords,
  type ExistingRecord,
  type IdempotencyAttempt,
  releaseKey,
  renewLease,
} from '../repositories/idempotency.repository.js'
import { problemResponses, ProblemRef } from '../schemas/common.schema.js'

/**
 * How a route's body takes part in the fingerprint of a request: `parsed`, the JSON body Fastify parsed and
 * validated (the key is claimed just before the handler); `read-by-handler`, a body the handler reads itself,
 * which claims the key with `fastify.claimIdempotencyKey` once it has the body's digest.
 */
export type IdempotentBody = 'parsed' | 'read-by-handler'

declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key the request sent, unquoted, on a route that takes one; null when it sent none. */
    idempotencyKey: string | null
  }
  interface FastifyInstance {
    /**
     * For a route whose handler reads the body itself: claims the request's Idempotency-Key, if it sent one,
     * by the SHA-256 of the body as received. True: go on and do the work. False: the answer to an earlier
     * request with the same key and body was sent instead, and the handler must do nothing more. Throws the
     * problem to answer when the key is in use or was used for another request.
     */
    claimIdempotencyKey(request: FastifyRequest, reply: FastifyReply, bodySha256: Buffer): Promise<boolean>
  }
  interface FastifyContextConfig {
    /** Set by the idempotency plugin on every POST route that needs a key; a route may set `read-by-handler`. */
    idempotentBody?: IdempotentBody
  }
}

export interface IdempotencyOptions {
  /** False only in the benchmark's breakdown (see buildApp's `without`): routes are documented, keys ignored. */
  hooks?: boolean
  /** How long a completed request's answer is kept for its retries. */
  ttlHours: number
  /**
   * How long a running request holds its key without renewing it. It renews it every third of this while it
   * runs, so only a request whose process died lets its lease run out; a retry may then take the key over.
   */
  leaseMs: number
}

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'
export const REPLAYED_HEADER = 'idempotent-replayed'

/** The headers of an answer that its replay repeats; the others (request id, rate limits) are the replay's own. */
const REPLAYED_RESPONSE_HEADERS = ['content-type', 'location', 'etag', 'claim-etag', 'link', 'preference-applied']

/**
 * The key as the draft writes it, a Structured Fields string (`"…"`, with `\"` and `\\` escaped), or bare, as
 * many clients send it: printable ASCII either way, 1 to 255 characters once unquoted. A bare key cannot start
 * with a quote, so that the two forms never read one value two ways.
 */
const KEY_PATTERN =
  '^(?:[\\x21\\x23-\\x7E][\\x20-\\x7E]{0,254}|"(?:[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\\\"]){1,255}")$'
const KEY_SHAPE = new RegExp(KEY_PATTERN, 'u')
const KEY_RULE = 'must be 1 to 255 printable ASCII characters, bare or as a quoted string ("…"), sent once'

const KEY_HEADER_SCHEMA = {
  type: 'string',
  pattern: KEY_PATTERN,
  description:
    'Makes the request safe to retry: a retry with the same key and the same request gets the first answer ' +
    'again (with `Idempotent-Replayed: true`) instead of running twice. Keys belong to the API key that sends ' +
    'them and are kept at least 24 hours. The same key with another request is refused (422); a retry while ' +
    'the first request still runs too (409, with Retry-After). 1 to 255 printable ASCII characters, bare or as ' +
    'a Structured Fields string ("…"); a UUID is a good key.',
}

const REPLAYED_HEADER_SCHEMA = {
  title: 'IdempotentReplayed',
  type: 'string',
  enum: ['true'],
  description:
    'Present on a replay: this is the stored answer to an earlier request with the same Idempotency-Key and ' +
    'body, which did not run again. Its ETag is the one of that answer.',
}

const RETRY_AFTER_HEADER_SCHEMA = {
  type: 'integer',
  minimum: 0,
  description: 'When the Idempotency-Key is in use by a request still running: seconds to wait before retrying.',
}

const IN_USE_409 =
  'With an Idempotency-Key: a request with the same key is still running (retry after Retry-After seconds), ' +
  'or the request was already applied and its answer is not kept (answers holding a secret shown only once).'
const REUSED_422 = 'With an Idempotency-Key: the key was already used for another request (another body or target).'

/** JSON with the members of every object in name order, so that the same body always reads the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>
    const members = Object.keys(object)
      .filter((name) => object[name] !== undefined)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonicalJson(object[name])}`)
    return `{${members.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * What a retry must repeat to be the same request: the method, the route with its path parameters, the query
 * (as validated, defaults included, so that `?mode=all-or-nothing` and no mode are one request) and the body.
 */
function fingerprintOf(request: FastifyRequest, bodySha256: Buffer): Buffer {
  const target = canonicalJson([request.method, request.routeOptions.url, request.params, request.query])
  return createHash('sha256').update(target).update('\n').update(bodySha256).digest()
}

/** The sent key, unquoted; null when none was sent. */
function idempotencyKeyOf(request: FastifyRequest): string | null {
  const value = request.headers[IDEMPOTENCY_KEY_HEADER]
  if (value === undefined) return null
  // Node joins repeated headers with ", ", which would read as one key: the draft allows the field once.
  const sent = request.raw.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === IDEMPOTENCY_KEY_HEADER)
  if (typeof value !== 'string' || sent.length > 1 || !KEY_SHAPE.test(value)) {
    throw invalidField('header', IDEMPOTENCY_KEY_HEADER, KEY_RULE)
  }
  return value.startsWith('"') ? value.slice(1, -1).replace(/\\(["\\])/g, '$1') : value
}

const headerText = (value: string | number | string[] | undefined) =>
  value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value)

/**
 * The body to keep of an answer: null when it may not be kept, or cannot be. `Cache-Control: no-store` marks an
 * answer holding a secret shown only once (a new API key's token, of which only a hash is stored anywhere); a
 * stream cannot be read twice.
 */
function keptBody(reply: FastifyReply, payload: unknown): Buffer | null {
  if (/\bno-store\b/i.test(headerText(reply.getHeader('cache-control')) ?? '')) return null
  if (payload === null || payload === undefined) return Buffer.alloc(0)
  if (typeof payload === 'string') return Buffer.from(payload)
  return Buffer.isBuffer(payload) ? payload : null
}

/** Sends the stored answer of a completed record again, or the problem that says it is not kept. */
function replay(reply: FastifyReply, record: ExistingRecord): FastifyReply {
  const headers = record.responseHeaders ?? {}
  if (record.responseBody === null) {
    const created = headers.location === undefined ? '' : ` (it created ${headers.location})`
    throw new ApiError(
      'idempotency-key-used',
      `the request with this Idempotency-Key was already applied${created}; its answer held a secret that is ` +
        'shown only once, and is not kept',
    )
  }
  return reply
    .code(record.responseStatus ?? 200)
    .headers(headers)
    .header(REPLAYED_HEADER, 'true')
    .send(record.responseBody)
}

interface ResponseDocument {
  description?: string
  headers?: Record<string, object>
  content?: Record<string, { schema?: unknown }>
}

/**
 * A route's documented problem of this status, with the idempotency problem added: the route's own, described
 * with one more sentence and taking the Problem schema as one more shape of its body; or a new one.
 */
function withIdempotencyProblem(
  response: ResponseDocument | undefined,
  status: 409 | 422,
  sentence: string,
): ResponseDocument {
  if (response === undefined)
    return { ...(problemResponses(status)[status] as ResponseDocument), description: sentence }
  const problem = response.content?.['application/problem+json']
  const schema = problem?.schema as { $ref?: string } | undefined
  const content =
    schema === undefined || schema.$ref === ProblemRef.$ref
      ? response.content
      : { ...response.content, 'application/problem+json': { ...problem, schema: { anyOf: [schema, ProblemRef] } } }
  return { ...response, description: `${response.description ?? ''} ${sentence}`.trim(), content }
}

/**
 * The OpenAPI description of a POST route that takes an Idempotency-Key: the optional request header; its 409
 * and 422 problems, beside those the route lists for other reasons; and `Idempotent-Replayed` on every answer
 * that a replay may repeat (anything but a server error). Copies throughout: response schemas are shared.
 */
function documentIdempotency(schema: Record<string, unknown>): Record<string, unknown> {
  const headers = (schema.headers ?? { type: 'object', properties: {} }) as { properties?: Record<string, object> }
  const responses: Record<string, ResponseDocument> = { ...(schema.response as Record<string, ResponseDocument>) }
  const conflict = withIdempotencyProblem(responses['409'], 409, IN_USE_409)
  responses['409'] = { ...conflict, headers: { ...conflict.headers, 'retry-after': RETRY_AFTER_HEADER_SCHEMA } }
  responses['422'] = withIdempotencyProblem(responses['422'], 422, REUSED_422)
  for (const [status, response] of Object.entries(responses)) {
    if (!/^[234]/.test(status)) continue
    responses[status] = { ...response, headers: { ...response.headers, [REPLAYED_HEADER]: REPLAYED_HEADER_SCHEMA } }
  }
  return {
    ...schema,
    headers: { ...headers, properties: { ...headers.properties, [IDEMPOTENCY_KEY_HEADER]: KEY_HEADER_SCHEMA } },
    response: responses,
  }
}

/** How often each instance deletes expired records: rarely, for what they cost is only space. */
const PRUNE_INTERVAL_MS = 15 * 60_000

/** A request holding its key: what it holds, and the timer renewing its lease. */
interface Held {
  attempt: IdempotencyAttempt
  renewal: NodeJS.Timeout
}

/**
 * `Idempotency-Key` on every POST (draft-ietf-httpapi-idempotency-key-header), per API key, in PostgreSQL so that
 * every instance of the service sees the same keys.
 *
 * A request with a key claims it just before its handler runs, once the body is parsed and valid: a request
 * refused before that (a bad body, a missing scope, a rate limit) ran nothing, records nothing, and can be sent
 * again with the same key once corrected. The claim is one atomic statement: a first request gets the key and
 * runs; the same key again finds the record, and gets 422 if it was for another request, 409 while that still
 * runs, or the stored answer once it completed (`Idempotent-Replayed: true`).
 *
 * When the request is answered, its record keeps the answer: its status, body and the headers worth replaying
 * (Content-Type, Location, ETag). Problems the handler answered (4xx: a taken slug, an unknown party, an import
 * with bad lines) are kept like successes, as they are what that request came to, and a retry gets them again
 * rather than possibly something else. A server error (5xx) is never kept: the write rolled back, so the record
 * is deleted and a retry runs afresh.
 *
 * A request whose process dies stops renewing its lease, and once the lease has run out a retry of the same
 * request takes the key over. What this cannot cover: a process that dies (or loses the database) after its
 * write committed but before its record is completed; the record is then taken over by the next retry, which
 * runs the write again. So does a 503 for a commit whose answer was lost with its connection: the write may
 * have committed, yet the key is given back. Closing both would take the record's completion into the write's
 * own transaction, before the commit.
 */
export default fp<IdempotencyOptions>(
  async function idempotency(fastify: FastifyInstance, { ttlHours, leaseMs, hooks = true }) {
    const ttlMs = ttlHours * 3_600_000
    const held = new WeakMap<FastifyRequest, Held>()
    fastify.decorateRequest('idempotencyKey', null)

    fastify.addHook('onRoute', (route) => {
      const methods = [route.method].flat()
      // Every POST needs a key, which scopes the records; a public one would have nothing to scope them by.
      if (!methods.includes('POST') || route.config?.access === 'public') return
      const idempotentBody = route.config?.idempotentBody ?? 'parsed'
      route.config = { ...route.config, idempotentBody }
      // The hooks of the routes that take a key, on those routes alone: other requests (every read) skip them.
      // They run after every hook of the same kind that is not a route's own, as they did as the last added.
      if (hooks) {
        route.preValidation = [...[route.preValidation ?? []].flat(), readKey]
        if (idempotentBody === 'parsed') route.preHandler = [...[route.preHandler ?? []].flat(), claimParsed]
        route.onSend = [...[route.onSend ?? []].flat(), recordAnswer]
      }
      const schema = route.schema as Record<string, unknown> | undefined
      if (schema === undefined || schema.hide === true) return
      route.schema = documentIdempotency(schema)
    })

    /** The problem, replay or go-ahead for a request whose key is claimed by the fingerprint of its body. */
    async function claim(request: FastifyRequest, reply: FastifyReply, bodySha256: Buffer): Promise<boolean> {
      const idempotencyKey = request.idempotencyKey
      if (idempotencyKey === null || request.apiKey === null) return true
      const attempt = { apiKeyId: request.apiKey.id, idempotencyKey, attemptId: randomUUID() }
      const fingerprint = fingerprintOf(request, bodySha256)
      const existing = await claimKey(fastify.db, attempt, fingerprint, { leaseMs, ttlMs })
      if (existing === undefined) {
        hold(request, attempt)
        return true
      }
      if (!existing.fingerprint.equals(fingerprint)) {
        throw new ApiError(
          'idempotency-key-reused',
          'this Idempotency-Key was already used for another request (another body, path or query); use a new ' +
            'key for a new request',
        )
      }
      if (existing.state === 'in-progress') {
        throw new ApiError('idempotency-key-in-use', 'a request with this Idempotency-Key is still running', {
          headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
        })
      }
      replay(reply, existing)
      return false
    }
    fastify.decorate('claimIdempotencyKey', claim)

    function hold(request: FastifyRequest, attempt: IdempotencyAttempt): void {
      let renewing = false
      const renewal = setInterval(() => {
        // One renewal at a time: on the embedded database a renewal waits for the session a long import holds.
        if (renewing) return
        renewing = true
        renewLease(fastify.db, attempt, leaseMs)
          .catch((error: unknown) => request.log.debug({ err: error }, 'could not renew an idempotency lease'))
          .finally(() => {
            renewing = false
          })
      }, leaseMs / 3)
      renewal.unref()
      held.set(request, { attempt, renewal })
    }

    // Checked before validation, so that a bad key is named as such rather than by its pattern.
    async function readKey(request: FastifyRequest): Promise<void> {
      request.idempotencyKey = idempotencyKeyOf(request)
    }

    async function claimParsed(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
      if (request.idempotencyKey === null) return
      const body = request.body === undefined ? '' : canonicalJson(request.body)
      const proceed = await claim(request, reply, createHash('sha256').update(body).digest())
      if (!proceed) return reply
    }

    async function recordAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void> {
      const holding = held.get(request)
      if (holding === undefined) return
      held.delete(request)
      clearInterval(holding.renewal)
      try {
        if (reply.statusCode >= 500) {
          await releaseKey(fastify.db, holding.attempt)
          return
        }
        const headers: Record<string, string> = {}
        for (const name of REPLAYED_RESPONSE_HEADERS) {
          const value = headerText(reply.getHeader(name))
          if (value !== undefined) headers[name] = value
        }
        const response = { status: reply.statusCode, headers, body: keptBody(reply, payload) }
        if (!(await completeKey(fastify.db, holding.attempt, response, ttlMs))) {
          request.log.warn('the idempotency record was taken over by a retry before this request completed it')
        }
      } catch (error) {
        // The answer goes out anyway. The record, left in progress, answers retries 409 until its lease runs
        // out; a retry then takes it over and runs (see above).
        request.log.warn({ err: error }, 'could not record the outcome of a request with an Idempotency-Key')
      }
    }

    const pruning = setInterval(() => {
      deleteExpiredRecords(fastify.db).catch((error: unknown) =>
        fastify.log.warn({ err: error }, 'could not delete expired idempotency records'),
      )
    }, PRUNE_INTERVAL_MS)
    pruning.unref()
    fastify.addHook('onClose', async () => clearInterval(pruning))
  },
  { name: 'idempotency', dependencies: ['database', 'auth'] },
)
