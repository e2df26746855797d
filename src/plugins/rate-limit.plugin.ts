import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { RateLimitConfig } from '../config.js'
import { ApiError } from '../errors/problems.js'
import { PostgresRateLimitStore, storeClass } from '../http/rate-limit-store.js'
import { deleteEndedWindows } from '../repositories/rate-limit.repository.js'
import { problemResponses, type ResponseHeader } from '../schemas/common.schema.js'

/** The IETF draft's headers (draft-ietf-httpapi-ratelimit-headers), as the plugin's `enableDraftSpec` sends them. */
const RATE_LIMIT_HEADERS: Record<string, ResponseHeader> = {
  'ratelimit-limit': {
    type: 'integer',
    minimum: 0,
    description:
      'Requests allowed in a window to this client: its API key, or its address when it sent none. Sent with ' +
      'every answer of a rate-limited operation, problems included.',
  },
  'ratelimit-remaining': { type: 'integer', minimum: 0, description: 'Requests left in the current window.' },
  'ratelimit-reset': { type: 'integer', minimum: 0, description: 'Seconds until the current window ends.' },
}

/** The counter of the request's address (an IPv6 address by its /64). */
export const addressKeyOf = (request: FastifyRequest) => `ip:${normalizeIP(request.ip)}`

/** Whether the request counts against its key: it authenticated with one, and authentication did not refuse it. */
const countsAgainstKey = (request: FastifyRequest) => request.apiKey !== null && request.authRefusal === null

const keyOf = (request: FastifyRequest) =>
  countsAgainstKey(request) ? `key:${request.apiKey!.id}` : addressKeyOf(request)

export interface RateLimitOptions extends RateLimitConfig {
  /** The counters; the auth plugin asks them whether an address is past its limit. */
  store: PostgresRateLimitStore
}

/**
 * Rate limits per client: per API key for requests that authenticated (wherever they come from), per address for
 * the others (an IPv6 address by its /64, which one client usually holds whole). Each client gets `perKey` or
 * `perIp` requests per fixed window, counted in PostgreSQL so that every instance shares the budget. Answers carry
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; past the limit, a 429 problem with
 * `Retry-After`. Registered after the auth plugin: the limit runs once the key is known. A request authentication
 * refuses counts against its address, whatever key it sent.
 */
export default fp<RateLimitOptions>(
  async function rateLimits(fastify: FastifyInstance, { windowMs, perIp, perKey, store }) {
    fastify.addHook('onClose', async () => store.close())
    const limitOf = (key: string) => (key.startsWith('key:') ? perKey : perIp)

    // Each route added from here on: whether it is limited, and, in its documented responses, the 429 and the
    // headers. Added before the plugin's own hook, which reads `config.rateLimit`.
    fastify.addHook('onRoute', (route) => {
      // Public routes (set by the auth plugin, whose hook runs first) are never limited: probes, which a load
      // balancer or an orchestrator polls and must not be refused for it, the API description and its viewer,
      // and CORS preflights, which a browser sends on its own.
      if (route.config?.access === 'public' || (perIp === 0 && perKey === 0)) {
        route.config = { ...route.config, rateLimit: false }
        return
      }
      const schema = route.schema as { response?: Record<string, object>; hide?: boolean } | undefined
      if (schema?.response === undefined || schema.hide === true) return
      // Every answer of a limited route carries the headers, problems too; they are documented where a client
      // reads them (its successes and the 429), rather than repeated on every problem of every operation.
      const responses: Record<string, object> = { ...schema.response, ...problemResponses(429) }
      for (const [status, response] of Object.entries(responses)) {
        if (status !== '429' && !/^[23]/.test(status)) continue
        // A copy: response schemas are shared between routes, and some of those routes are not limited.
        const headers = (response as { headers?: Record<string, unknown> }).headers
        responses[status] = { ...response, headers: { ...headers, ...RATE_LIMIT_HEADERS } }
      }
      route.schema = { ...route.schema, response: responses }
    })

    if (perIp === 0 && perKey === 0) return
    await fastify.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      enableDraftSpec: true,
      timeWindow: windowMs,
      keyGenerator: keyOf,
      max: (_request, key) => limitOf(key),
      allowList: (_request, key) => limitOf(key) === 0,
      store: storeClass(store),
      // The store fails open (see PostgresRateLimitStore): a request whose count failed is let through.
      skipOnError: true,
      errorResponseBuilder: (request, { max, ttl }) => {
        const client = countsAgainstKey(request) ? 'this API key' : 'this address'
        const seconds = Math.ceil(ttl / 1000)
        return new ApiError(
          'too-many-requests',
          `${client} may send ${max} requests in ${windowMs / 1000} s; retry in ${seconds} s`,
        )
      },
    })

    // Counters of clients that went quiet are deleted once their window ended. Every instance does it, which is
    // harmless: the statement deletes nothing a live window needs.
    const pruning = setInterval(
      () => {
        deleteEndedWindows(fastify.db).catch((error: unknown) =>
          fastify.log.warn({ err: error }, 'could not delete ended rate-limit windows'),
        )
      },
      Math.min(windowMs, 10 * 60_000),
    )
    pruning.unref()
    fastify.addHook('onClose', async () => clearInterval(pruning))
  },
  { name: 'rate-limits', dependencies: ['database', 'auth'] },
)
