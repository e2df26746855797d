import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import fp from 'fastify-plugin'
import { Counter, Gauge, Registry } from 'prom-client'
import { databaseErrorKind } from '../errors/database-problems.js'

/** What the metrics read from the rest of the service when they are scraped. */
export interface MetricsOptions {
  /** False only in the benchmark's breakdown (see buildApp's `without`): no per-request metrics. */
  requestMetrics?: boolean
  /** Connections of the database pool: in use, idle, and requests waiting for one. */
  poolStats: () => { inUse: number; idle: number; waiting: number }
  /** Slots taken now and how many there are, by kind of long request. */
  slots: Record<string, () => { inUse: number; limit: number }>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The registry `GET /metrics` writes out: this app's own, so that apps in one process do not mix. */
    metricsRegistry: Registry
  }
}

/**
 * Prometheus metrics: requests by route, method and status with a latency histogram (fastify-metrics), the
 * process's own (CPU, memory, event-loop delay, from prom-client), and the service's: pool connections, database
 * errors by kind, export and import slots in use, rate-limit refusals. Served on a port of their own (serveMetrics).
 */
export default fp<MetricsOptions>(
  async function metrics(fastify: FastifyInstance, options) {
    const registry = new Registry()
    // A CommonJS module: its plugin is the default export within it.
    await fastify.register(fastifyMetrics.default, {
      endpoint: null,
      defaultMetrics: { enabled: true, register: registry },
      routeMetrics: {
        enabled: options.requestMetrics === false ? false : { histogram: true, summary: false },
        registeredRoutesOnly: true,
        // Every metric into this app's registry, the summary too (the plugin makes it even when it is off).
        overrides: {
          histogram: { name: 'http_request_duration_seconds', registers: [registry] },
          summary: { registers: [registry] },
        },
      },
    })

    new Gauge({
      name: 'counterclaim_database_pool_connections',
      help: 'Database pool connections in use and idle, and requests waiting for one',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const { inUse, idle, waiting } = options.poolStats()
        this.set({ state: 'in_use' }, inUse)
        this.set({ state: 'idle' }, idle)
        this.set({ state: 'waiting' }, waiting)
      },
    })
    new Gauge({
      name: 'counterclaim_slots_in_use',
      help: 'Exports and imports running now, which hold one of a bounded number of slots',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        for (const [kind, read] of Object.entries(options.slots)) this.set({ kind }, read().inUse)
      },
    })
    new Gauge({
      name: 'counterclaim_slots_limit',
      help: 'How many exports and imports may run at once',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        for (const [kind, read] of Object.entries(options.slots)) this.set({ kind }, read().limit)
      },
    })

    const databaseErrors = new Counter({
      name: 'counterclaim_database_errors_total',
      help: 'Database errors answered to clients, by kind: unavailable, timeout, collision, disk-full, conflict, invalid',
      labelNames: ['kind'],
      registers: [registry],
    })
    // Before the error handler turns the error into a problem: the database's own error is still at hand.
    fastify.addHook('onError', async (_request, _reply, error) => {
      const kind = databaseErrorKind(error)
      if (kind !== undefined) databaseErrors.inc({ kind })
    })

    const refusals = new Counter({
      name: 'counterclaim_rate_limit_refusals_total',
      help: 'Requests refused with 429 for passing a rate limit',
      registers: [registry],
    })
    fastify.addHook('onResponse', async (_request, reply) => {
      if (reply.statusCode === 429) refusals.inc()
    })

    fastify.decorate('metricsRegistry', registry)
  },
  { name: 'metrics' },
)

/**
 * Serves `GET /metrics` from `registry` on a port of its own, apart from the API: a scraper needs no API key and
 * is not rate limited, metrics are there while the database is down, and the port is bound to loopback by default,
 * so that nothing about the service's load is public unless an operator opens it. Resolves once listening.
 */
export async function serveMetrics(registry: Registry, address: { host: string; port: number }): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n')
      return
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(address.port, address.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}
