import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openServerDatabase } from '../src/db/database.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { call } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'
import { postgresBinaries, serverUser, startThrowawayCluster } from './helpers/throwaway-cluster.js'

const bindir = postgresBinaries()
const runAs = serverUser()
const skip =
  serverUrl === undefined
    ? 'runs with DATABASE_URL only: the embedded run stays light, and CI has the PostgreSQL binaries for that run'
    : bindir === undefined
      ? 'no PostgreSQL server binaries (initdb, postgres) found through pg_config or under /usr/lib/postgresql'
      : runAs === undefined
        ? 'the tests run as root and no non-root postgres user can run the server (setpriv or runuser)'
        : false

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('PostgreSQL killed with SIGKILL under writes, then restarted', { skip }, async (t) => {
  const cluster = await startThrowawayCluster(bindir!, runAs!)
  let running = true
  let opened: FastifyInstance | undefined
  t.teardown(async () => {
    running = false
    // The cluster goes whatever happens; the app is given a few seconds to close first.
    try {
      await Promise.race([opened?.close(), sleep(5000)])
    } finally {
      await cluster.destroy()
    }
  })
  const limits = { statementTimeoutMs: 2000, connectTimeoutMs: 1000 }
  const database = openServerDatabase({ url: cluster.url, poolMax: 8, ...limits })
  // Neither the rate limits nor a busy test machine (event loop lag) may answer for the database here.
  const config = loadConfig({ RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_KEY: '0', MAX_EVENT_LOOP_DELAY_MS: '0' })
  const app = await buildApp({ config: { ...config, migrateOnStart: true }, database, logger: false })
  opened = app

  const { token } = await createApiKey(app.db, { name: 'writer', scopes: ['write'] })
  const write = (url: string, body: unknown) => call(app, 'POST', url, body, { authorization: `Bearer ${token}` })

  // Every answer a writer got, and what each acknowledged (201) write created.
  const answers: Array<{ status: number; ms: number; at: number; problem: boolean; retryAfter: boolean }> = []
  const acknowledged = { parties: [] as string[], claims: [] as string[] }
  // A wait for a connection, then one query's answer: no request may take longer, however the server fails.
  const boundMs = limits.connectTimeoutMs + limits.statementTimeoutMs + 1000 + 2000
  let hung = 0

  async function send(url: string, body: unknown) {
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const response = await Promise.race([
      write(url, body),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), boundMs))),
    ])
    clearTimeout(timer)
    if (response === undefined) {
      hung++
      return undefined
    }
    answers.push({
      status: response.status,
      ms: performance.now() - started,
      at: performance.now(),
      problem:
        /^application\/problem\+json\b/.test(String(response.headers['content-type'])) &&
        response.body?.type === `${PROBLEM_TYPE_PREFIX}service-unavailable`,
      retryAfter: Number(response.headers['retry-after']) > 0,
    })
    return response
  }

  async function writer(id: number) {
    for (let n = 0; running; n++) {
      const slug = `writer-${id}-${n}`
      const party = await send('/v1/parties', { slug, name: `Writer ${id}, party ${n}`, kind: 'other' })
      if (party?.status === 201) {
        acknowledged.parties.push(slug)
        const claim = await send('/v1/claims', { party: slug, text: `Claim ${n}.`, stated_at: '2020-10-06T00:00:00Z' })
        if (claim?.status === 201) acknowledged.claims.push(claim.body.id)
      }
      // Refused at once while the server is down: a short pause, so that the loop does not spin.
      if (party?.status !== 201) await sleep(10)
    }
  }
  const writers = Array.from({ length: 6 }, (_, id) => writer(id))

  // Under load: a good number of writes acknowledged (a slow machine takes longer to get there), then the kill.
  const loadedAt = performance.now()
  while (acknowledged.parties.length + acknowledged.claims.length < 100 && performance.now() - loadedAt < 10_000) {
    await sleep(20)
  }
  const beforeKill = acknowledged.parties.length + acknowledged.claims.length
  const killedAt = performance.now()
  cluster.kill()
  await cluster.gone()
  // Down for a while, with the writers still asking.
  await sleep(1000)
  await cluster.start()
  const acceptingAt = performance.now()
  while (!answers.some((answer) => answer.at >= acceptingAt && answer.status === 201)) {
    if (performance.now() - acceptingAt > 10_000) break
    await sleep(10)
  }
  const firstWriteAt = answers.find((answer) => answer.at >= acceptingAt && answer.status === 201)?.at
  await sleep(1000)
  running = false
  await Promise.all(writers)

  const duringOutage = answers.filter((answer) => answer.at > killedAt && answer.at < acceptingAt)
  t.ok(beforeKill > 0, 'writes were acknowledged before the kill')
  t.ok(duringOutage.length > 0, 'requests were answered while the server was down')
  t.equal(hung, 0, `no request went unanswered for ${boundMs} ms`)
  t.same(
    [...new Set(answers.map((answer) => answer.status))].sort(),
    [201, 503],
    'every answer is a 201 or a 503, never a 500',
  )
  const refusals = answers.filter((answer) => answer.status === 503)
  t.ok(
    refusals.every((answer) => answer.problem && answer.retryAfter),
    'every 503 is a service-unavailable problem with Retry-After',
  )
  t.ok(firstWriteAt !== undefined, 'writes are acknowledged again, without a restart of the service')
  const recoveryMs = firstWriteAt === undefined ? undefined : Math.round(firstWriteAt - acceptingAt)
  t.ok(recoveryMs !== undefined && recoveryMs < 5000, 'within 5 s of the server accepting connections')

  let lost = 0
  for (const slug of acknowledged.parties) if ((await call(app, 'GET', `/v1/parties/${slug}`)).status !== 200) lost++
  for (const id of acknowledged.claims) if ((await call(app, 'GET', `/v1/claims/${id}`)).status !== 200) lost++
  t.equal(lost, 0, 'every acknowledged write is still there')

  t.comment(
    JSON.stringify({
      acknowledged: acknowledged.parties.length + acknowledged.claims.length,
      acknowledgedBeforeKill: beforeKill,
      lost,
      answered503: refusals.length,
      answeredDuringOutage: duringOutage.length,
      slowestAnswerMs: Math.round(Math.max(...answers.map((answer) => answer.ms))),
      downMs: Math.round(acceptingAt - killedAt),
      recoveryMs,
    }),
  )
})
