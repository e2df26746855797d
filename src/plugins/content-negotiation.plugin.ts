import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/problems.js'
import { varyOn } from '../http/vary.js'
import { problemResponses } from '../schemas/common.schema.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The media types a route's successful answers come in, from its response schemas (set as it is added). */
    representations?: string[]
  }
}

/** A problem is an answer too: a client that asks for problem+json alone may still get its JSON. */
const PROBLEM = 'application/problem+json'

/** The media types of the 2xx answers that have a body: their `content` when given, otherwise JSON. */
function representationsOf(responses: Record<string, unknown>): string[] {
  const types = new Set<string>()
  for (const [status, response] of Object.entries(responses)) {
    if (!/^2\d\d$/.test(status) || status === '204') continue
    const content = (response as { content?: Record<string, unknown> }).content
    for (const type of content === undefined ? ['application/json'] : Object.keys(content)) types.add(type)
  }
  return [...types]
}

/**
 * An `Accept` that allows none of a route's representations is answered 406, naming those it has, rather than
 * with JSON the client said it cannot read (`Accept: text/csv` on a route without a CSV form). No Accept, `*∕*`,
 * `application/json` and browsers' Accept (which ends in `*∕*`) still get JSON; the `format` parameter of a list
 * overrides Accept, as it says.
 */
export default fp(
  async function contentNegotiation(fastify: FastifyInstance) {
    const notAcceptable = problemResponses(406)[406]
    fastify.addHook('onRoute', (route) => {
      const responses = route.schema?.response as Record<string, unknown> | undefined
      if (responses === undefined || route.schema?.hide) return
      // A probe reads the status alone, whatever its Accept says: refusing it would take a live service down.
      if ((route.schema?.tags as string[] | undefined)?.includes('operations')) return
      const representations = representationsOf(responses)
      if (representations.length === 0) return
      route.config = { ...route.config, representations }
      responses['406'] ??= notAcceptable
    })

    fastify.addHook('onRequest', async (request, reply) => {
      const representations = request.routeOptions.config.representations
      const accept = request.headers.accept
      if (representations === undefined || accept === undefined || accept.trim() === '') return
      if ((request.query as Record<string, unknown> | undefined)?.format !== undefined) return
      if (request.accepts().type([...representations, PROBLEM]) !== false) return
      varyOn(reply, 'Accept')
      throw new ApiError(
        'not-acceptable',
        `none of the media types in Accept is one this answers with: ${representations.join(', ')}`,
      )
    })
  },
  { name: 'content-negotiation' },
)
