import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay from 'find-my-way'
import { problemFromDatabaseError } from '../errors/database-problems.js'
import { ApiError, type FieldError, type ProblemCode, unavailable } from '../errors/problems.js'
import { sendProblem } from '../http/problem-details.js'
import { settleUnreadBody } from '../http/request-body.js'
import { fieldLocation } from '../http/validation.js'
import { fieldErrorsOf } from '../validation/json-validation.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods a path of the API has, as an Allow header names them (OPTIONS too); undefined when unknown. */
    allowedMethodsAt: (path: string) => string | undefined
  }
}

/** Fastify's own client errors, by status, turned into our codes; their messages are safe to show. */
const FASTIFY_CODES: Record<number, ProblemCode> = {
  400: 'malformed-request',
  404: 'route-not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  503: 'service-unavailable',
}

/** The first errors, as many as read well in one line, and how many more there are (`errors` lists them). */
function detailOf(errors: FieldError[]): string {
  const named: string[] = []
  let length = 0
  for (const { field, message } of errors) {
    const text = `${field} ${message}`
    if (named.length > 0 && length + text.length > DETAIL_NAMES_CHARACTERS) break
    named.push(text)
    length += text.length + 2
  }
  const more = errors.length - named.length
  return named.join('; ') + (more > 0 ? `; and ${more} more` : '')
}

const DETAIL_NAMES_CHARACTERS = 600

/** A body of a media type no parser reads: the detail names the media types the route takes. */
function unsupportedMediaType(request: FastifyRequest): ApiError {
  const sent =
    String(request.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim() ?? ''
  const accepted = (request.routeOptions.schema?.consumes as string[] | undefined) ?? ['application/json']
  return new ApiError(
    'unsupported-media-type',
    `the body is sent as ${sent === '' ? 'an unnamed media type' : sent.slice(0, 100)}; send it as ${accepted.join(' or ')}`,
  )
}

function toApiError(error: FastifyError, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType(request)
  if (error.validation) {
    const errors = fieldErrorsOf(error.validation, fieldLocation(error.validationContext))
    return new ApiError('validation-failed', detailOf(errors), { errors })
  }
  const fromDatabase = problemFromDatabaseError(error as { code?: unknown })
  if (fromDatabase) return fromDatabase
  const status = error.statusCode ?? 500
  const code = FASTIFY_CODES[status] ?? (status >= 400 && status < 500 ? 'malformed-request' : undefined)
  if (code !== undefined && error.code?.startsWith('FST_')) return new ApiError(code, error.message)
  return new ApiError('internal-error', 'the server failed to answer this request; it has been logged')
}

/**
 * Every error becomes an RFC 9457 problem: ours, Fastify's (bad JSON, 413, 415), validation failures, database
 * errors and unknown routes. A 5xx is logged in full and shown to the client only as its title and a request id.
 */
export default fp(
  async function problemDetails(fastify: FastifyInstance) {
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = toApiError(error, request)
      // A 503 the service chose to give (no free export or import slot, the database not ready) has no stack
      // worth reading, and a flood of them must not fill the log with stacks.
      if (error instanceof ApiError && problem.code === 'service-unavailable') request.log.warn(problem.detail)
      else if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
      // Its connection is gone: the answer goes nowhere, and no "request completed" line would tell of it.
      else if (request.raw.socket?.destroyed) request.log.info({ err: error }, 'the client went away before its answer')
      return sendProblem(reply, problem)
    })

    // Answer 405 (with Allow) for a known path asked with another method, 404 for an unknown path.
    // Without a bound on a parameter's length: a path with a long one is still a known path, with methods to name
    // (its GET is refused for the length, by the router itself).
    const knownRoutes = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: Number.MAX_SAFE_INTEGER })
    const methodsByPath = new Map<string, Set<string>>()
    fastify.addHook('onRoute', (route) => {
      // The CORS preflight route answers OPTIONS on any path: it says nothing of the methods a path has.
      if (route.url === '*') return
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      let allowed = methodsByPath.get(route.url)
      if (allowed === undefined) {
        allowed = new Set()
        methodsByPath.set(route.url, allowed)
        knownRoutes.on('GET', route.url, () => undefined, { url: route.url })
      }
      for (const method of methods) allowed.add(method)
    })

    // While the server closes, requests that still arrive on open connections are refused the same way as every
    // other error (Fastify's own answer would be plain JSON without Retry-After); `return503OnClosing` is off.
    let closing = false
    fastify.addHook('preClose', async () => {
      closing = true
    })
    fastify.addHook('onRequest', async (_request, reply) => {
      if (!closing) return
      return sendProblem(reply.header('connection', 'close'), unavailable('the server is shutting down; retry'))
    })
    // Node closes the connections that are idle when closing starts, once. A connection whose request is still in
    // flight then would stay open after its answer, idle until the keep-alive timeout, and hold the process up: so
    // every answer sent while closing tells the client to close its connection (Node then closes it once the answer
    // is out), and a connection whose answer was already under way is closed as soon as that answer ends.
    fastify.addHook('onSend', async (request, reply) => {
      if (closing) reply.header('connection', 'close')
      // An answer given before the body arrived (a 413, a refused key): the client may still be sending it.
      else if (reply.statusCode >= 400) settleUnreadBody(request, reply)
    })
    fastify.addHook('onResponse', async () => {
      if (closing) setImmediate(() => fastify.server.closeIdleConnections())
    })

    const answerNoRoute = (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0] ?? '/'
      const match = knownRoutes.find('GET', path)
      const allowed = match ? methodsByPath.get((match.store as { url: string }).url) : undefined
      if (allowed !== undefined && !allowed.has(request.method)) {
        const allow = [...allowed].sort().join(', ')
        const detail = `${request.method} is not allowed here; use ${allow}`
        return sendProblem(reply, new ApiError('method-not-allowed', detail, { headers: { allow } }))
      }
      return sendProblem(reply, new ApiError('route-not-found', `no route matches ${request.method} ${path}`))
    }
    fastify.decorate('allowedMethodsAt', (path: string) => {
      const match = knownRoutes.find('GET', path)
      const allowed = match ? methodsByPath.get((match.store as { url: string }).url) : undefined
      return allowed === undefined ? undefined : [...allowed, 'OPTIONS'].sort().join(', ')
    })
    // Answered before the body is read: no route would read it, so its size, media type or syntax (413, 415,
    // 400) says nothing, and neither does a NUL in the path (checked before validation).
    fastify.addHook('preParsing', (request, reply, payload, done) => {
      if (request.is404) answerNoRoute(request, reply)
      else done(null, payload)
    })
    fastify.setNotFoundHandler(answerNoRoute)
  },
  { name: 'problem-details' },
)
