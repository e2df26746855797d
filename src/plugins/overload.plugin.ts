import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { unavailable } from '../errors/problems.js'
import { sendProblem } from '../http/problem-details.js'

/**
 * At most one warning per this long while overloaded, counting the requests refused since the one before: under
 * an attack, a line (let alone a stack) per refusal would multiply the log by the attacker's rate.
 */
export const WARN_EVERY_MS = 1000

/** How often the event loop delay, heap and resident memory are sampled. */
const SAMPLE_INTERVAL_MS = 1000

/**
 * Load shedding: while the event loop lags, or the heap or the resident memory is past its threshold (sampled
 * each second), requests are refused at once with a 503 problem and Retry-After, instead of queueing until every
 * client times out. Registered before the hooks that cost something (authentication, rate limiting).
 */
export default fp<Config['overload']>(
  async function overload(fastify: FastifyInstance, thresholds) {
    const { maxEventLoopDelayMs, maxHeapUsedBytes, maxRssBytes } = thresholds
    if (maxEventLoopDelayMs === 0 && maxHeapUsedBytes === 0 && maxRssBytes === 0) return
    let warnedAt = 0
    let refusedSinceWarning = 0
    // Compiling the routes' schemas when the service gets ready holds the event loop for a while, and the sample
    // taken after it would count that as lag: no request is refused before the samples are past it.
    let refusingFrom = Number.POSITIVE_INFINITY
    fastify.addHook('onReady', async () => {
      refusingFrom = Date.now() + 2 * SAMPLE_INTERVAL_MS
    })
    await fastify.register(underPressure, {
      sampleInterval: SAMPLE_INTERVAL_MS,
      maxEventLoopDelay: maxEventLoopDelayMs,
      maxHeapUsedBytes,
      maxRssBytes,
      pressureHandler: async (request, reply, type, value) => {
        // Liveness says the process is alive, busy or not: failing it would have an orchestrator restart a
        // process that is only loaded, and move its load onto the others. Readiness does fail, which takes the
        // instance out of a load balancer's rotation until it recovers.
        if (request.routeOptions.url === '/healthz' || Date.now() < refusingFrom) return
        refusedSinceWarning++
        if (Date.now() - warnedAt >= WARN_EVERY_MS) {
          warnedAt = Date.now()
          request.log.warn(
            { measure: type, value, refused: refusedSinceWarning },
            'overloaded: requests are refused with 503 until it recovers',
          )
          refusedSinceWarning = 0
        }
        // Answered here rather than thrown: the error handler would log each refusal as a failure, with a stack.
        return sendProblem(reply, unavailable('the server is overloaded; retry'))
      },
    })
  },
  { name: 'overload' },
)
