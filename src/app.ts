import { randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import accepts from '@fastify/accepts'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { type DatabaseEvents, type DatabaseHandle, type OpeningDatabase, openDatabase } from './db/database.js'
import { ApiError } from './errors/problems.js'
import { CompiledOnFirstUse } from './http/compile-on-first-use.js'
import { ConcurrencySlots } from './http/concurrency-slots.js'
import { PostgresRateLimitStore } from './http/rate-limit-store.js'
import { answerClientError, sendProblem } from './http/problem-details.js'
import { rejectUnstorableText, validatorCompiler } from './http/validation.js'
import authPlugin from './plugins/auth.plugin.js'
import contentNegotiationPlugin from './plugins/content-negotiation.plugin.js'
import databasePlugin from './plugins/database.plugin.js'
import explorerPlugin from './plugins/explorer.plugin.js'
import idempotencyPlugin from './plugins/idempotency.plugin.js'
import metricsPlugin from './plugins/metrics.plugin.js'
import openapiPlugin from './plugins/openapi.plugin.js'
import overloadPlugin from './plugins/overload.plugin.js'
import problemDetailsPlugin from './plugins/problem-details.plugin.js'
import rateLimitPlugin, { addressKeyOf } from './plugins/rate-limit.plugin.js'
import requestBodyPlugin from './plugins/request-body.plugin.js'
import securityHeadersPlugin from './plugins/security-headers.plugin.js'
import claimRoutes from './routes/claims.routes.js'
import disputeRoutes from './routes/disputes.routes.js'
import healthRoutes from './routes/health.routes.js'
import importRoutes from './routes/import.routes.js'
import erasureRoutes from './routes/erasure.routes.js'
import figureRoutes from './routes/figures.routes.js'
import keyRoutes from './routes/keys.routes.js'
import linkRoutes from './routes/links.routes.js'
import eventRoutes from './routes/events.routes.js'
import partyRoutes from './routes/parties.routes.js'
import responseTimeRoutes from './routes/response-times.routes.js'
import reviewRoutes from './routes/reviews.routes.js'
import tombstoneRoutes from './routes/tombstones.routes.js'

/**
 * The parts of the service the benchmark's breakdown leaves out one at a time, to measure what each costs a
 * request: security headers (helmet), CORS, load shedding (under-pressure), rate limits, the API key checks, the
 * Idempotency-Key hooks, the request metrics, entity tags and the response schemas' compiled serializers (answers
 * are then written by JSON.stringify). The logger is left out by passing `logger: false`.
 */
export const BENCH_SWITCHES = [
  'security-headers',
  'cors',
  'overload',
  'rate-limit',
  'auth',
  'idempotency',
  'metrics',
  'etag',
  'response-schema',
] as const
export type BenchSwitch = (typeof BENCH_SWITCHES)[number]

export interface AppOptions {
  config: Config
  /** An already open database (tests pass one per file); otherwise one is opened from the config. */
  database?: DatabaseHandle
  /** Or one that was being opened while the service loaded (server.ts). */
  openingDatabase?: OpeningDatabase
  logger?: FastifyServerOptions['logger']
  /**
   * For the benchmark's breakdown only (bench/breakdown-server.ts), never set by the service or its configuration:
   * the parts to leave out. What is left out no longer protects anything; each is checked once, as the app is built.
   */
  without?: ReadonlySet<BenchSwitch>
  /** The built dispute explorer; by default explorer/dist at the project's root, where `npm run build` puts it. */
  explorerDirectory?: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Starts the drain before a shutdown: `/readyz` answers 503 from now on, so that a load balancer takes the
     * instance out, while every request is still served as usual until the app is closed.
     */
    startDraining(): void
    /** The route schemas no request has compiled yet: `compileRest()` compiles them, between requests. */
    readonly schemasOnFirstUse: CompiledOnFirstUse
  }
}

// An incoming x-request-id is kept when it is a plausible id, so a caller can follow its request in our logs.
const REQUEST_ID = /^[\w.:-]{1,128}$/

export function serverOptions(
  config: Config,
  logger?: FastifyServerOptions['logger'],
  compiled = new CompiledOnFirstUse(),
): FastifyHttpOptions<Server> {
  return {
    schemaController: { compilersFactory: { buildSerializer: compiled.buildSerializer } },
    // Fastify logs no request headers; should a serializer ever add them, a key still never reaches the logs.
    logger: logger ?? { level: config.logLevel, redact: ['req.headers.authorization'] },
    bodyLimit: config.bodyLimitBytes,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // A request whose headers, or whole body, have not arrived in these times is answered 408 and its socket
    // closed, so that slow senders cannot hold connections open. Node looks for such requests every
    // connectionsCheckingInterval (30 s by default, which would let a 10 s headers timeout run to 40 s).
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    // Longer than the idle timeout of common load balancers (60 s), so that they close an idle connection before
    // the service does, rather than send a request on it as it closes.
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    // Behind a load balancer, the client's address is in X-Forwarded-For: rate limits per address need it.
    trustProxy: config.trustProxy,
    // Requests arriving while the server closes are answered by the problem-details plugin instead.
    return503OnClosing: false,
    // A parameter of any length reaches its route, whose schema bounds it (a uuid, a slug of at most 100
    // characters) and names it when it is too long; the router's own bound refused the whole URL instead, before
    // it could tell a method the path does not have (405).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: Number.MAX_SAFE_INTEGER },
    // Errors raised before a route is found (a URL that is not valid percent-encoding) and before Fastify sees
    // the request at all (an invalid header) are problems like every other.
    frameworkErrors: (error, _request, reply) => sendProblem(reply, new ApiError('malformed-request', error.message)),
    clientErrorHandler: (error, socket) => answerClientError(error, socket, randomUUID()),
  }
}

