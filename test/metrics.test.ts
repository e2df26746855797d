import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openServerDatabase } from '../src/db/database.js'
import { serveMetrics } from '../src/plugins/metrics.plugin.js'
import { buildTestApp, call, TEST_LIMITS } from './helpers/test-app.js'
import { freePort, startProjectProcess } from './helpers/project-process.js'

/** The value of one sample of the exposition text, by its metric name and labels as written; undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function scrape(base: string) {
  const response = await fetch(`${base}/metrics`)
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() }
}

t.test('the metrics port serves requests, latency, pool, slots, refusals and the event loop', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_PER_IP: '2' })
  const server = await serveMetrics(app.metricsRegistry, { host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  t.equal((await call(app, 'GET', '/v1/claims')).status, 200)
  const anonymous = () => app.inject({ method: 'GET', url: '/v1/parties', remoteAddress: '192.0.2.9' })
  const statuses = [(await anonymous()).statusCode, (await anonymous()).statusCode, (await anonymous()).statusCode]
  t.same(statuses, [200, 200, 429], 'the third anonymous request from one address passes the limit')

  const { status, type, text } = await scrape(base)
  t.equal(status, 200)
  t.match(type, /^text\/plain; version=0\.0\.4/, 'the Prometheus text format')
  t.ok(
    (sample(text, 'http_request_duration_seconds_count{method="GET",route="/v1/claims",status_code="200"}') ?? 0) >= 1,
    'requests are counted by route, method and status',
  )
  t.match(text, /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/claims"/, 'a histogram')
  t.equal(sample(text, 'counterclaim_rate_limit_refusals_total'), 1, 'the 429 is counted')
  t.equal(sample(text, 'counterclaim_slots_in_use{kind="export"}'), 0, 'no export runs')
  t.ok((sample(text, 'counterclaim_slots_limit{kind="export"}') ?? 0) >= 1, 'the export slots')
  for (const state of ['in_use', 'idle', 'waiting']) {
    t.type(sample(text, `counterclaim_database_pool_connections{state="${state}"}`), 'number', `pool: ${state}`)
  }
  t.type(sample(text, 'nodejs_eventloop_lag_p99_seconds'), 'number', 'event-loop delay')

  const other = await fetch(`${base}/v1/claims`)
  t.equal(other.status, 404, 'the metrics port serves nothing else')
  await other.text()
})

t.test('database errors are counted by kind', async (t) => {
  // A server that is not there: every request that needs the database fails as unavailable.
  const unreachable = openServerDatabase({
    url: 'postgres://postgres@127.0.0.1:1/none',
    poolMax: 1,
    statementTimeoutMs: 1000,
    connectTimeoutMs: 500,
  })
  const config = { ...loadConfig(TEST_LIMITS), migrateOnStart: false }
  const app = await buildApp({ config, database: unreachable, logger: false })
  t.teardown(() => app.close())
  const response = await app.inject({ method: 'GET', url: '/v1/claims' })
  t.equal(response.statusCode, 503)
  const text = await app.metricsRegistry.metrics()
  t.ok((sample(text, 'counterclaim_database_errors_total{kind="unavailable"}') ?? 0) >= 1, 'as unavailable')
})

t.test('the service serves metrics on METRICS_HOST:METRICS_PORT, and none when the port is 0', async (t) => {
  const [port, metricsPort] = await Promise.all([freePort(), freePort()])
  const service = startProjectProcess(t, 'src/server.ts', {
    DATABASE_URL: '',
    DATA_DIR: t.testdir(),
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
  })
  let health: Response | undefined
  for (let attempt = 0; attempt < 300 && health?.status !== 200; attempt++) {
    health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)
    if (health?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(health?.status, 200, `the service is up\n${service.stderr()}`)
  const { status, text } = await scrape(`http://127.0.0.1:${metricsPort}`)
  t.equal(status, 200)
  t.match(text, /counterclaim_database_pool_connections/)
  const onApiPort = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(onApiPort.status, 404, 'not on the API port')
  await onApiPort.text()
  service.child.kill('SIGTERM')
  t.same(await service.exited, { code: 0, signal: null }, 'and stops cleanly')
})
