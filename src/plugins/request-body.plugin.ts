import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/problems.js'
import { continueIfExpected, refuseEncodedBody } from '../http/request-body.js'
import { MAX_JSON_DEPTH, tooDeeplyNested } from '../http/validation.js'

const tooDeep = (member: string) => {
  const field = member === '' ? 'body' : member
  const message = `must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`
  return new ApiError('validation-failed', `${field} ${message}`, { errors: [{ in: 'body', field, message }] })
}

/**
 * How request bodies are received. JSON (and JSON Merge Patch, RFC 7396, which is what our PATCH semantics are)
 * is parsed only when it nests at most MAX_JSON_DEPTH levels, so that every later walk over a body is bounded.
 * A compressed body is refused (415). A client sending `Expect: 100-continue` is told to go on only once its
 * request passed authentication and rate limits: registered after both, its hook runs after theirs.
 */
export default fp(
  async function requestBody(fastify: FastifyInstance) {
    const parseJson = fastify.getDefaultJsonParser('error', 'error')
    const parseBoundedJson: typeof parseJson = (request, body, done) => {
      const deep = tooDeeplyNested(String(body), MAX_JSON_DEPTH)
      if (deep !== undefined) return done(tooDeep(deep.member), undefined)
      return parseJson(request, body, done)
    }
    // Bodies are JSON: the default text/plain parser would hand a string to validation instead of a 415.
    fastify.removeContentTypeParser(['application/json', 'text/plain'])
    fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseBoundedJson)
    fastify.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, parseBoundedJson)

    // Without a listener, Node sends `100 Continue` to every request that asks, before any hook has run.
    fastify.server.on('checkContinue', (request, response) => fastify.server.emit('request', request, response))

    fastify.addHook('preParsing', async (request, reply) => {
      refuseEncodedBody(request)
      continueIfExpected(request, reply)
    })
  },
  { name: 'request-body', dependencies: ['auth', 'rate-limits'] },
)