/** Builds the whole service, ready for `inject` (tests) or `listen` (server.ts). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const without = options.without ?? new Set<BenchSwitch>()
  const config = benchConfig(options.config, without)
  const compiled = new CompiledOnFirstUse()
  const app = Fastify(serverOptions(config, options.logger, compiled)).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(compiled.validators(validatorCompiler))
  app.decorate('schemasOnFirstUse', compiled)
  if (without.has('response-schema')) app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.decorate('entityTags', !without.has('etag'))

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('preValidation', rejectUnstorableText)

  await app.register(problemDetailsPlugin)
  // request.accepts(): the representations that answer Accept (JSON, CSV, NDJSON, JSON-LD).
  await app.register(accepts)
  // Security and CORS headers first, so that every refusal below carries them; then load shedding, before
  // anything that costs (authentication, rate limits).
  await app.register(securityHeadersPlugin, {
    helmet: !without.has('security-headers'),
    corsOrigins: config.corsOrigins,
    corsAllowedHeaders: config.corsAllowedHeaders,
  })
  await app.register(overloadPlugin, config.overload)
  // Before every route, whose representations it reads as it is added; after CORS, so that a page can read a 406.
  await app.register(contentNegotiationPlugin)
  const databaseEvents: DatabaseEvents = {
    onIdleError: (error) => app.log.warn({ err: error }, 'idle database connection failed'),
    onRestart: ({ reopenedInMs }) =>
      app.log.warn({ reopenedInMs }, 'embedded database reopened after a query ran past the statement timeout'),
    onReplicaStateChange: ({ replica, state, lagMs }, previous) =>
      app.log[state === 'ok' ? 'info' : 'warn']({ replica, state, previous, lagMs }, 'read replica state changed'),
  }
  const database =
    options.database ??
    (await (options.openingDatabase?.opened(databaseEvents) ?? openDatabase(config, databaseEvents)))
  await app.register(databasePlugin, { database, migrate: config.migrateOnStart })
  // The rate limits count into it, and authentication asks it whether an address is past its limit already.
  const rateLimitStore = new PostgresRateLimitStore(database.db, app.log)
  const { perIp } = config.rateLimit
  // Exports share a quarter of the pool, so other requests keep the rest; the embedded database has one session.
  const connections = database.engine === 'embedded' ? 1 : config.databasePoolMax
  const exportSlots = new ConcurrencySlots(Math.max(1, Math.floor(connections / 4)), 'exports')
  const importSlots = new ConcurrencySlots(config.importConcurrency, 'imports')
  // Before the routes it measures; it reads the pool and the slots only when scraped.
  await app.register(metricsPlugin, {
    requestMetrics: !without.has('metrics'),
    poolStats: () => database.connections(),
    slots: { export: () => exportSlots.usage(), import: () => importSlots.usage() },
  })
  // Before every route: it sets each route's access (and documents it) as the route is added.
  await app.register(authPlugin, {
    checks: !without.has('auth'),
    readsRequireKey: config.readsRequireKey,
    addressOverLimit: (request) => rateLimitStore.isOver(addressKeyOf(request), perIp),
  })
  // After auth (the limit is per key once the key is known), before every route it limits.
  await app.register(rateLimitPlugin, { ...config.rateLimit, store: rateLimitStore })
  // After both: how bodies are parsed, and a `100 Continue` only for requests they let through.
  await app.register(requestBodyPlugin)
  // After auth (records belong to the key), before every route (each POST takes an Idempotency-Key). A running
  // request holds its key for as long as a request may take to arrive, renewing it as it runs.
  await app.register(idempotencyPlugin, {
    hooks: !without.has('idempotency'),
    ttlHours: config.idempotencyTtlHours,
    leaseMs: config.requestTimeoutMs,
  })
  await app.register(openapiPlugin, { publicUrl: config.publicUrl })
  let draining = false
  app.decorate('startDraining', () => {
    draining = true
  })
  await app.register(healthRoutes, { draining: () => draining })
  await app.register(
    explorerPlugin,
    options.explorerDirectory === undefined ? {} : { directory: options.explorerDirectory },
  )
  const exports = {
    exportTimeoutMs: config.exportTimeoutMs,
    exportStallTimeoutMs: config.exportStallTimeoutMs,
    exportSlots,
  }
  await app.register(partyRoutes, exports)
  await app.register(eventRoutes, exports)
  await app.register(claimRoutes, exports)
  await app.register(figureRoutes, exports)
  await app.register(linkRoutes, exports)
  await app.register(disputeRoutes, exports)
  await app.register(responseTimeRoutes, exports)
  await app.register(importRoutes, {
    bodyLimitBytes: config.importBodyLimitBytes,
    spoolDirectory: config.importSpoolDir,
    importSlots,
  })
  await app.register(reviewRoutes, exports)
  await app.register(tombstoneRoutes, exports)
  await app.register(keyRoutes)
  await app.register(erasureRoutes)
  return app
}

/** The configuration with the benchmark's switches that configuration already has: CORS, overload, rate limits. */
function benchConfig(config: Config, without: ReadonlySet<BenchSwitch>): Config {
  if (without.size === 0) return config
  return {
    ...config,
    ...(without.has('cors') ? { corsOrigins: [] } : {}),
    ...(without.has('overload') ? { overload: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0, maxRssBytes: 0 } } : {}),
    ...(without.has('rate-limit') ? { rateLimit: { ...config.rateLimit, perIp: 0, perKey: 0 } } : {}),
  }
}
