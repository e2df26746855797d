import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/problems.js'
import { type ApiKeyIdentity, grants, type Scope } from '../schemas/api-key.schema.js'
import { problemResponses } from '../schemas/common.schema.js'
import { addressKeyOf } from './rate-limit.plugin.js'
import { authenticate } from '../services/api-key.service.js'

/** Who may call a route: anyone (`public`), or a key holding the scope. */
export type RouteAccess = Scope | 'public'

declare module 'fastify' {
  interface FastifyRequest {
    /** The key this request authenticated with; null when it sent none. */
    apiKey: ApiKeyIdentity | null
    /** Why authentication refuses this request: answered once the rate limits have counted it. */
    authRefusal: ApiError | null
  }
  interface FastifyContextConfig {
    /**
     * Set on a route to override the default: reads left out of the OpenAPI document (it and its viewer) are
     * public, other reads need `read` (and only when reads require a key), everything else `write`.
     */
    access?: RouteAccess
  }
}

export interface AuthOptions {
  /** False only in the benchmark's breakdown (see buildApp's `without`): routes get their access, nothing checks it. */
  checks?: boolean
  /** When false (the default), anyone may read; a key is checked only when one is sent. */
  readsRequireKey: boolean
  /** Whether the request's address is past its rate limit, as far as is known without a query. */
  addressOverLimit?: (request: FastifyRequest) => boolean
}

/** Keys (token digests, addresses) seen lately, each for `ttlMs`; at most `max`, the oldest forgotten first. */
class SeenLately {
  private readonly until = new Map<string, number>()

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  add(key: string): void {
    this.until.delete(key)
    this.until.set(key, Date.now() + this.ttlMs)
    // A Map keeps its insertion order: the first entry is the one renewed longest ago.
    if (this.until.size > this.max) this.until.delete(this.until.keys().next().value!)
  }

  has(key: string): boolean {
    return (this.until.get(key) ?? 0) > Date.now()
  }
}

const digestOf = (token: string) => createHash('sha256').update(token).digest('base64url')

const REALM = 'Bearer realm="counterclaim"'
const BEARER = /^Bearer +(\S+) *$/i

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function unauthorized(detail: string, error?: 'invalid_token'): ApiError {
  const challenge = error === undefined ? REALM : `${REALM}, error="${error}"`
  return new ApiError('unauthorized', detail, { headers: { 'www-authenticate': challenge } })
}

/** A key that lacks a scope (RFC 6750, section 3.1: `insufficient_scope`, naming the scope needed). */
export function insufficientScope(needed: Scope, detail: string): ApiError {
  return new ApiError('forbidden', detail, {
    headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${needed}"` },
  })
}

/**
 * API keys: `Authorization: Bearer <token>`. Every route declares who may call it (`config.access`, defaulted
 * here from its method); the check runs first thing on each request, before its body is even read, so a caller
 * without the right key learns nothing about what it sent. A key that is sent is always checked, even where none
 * is needed: a client with a revoked or mistyped key hears of it at once.
 *
 * A refusal (401, 403) is answered only after the rate limits counted the request, against its address: a flood
 * of refused requests is refused 429 like any other. From an address past its limit that sent an unknown token
 * lately, a token is looked up only if it authenticated here lately; any other is not looked up at all, and the
 * request counts against the address like one without a key (so a flood of made-up keys costs no query per key).
 */
export default fp<AuthOptions>(
  async function auth(fastify: FastifyInstance, options) {
    fastify.decorateRequest('apiKey', null)
    fastify.decorateRequest('authRefusal', null)
    // Tokens that authenticated here, and addresses that sent an unknown one, in the last ten minutes.
    const validTokens = new SeenLately(10 * 60_000, 10_000)
    const unknownTokenSenders = new SeenLately(10 * 60_000, 10_000)
    // Requests whose token is checked after the rate limits, if they let it through.
    const unchecked = new WeakSet<FastifyRequest>()

    fastify.addHook('onRoute', (route) => {
      const schema = route.schema as Record<string, unknown> | undefined
      const methods = [route.method].flat()
      // A write never defaults to public, even undocumented: only an explicit `access` opens one.
      const safe = methods.every((method) => SAFE_METHODS.has(method))
      const access: RouteAccess =
        route.config?.access ?? (!safe ? 'write' : schema === undefined || schema.hide === true ? 'public' : 'read')
      route.config = { ...route.config, access }
      if (schema === undefined || schema.hide === true || access === 'public') return
      // Documented: reads take a key optionally; writes need one, and may be refused for its scope or owner.
      schema.security = access === 'read' ? [{}, { apiKey: [] }] : [{ apiKey: [] }]
      schema.response = {
        ...(schema.response as object | undefined),
        ...problemResponses(401),
        ...(access === 'read' ? {} : problemResponses(403)),
      }
    })

    /** Why a request that authenticated with no key is refused, if it is. */
    const anonymousRefusal = (access: RouteAccess): ApiError | null => {
      if (access === 'public' || (access === 'read' && !options.readsRequireKey)) return null
      const what = access === 'read' ? 'reading' : 'this request'
      return unauthorized(`${what} needs an API key: send "Authorization: Bearer <token>"`)
    }

    const refusalOf = async (request: FastifyRequest, token: string | undefined): Promise<ApiError | null> => {
      const access = request.routeOptions.config.access ?? 'public'
      if (token !== undefined) {
        const key = await authenticate(fastify.db, token)
        if (key === undefined) {
          unknownTokenSenders.add(addressKeyOf(request))
          return unauthorized('the API key is not valid: unknown or revoked', 'invalid_token')
        }
        validTokens.add(digestOf(token))
        request.apiKey = key
      }
      const key = request.apiKey
      if (key === null) return anonymousRefusal(access)
      if (access !== 'public' && !grants(key.scopes, access)) {
        return insufficientScope(access, `the key "${key.name}" does not have the ${access} scope this request needs`)
      }
      return null
    }

    if (options.checks === false) return
    // Callback hooks, not async ones: a request without a key (most reads) is decided at once, with no promise.
    fastify.addHook('onRequest', (request, _reply, done) => {
      const access = request.routeOptions.config.access
      // Unknown routes (a 404 either way) and public ones ignore the header: probes and docs never fail on it.
      if (access === undefined || access === 'public') return done()
      const header = request.headers.authorization
      if (header === undefined) {
        request.authRefusal = anonymousRefusal(access)
        return done()
      }
      const token = BEARER.exec(header)?.[1]
      if (token === undefined) {
        request.authRefusal = unauthorized(
          'the Authorization header must be "Bearer <token>", with an API key as the token',
        )
        return done()
      }
      const floods =
        unknownTokenSenders.has(addressKeyOf(request)) &&
        options.addressOverLimit?.(request) === true &&
        !validTokens.has(digestOf(token))
      if (floods) {
        unchecked.add(request)
        return done()
      }
      refusalOf(request, token).then((refusal) => {
        request.authRefusal = refusal
        done()
      }, done)
    })

    // After every onRequest hook, the rate limits' among them, and before the body is read.
    fastify.addHook('preParsing', (request, _reply, payload, done) => {
      const answer = (refusal: ApiError | null) => (refusal === null ? done(null, payload) : done(refusal))
      if (!unchecked.has(request)) return answer(request.authRefusal)
      const header = request.headers.authorization!
      refusalOf(request, BEARER.exec(header)?.[1]).then((refusal) => {
        request.authRefusal = refusal
        answer(refusal)
      }, done)
    })
  },
  { name: 'auth', dependencies: ['database'] },
)
