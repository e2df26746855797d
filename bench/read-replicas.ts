import os from 'node:os'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { postgresBinaries, serverUser, startThrowawayCluster } from '../test/helpers/throwaway-cluster.js'

/**
 * What reading from a streaming replica, and read-your-writes, cost on GET claim. A throwaway primary and a replica
 * made with `pg_basebackup -R` (both on this machine), and two instances of the service in this process: one on the
 * primary alone, one with the replica for reads. A writer commits a row on the primary every 20 ms throughout, so
 * that the replica always has something to replay, and keeps the primary's latest position. Runs, interleaved:
 *
 * - primary: GET claim on the instance without replicas
 * - replica: on the instance with the replica, no token
 * - replica, old token: with a token the replica has replayed long ago (no query needed to know it)
 * - replica, latest token: with the primary's latest position, as a read right after a write sends it (the replica
 *   is asked how far it has replayed, and the read waits for it when it is not there yet)
 *
 *   npx tsx bench/read-replicas.ts [--seconds 3] [--rounds 5] [--connections 10]
 */

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
  },
})
const SECONDS = Number(options.seconds)
const ROUNDS = Number(options.rounds)
const CONNECTIONS = Number(options.connections)
const loadAtStart = os.loadavg()

const bindir = postgresBinaries()
const runAs = serverUser()
if (bindir === undefined || runAs === undefined)
  throw new Error('needs the PostgreSQL server binaries (initdb, pg_basebackup)')
const primary = await startThrowawayCluster(bindir, runAs)
const replica = await startThrowawayCluster(bindir, runAs, { replicaOf: primary })

/** Statements sent to each server by the service's pools (and the bench's own writer), by port. */
const statements = new Map<number, number>()
const query = pg.Client.prototype.query
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements.set(this.port, (statements.get(this.port) ?? 0) + 1)
  return (query as (...a: unknown[]) => unknown).apply(this, args)
} as typeof query

const apps: FastifyInstance[] = []
let writing = true
try {
  const env = { RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_KEY: '0', MAX_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'silent' }
  const start = async (extra: Record<string, string>) => {
    const config = loadConfig({ ...env, DATABASE_URL: primary.url, DATABASE_POOL_MAX: '10', ...extra })
    const app = await buildApp({ config })
    apps.push(app)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    return { app, base: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` }
  }
  const plain = await start({})
  const replicated = await start({ DATABASE_READ_URL: replica.url })

  const { token } = await createApiKey(plain.app.db, { name: 'bench', scopes: ['write'] })
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${replicated.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { body: (await response.json()) as { id: string }, token: response.headers.get('counterclaim-consistency') }
  }
  await post('/v1/parties', { slug: 'bench-party', name: 'Bench party', kind: 'state' })
  const claim = await post('/v1/claims', {
    party: 'bench-party',
    text: 'The claim every run reads.',
    stated_at: '2024-01-01T00:00:00Z',
  })
  const oldToken = claim.token!
  const path = `/v1/claims/${claim.body.id}`

  // The writer: a commit every 20 ms, and the primary's position after it.
  const writer = new pg.Client({ connectionString: primary.url })
  await writer.connect()
  await writer.query('CREATE TABLE bench_ticks (at timestamptz NOT NULL DEFAULT now())')
  let latest = oldToken
  let writes = 0
  const writerDone = (async () => {
    while (writing) {
      await writer.query('INSERT INTO bench_ticks DEFAULT VALUES')
      latest = (await writer.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn
      writes++
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  // Until the replica is checked and serves reads.
  for (let i = 0; i < 200; i++) {
    const ready = (await (await fetch(`${replicated.base}/readyz`)).json()) as { replicas?: Array<{ state: string }> }
    if (ready.replicas?.[0]?.state === 'ok') break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const scenarios = [
    { name: 'primary', base: plain.base, header: () => undefined },
    { name: 'replica', base: replicated.base, header: () => undefined },
    { name: 'replica, old token', base: replicated.base, header: () => oldToken },
    { name: 'replica, latest token', base: replicated.base, header: () => latest },
  ]
  const results = new Map<
    string,
    Array<{ rps: number; p50: number; p99: number; non2xx: number; onPrimary: number; onReplica: number }>
  >()
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      const before = { primary: statements.get(primary.port) ?? 0, replica: statements.get(replica.port) ?? 0 }
      const writesBefore = writes
      const result = await autocannon({
        url: `${scenario.base}${path}`,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          {
            setupRequest: (request) => {
              const value = scenario.header()
              return value === undefined
                ? request
                : { ...request, headers: { ...request.headers, 'counterclaim-consistency': value } }
            },
          },
        ],
      })
      const row = {
        rps: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx + result.errors,
        // Per request; the writer's two statements per write and the background checks are taken out (roughly).
        onPrimary: 0,
        onReplica: 0,
      }
      const requests = result.requests.total
      row.onPrimary = ((statements.get(primary.port) ?? 0) - before.primary - 2 * (writes - writesBefore)) / requests
      row.onReplica = ((statements.get(replica.port) ?? 0) - before.replica) / requests
      results.set(scenario.name, [...(results.get(scenario.name) ?? []), row])
      console.error(`round ${round} ${scenario.name}: ${JSON.stringify(row)}`)
    }
  }
  writing = false
  await writerDone
  await writer.end()

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  const base = median(results.get('primary')!.map((r) => r.rps))
  console.log(
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${SECONDS} s x ${ROUNDS} rounds, ` +
      `${CONNECTIONS} connections; ${os.cpus().length} cores, load ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} ` +
      `before the run; Node.js ${process.version}; ${writes} background writes`,
  )
  console.log('')
  console.log(
    '| GET claim | req/s (median of rounds) | p50 ms | p99 ms | vs primary | statements per request on the primary, on the replica | non-2xx |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const { name } of scenarios) {
    const rows = results.get(name)!
    const rps = median(rows.map((r) => r.rps))
    console.log(
      `| ${name} | ${rps.toLocaleString('en')} (${rows.map((r) => r.rps.toLocaleString('en')).join(', ')}) | ` +
        `${median(rows.map((r) => r.p50))} | ${median(rows.map((r) => r.p99))} | ${(rps / base).toFixed(2)}x | ` +
        `${median(rows.map((r) => r.onPrimary)).toFixed(2)}, ${median(rows.map((r) => r.onReplica)).toFixed(2)} | ` +
        `${rows.reduce((sum, r) => sum + r.non2xx, 0)} |`,
    )
  }
} finally {
  writing = false
  for (const app of apps) await app.close()
  await replica.destroy()
  await primary.destroy()
}
