import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The security headers of the route's answers, when they are not those of the API (the Swagger UI's). */
    securityHeaders?: Readonly<Record<string, string>>
  }
}

export interface SecurityHeadersOptions {
  /** False only in the benchmark's breakdown (see buildApp's `without`): no helmet headers at all. */
  helmet?: boolean
  /** `['*']` for any origin, `[]` for none (no CORS headers at all), or the origins allowed. */
  corsOrigins: string[]
  /** The request headers a page of an allowed origin may send (CORS_ALLOWED_HEADERS). */
  corsAllowedHeaders: string[]
}

/** Where the interactive reference is served (the openapi plugin's Swagger UI). */
const DOCS_PREFIX = '/docs'
/** Where the dispute explorer is served (the explorer plugin). */
const EXPLORER_PREFIX = '/explore'

/**
 * What a JSON answer may make a browser do: nothing. It is data, never a page: no script, style or frame may come
 * from it, and no page may frame it.
 */
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] }

/**
 * The Swagger UI page: its scripts, styles, fonts and images come from the service itself (it has no inline
 * script), it fetches the OpenAPI document and sends "try it out" requests to the same origin, and sets inline
 * styles from its scripts. No `upgrade-insecure-requests`: the page is also opened over plain HTTP (a local
 * `npm start`), where that would send its own scripts to an https:// address that does not answer.
 */
const DOCS_CSP = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
}

/**
 * The dispute explorer: its one script and one style sheet are the service's own, hashed files, it reads and
 * writes through the API of the same origin, and it sets no inline script or style. Nothing else: no frame, no
 * form posted elsewhere, no plugin, no other base URL. Over plain HTTP as well, for the reason given above.
 */
const EXPLORER_CSP = {
  defaultSrc: ["'none'"],
  baseUri: ["'none'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  manifestSrc: ["'self'"],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
}

/**
 * The API's answers: data, never a page. Headers that only a document (a page in a window) or a browser of the
 * past heeds are not sent, which spares bytes on every answer.
 */
const API_HELMET: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
  frameguard: { action: 'deny' },
  // The API's own host only: whether its sibling hosts are HTTPS-only is not the service's to decide.
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
}

/** The Swagger UI page gets the headers that only a page heeds. */
const DOCS_HELMET: HelmetOptions = {
  ...API_HELMET,
  contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP },
  frameguard: { action: 'sameorigin' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  originAgentCluster: true,
  xDnsPrefetchControl: { allow: false },
}

/** The explorer's pages get the headers that only a page heeds, and may not be framed at all. */
const EXPLORER_HELMET: HelmetOptions = {
  ...DOCS_HELMET,
  contentSecurityPolicy: { useDefaults: false, directives: EXPLORER_CSP },
  frameguard: { action: 'deny' },
}

/**
 * The headers helmet sets with these options, worked out once: none of them depends on the request (no directive
 * is a function, no nonce), and helmet would build its middleware and every header again on each request.
 */
export function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined && error !== null) throw error
  })
  return Object.freeze(headers)
}

/** Browsers cache a preflight answer this long (2 h: Chromium's cap; Firefox allows more). */
const PREFLIGHT_MAX_AGE_S = 7200

/**
 * Security headers on every answer (helmet), and CORS for browser clients of other origins. Registered before
 * everything that may refuse a request (overload, authentication, rate limits), so that the refusal carries them
 * too: a page can read a 429 or a 503 and its Retry-After only if the CORS headers are on it.
 */
export default fp<SecurityHeadersOptions>(
  async function securityHeaders(
    fastify: FastifyInstance,
    { helmet: withHelmet = true, corsOrigins, corsAllowedHeaders },
  ) {
    const apiHeaders = helmetHeaders(API_HELMET)
    const pageHeaders = [
      { prefix: DOCS_PREFIX, headers: helmetHeaders(DOCS_HELMET) },
      { prefix: EXPLORER_PREFIX, headers: helmetHeaders(EXPLORER_HELMET) },
    ]
    fastify.addHook('onRoute', (route) => {
      const page = pageHeaders.find(({ prefix }) => route.url === prefix || route.url.startsWith(`${prefix}/`))
      if (page === undefined) return
      route.config = { ...route.config, securityHeaders: page.headers }
    })

    // Every answer, refusals and unknown paths included (a hook without a route runs here too).
    if (withHelmet) {
      fastify.addHook('onRequest', (request, reply, done) => {
        reply.headers(request.routeOptions.config.securityHeaders ?? apiHeaders)
        done()
      })
    }

    // A plain OPTIONS (not a CORS preflight, which names the method it asks for) on a known path is answered 204
    // with the methods the path has, as RFC 9110 describes, after helmet's headers and before CORS's: with CORS on,
    // its hook sends that answer, with its own headers and this Allow. An unknown path stays a 404 without CORS.
    fastify.addHook('onRequest', async (request, reply) => {
      if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] !== undefined) return
      const allow = fastify.allowedMethodsAt(request.url.split('?')[0] ?? '/')
      if (allow === undefined) return
      reply.header('allow', allow)
      if (corsOrigins.length === 0) return reply.code(204).send()
    })

    if (corsOrigins.length === 0) return
    await fastify.register(cors, {
      // Credentials (cookies) are never involved: a key travels in the Authorization header, which a page sets
      // itself. So any origin may be allowed without letting one site act with a visitor's rights on another.
      origin: corsOrigins.includes('*') ? '*' : corsOrigins,
      credentials: false,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: corsAllowedHeaders,
      exposedHeaders: [
        'Claim-ETag',
        'Content-Disposition',
        'Counterclaim-Consistency',
        'ETag',
        'Idempotent-Replayed',
        'Link',
        'Location',
        'Retry-After',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'WWW-Authenticate',
        'X-Request-Id',
      ],
      maxAge: PREFLIGHT_MAX_AGE_S,
      // Strict preflight checking answers a bare OPTIONS with a text/plain 400; a bare OPTIONS is harmless.
      strictPreflight: false,
    })
  },
  { name: 'security-headers', dependencies: ['problem-details'] },
)
