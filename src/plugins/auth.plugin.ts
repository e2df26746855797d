import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../http/problem-details.js'
import { type ApiKeyIdentity, grants, type Scope } from '../schemas/api-key.schema.js'
import { problemResponses } from '../schemas/common.schema.js'
import { authenticate } from '../services/api-key.service.js'

/** Who may call a route: anyone (`public`), or a key holding the scope. */
export type RouteAccess = Scope | 'public'

declare module 'fastify' {
  interface FastifyRequest {
    /** The key this request authenticated with; null when it sent none. */
    apiKey: ApiKeyIdentity | null
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
  /** When false (the default), anyone may read; a key is checked only when one is sent. */
  readsRequireKey: boolean
}

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
 */
export default fp<AuthOptions>(
  async function auth(fastify: FastifyInstance, options) {
    fastify.decorateRequest('apiKey', null)

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

    fastify.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access
      // Unknown routes (a 404 either way) and public ones ignore the header: probes and docs never fail on it.
      if (access === undefined || access === 'public') return
      const header = request.headers.authorization
      if (header !== undefined) {
        const token = BEARER.exec(header)?.[1]
        if (token === undefined) {
          throw unauthorized('the Authorization header must be "Bearer <token>", with an API key as the token')
        }
        const key = await authenticate(fastify.db, token)
        if (key === undefined) throw unauthorized('the API key is not valid: unknown or revoked', 'invalid_token')
        request.apiKey = key
      }
      const key = request.apiKey
      if (key === null) {
        if (access === 'read' && !options.readsRequireKey) return
        const what = access === 'read' ? 'reading' : 'this request'
        throw unauthorized(`${what} needs an API key: send "Authorization: Bearer <token>"`)
      }
      if (!grants(key.scopes, access)) {
        throw insufficientScope(access, `the key "${key.name}" does not have the ${access} scope this request needs`)
      }
    })
  },
  { name: 'auth', dependencies: ['database'] },
)
