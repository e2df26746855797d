import fc from 'fast-check'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { PROBLEMS, type ProblemCode } from '../src/errors/problems.js'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { UNDOCUMENTED_PATHS } from './helpers/contract.js'
import { type Checksum, changedTables, databaseChecksummer } from './helpers/database-checksum.js'
import {
  type FuzzRequest,
  Generators,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  type Pool,
} from './helpers/fuzz-requests.js'
import { bearer, buildTestApp, call } from './helpers/test-app.js'
import type { Page, Rebuttal } from './helpers/wire-types.js'

/**
 * Fuzzing: thousands of generated requests, bad ones mostly, at every route the app documents (and the few it
 * serves undocumented), through every part of a request: path, query, headers, body, key. Whatever is sent:
 *  - no answer is a 5xx, and every answer comes (within ANSWER_TIMEOUT_MS);
 *  - every 4xx is an RFC 9457 problem: application/problem+json, its status the HTTP status, and the type, title
 *    and code of one of the API's problems, with a detail;
 *  - every answer matches the OpenAPI document (buildTestApp checks each one);
 *  - the data changes only by writes answered 2xx (see `send`).
 *
 * FUZZ_RUNS scales the number of requests (default 1: about 10,600; `FUZZ_RUNS=20` for a soak), and this file's
 * time limit with them. FUZZ_SEED fixes the generators' seed, which each run otherwise picks anew and prints; a
 * failure prints the request that failed, which is what reproduces it (the ids and keys are new each run).
 */

const scale = Number(process.env.FUZZ_RUNS ?? 1)
if (!(scale > 0)) throw new Error(`FUZZ_RUNS must be a positive number, not ${process.env.FUZZ_RUNS}`)
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31
const MINIMUM_REQUESTS = Math.ceil(10_000 * scale)
// Well above the minute or so the default takes, alone or beside another test file on two cores.
t.setTimeout(Math.ceil(300_000 * Math.max(1, scale)))
/** Far above any honest answer (the slowest, a body of a megabyte, takes milliseconds), far below tap's timeout. */
const ANSWER_TIMEOUT_MS = 15_000

const { app, database, keys } = await buildTestApp(t)
await app.ready()

// --------------------------------------------------------------------------------------------------------------
// Records to aim at

async function created(url: string, body: object, token = keys.write) {
  const response = await call(app, 'POST', url, body, bearer(token))
  if (response.status !== 201) throw new Error(`seeding POST ${url}: ${response.status} ${response.raw}`)
  // Any created record: a party, claim, rebuttal, review or key; each caller reads what its kind has.
  return response.body as { id: string; slug?: string; token?: string; link?: { id: string } }
}

async function seedRecords(): Promise<Omit<Pool, 'cursors'>> {
  const party = (slug: string, kind: string, extra: object = {}, token = keys.write) =>
    created('/v1/parties', { slug, name: `Fuzz ${slug}`, kind, ...extra }, token)
  const stateA = await party('fuzz-state-a', 'state', { country: 'AM' })
  const stateB = await party('fuzz-state-b', 'state', { country: 'AZ', wikidata: 'Q227' })
  const speakers = [
    await party('fuzz-ministry-a', 'military', { side: stateA.id }),
    await party('fuzz-ministry-b', 'government', { side: 'fuzz-state-b' }),
    stateA,
    stateB,
    await party('fuzz-media', 'media', {}, keys.otherWrite),
    await party('fuzz-person', 'person', { country: 'GB' }, keys.otherWrite),
  ]
  const checkers = [
    await party('fuzz-checker-1', 'fact-checker'),
    await party('fuzz-checker-2', 'fact-checker', {}, keys.otherWrite),
  ]
  const idle = [await party('fuzz-idle-1', 'other'), await party('fuzz-idle-2', 'organisation', {}, keys.otherWrite)]

  const claims: string[] = []
  for (const [i, speaker] of speakers.entries()) {
    for (let n = 0; n < 4; n++) {
      const claim = await created(
        '/v1/claims',
        {
          party: speaker.slug,
          text: `Fuzz claim ${n} of ${speaker.slug}`,
          quote: n % 2 === 0 ? `"Quoted ${n}"` : undefined,
          stated_at: new Date(Date.UTC(2020, 9, 1 + i, n)).toISOString(),
          location: n === 1 ? { name: 'Stepanakert', lat: 39.8, lon: 46.75 } : undefined,
          tags: ['pipeline', `fuzz-${n}`],
          sources: [{ url: `https://example.org/${speaker.slug}/${n}`, publisher: 'Example' }],
        },
        n === 3 ? keys.otherWrite : keys.write,
      )
      claims.push(claim.id)
    }
  }
  const claimsOf = (i: number) => claims.slice(i * 4, i * 4 + 4)
  // Enough links and reviews that the deletes among the requests leave some to the requests after them.
  const links: string[] = []
  for (const [from, to] of [
    [1, 0],
    [4, 2],
    [5, 3],
  ] as const) {
    for (const [n, kind] of ['rebuts', 'rebuts', 'rebuts', 'supports'].entries()) {
      const body = { from_claim_id: claimsOf(from)[n], to_claim_id: claimsOf(to)[n], kind, note: `Fuzz link ${n}` }
      links.push((await created('/v1/links', body, n === 2 ? keys.otherWrite : keys.write)).id)
    }
  }
  for (const n of [0, 1]) {
    const rebuttal = await created(`/v1/claims/${claimsOf(4)[n]}/rebuttals`, {
      claim: { party: 'fuzz-person', text: `Fuzz rebuttal ${n}`, stated_at: '2020-10-20T00:00:00Z' },
      note: 'Fuzz note',
    })
    links.push(rebuttal.link!.id)
    claims.push((rebuttal as unknown as Rebuttal).claim.id)
  }
  const reviews: string[] = []
  for (const [reviewer, token] of [
    ['fuzz-checker-1', keys.write],
    ['fuzz-checker-2', keys.otherWrite],
  ] as const) {
    for (const [n, claim] of [claimsOf(0)[0], claimsOf(1)[1], claimsOf(2)[2], claimsOf(3)[3]].entries()) {
      const verdict = { verdict: 'false', rating_label: 'False', published_at: `2020-10-1${n}T00:00:00Z` }
      const scale = n % 2 === 0 ? { rating_value: 1, best_rating: 5, worst_rating: 1 } : {}
      const body = { reviewer, ...verdict, ...scale, url: 'https://example.org/check', summary: 'Fuzz finding.' }
      reviews.push((await created(`/v1/claims/${claim}/reviews`, body, token)).id)
    }
  }
  // Histories of more than one version, so that their cursors exist.
  for (const url of [`/v1/claims/${claims[0]}`, `/v1/claims/${claims[1]}`]) {
    await call(app, 'PATCH', url, { text: 'Fuzz claim, edited' })
  }
  await call(app, 'PATCH', `/v1/reviews/${reviews[0]}`, { summary: 'Edited.' })

  // Keys that may be revoked: never the ones the requests are sent with.
  const spareKeys: string[] = []
  for (const n of [1, 2, 3]) {
    spareKeys.push((await created('/v1/keys', { name: `fuzz spare ${n}`, scopes: ['write'] }, keys.admin)).id)
  }
  const revoked = await created('/v1/keys', { name: 'fuzz revoked', scopes: ['write'] }, keys.admin)
  await call(app, 'DELETE', `/v1/keys/${revoked.id}`, undefined, bearer(keys.admin))

  const etags: string[] = []
  for (const url of [`/v1/claims/${claims[0]}`, `/v1/parties/${stateA.id}`, `/v1/links/${links[0]}`]) {
    const tag = (await call(app, 'GET', url)).headers.etag
    if (typeof tag === 'string') etags.push(tag)
  }
  const allParties = [...speakers, ...checkers, ...idle]
  return {
    records: {
      parties: [...allParties.map((p) => p.id), ...allParties.map((p) => p.slug!)],
      claims,
      links,
      reviews,
      keys: spareKeys,
    },
    etags,
    tokens: { ...keys, revoked: revoked.token! },
  }
}

/** Cursors the lists hand out, one page in, for every list and every sort it has. */
async function cursorsOf(operations: Operation[], records: Pool['records']): Promise<string[]> {
  const cursors: string[] = []
  for (const operation of operations) {
    if (operation.method !== 'GET' || !operation.parameters.some((p) => p.name === 'cursor')) continue
    const collection = operation.path.split('/')[2] ?? ''
    const path = operation.path.replace(/\{[^}]+\}/, records[collection]?.[0] ?? '')
    const sorts = operation.parameters.find((p) => p.name === 'sort')?.schema?.enum ?? []
    for (const sort of [undefined, ...sorts]) {
      const query = sort === undefined ? '' : `&sort=${String(sort)}${sort === 'relevance' ? '&q=fuzz' : ''}`
      const response = await call(app, 'GET', `${path}?limit=1${query}`, undefined, bearer(keys.admin))
      const next = (response.body as Partial<Page<unknown>> | undefined)?.next_cursor
      if (typeof next === 'string') cursors.push(next)
    }
  }
  return cursors
}

const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApiDocument
const operations = operationsOf(document)
// The routes served outside the document (its viewer and the document itself) are fuzzed too, those this app has.
for (const path of UNDOCUMENTED_PATHS) {
  if ((await app.inject({ method: 'GET', url: path })).statusCode !== 404) {
    operations.push({ method: 'GET', path, parameters: [] })
  }
}
const seeded = await seedRecords()
const pool: Pool = { ...seeded, cursors: await cursorsOf(operations, seeded.records) }
const generators = new Generators(document, pool)

// --------------------------------------------------------------------------------------------------------------
// Sending, and what every answer is held to

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

interface Tally {
  requests: number
  byStatus: Map<number, number>
}
const total: Tally = { requests: 0, byStatus: new Map() }

function count(tally: Tally, status: number) {
  tally.requests++
  tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1)
}

function inClass(tally: Tally, first: number): number {
  return [...tally.byStatus].filter(([status]) => Math.floor(status / 100) === first).reduce((n, [, k]) => n + k, 0)
}

function answerWithin(ms: number, answer: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([answer, late]).finally(() => clearTimeout(timer))
}

/** What is wrong with an answer: a 5xx, or a 4xx that is not a well-formed problem of the API. */
function answerFailures(request: FuzzRequest, response: LightMyRequestResponse): string[] {
  const status = response.statusCode
  if (status >= 500) return [`answered ${status}: ${response.body.slice(0, 500)}`]
  if (status < 400) return []
  const failures: string[] = []
  const type = String(response.headers['content-type'] ?? '')
  if (!/^application\/problem\+json\s*(;|$)/i.test(type)) {
    failures.push(`a ${status} of content-type "${type}", not application/problem+json`)
  }
  // HEAD answers carry no body to check.
  if (request.method === 'HEAD') return failures
  let body: Record<string, unknown>
  try {
    body = JSON.parse(response.body) as Record<string, unknown>
  } catch {
    return [...failures, `a ${status} whose body is not JSON: ${response.body.slice(0, 200)}`]
  }
  const code = typeof body.code === 'string' ? body.code : undefined
  const known = code !== undefined && Object.hasOwn(PROBLEMS, code) ? PROBLEMS[code as ProblemCode] : undefined
  if (body.status !== status) failures.push(`the problem's status is ${String(body.status)}, the answer's ${status}`)
  if (typeof body.detail !== 'string' || body.detail === '') failures.push('the problem has no detail')
  if (known === undefined) failures.push(`the problem's code ${String(body.code)} is not one of the API's`)
  else {
    if (body.type !== PROBLEM_TYPE_PREFIX + code)
      failures.push(`the problem's type ${String(body.type)} is not its code's`)
    if (body.title !== known.title) failures.push(`the problem's title ${String(body.title)} is not its code's`)
    if (known.status !== status) failures.push(`the problem code ${code} is a ${known.status}, answered as ${status}`)
  }
  return failures.length === 0 ? [] : [...failures, `body: ${response.body.slice(0, 300)}`]
}

const checksum = await databaseChecksummer(database)
let lastChecksum: Checksum = await checksum()
/** Reads sent since the last checksum: none of them may have changed anything. */
let readsSinceChecksum: FuzzRequest[] = []

/** Takes a checksum; what changed since the last one, by table. */
async function changesSinceLastChecksum(): Promise<string[]> {
  const now = await checksum()
  const changed = changedTables(lastChecksum, now)
  lastChecksum = now
  return changed
}

/**
 * Sends a request and holds its answer to the rules above. The data may change only through a write (any method
 * but GET, HEAD and OPTIONS) that is answered 2xx. So a checksum of the data is taken after every write, and
 * before a write when reads went before it: a change since the last checksum must come from a write answered
 * 2xx, or it is a failure, blamed on the write (answered otherwise) or on the reads (which may change nothing).
 * Comparing each request's own before and after, rather than the whole run's, lets the writes that succeed
 * (the valid-looking requests aim to) change the data without hiding a change that a refused one made.
 */
async function send(request: FuzzRequest, tally: Tally): Promise<void> {
  const write = !SAFE_METHODS.has(request.method)
  if (write && readsSinceChecksum.length > 0) {
    const changed = await changesSinceLastChecksum()
    const reads = readsSinceChecksum
    readsSinceChecksum = []
    if (changed.length > 0) {
      throw new Error(
        `reads changed ${changed.join(', ')}; one of these:\n${reads.map((read) => read.describe(200)).join('\n')}`,
      )
    }
  }
  let response: LightMyRequestResponse
  try {
    response = await answerWithin(
      ANSWER_TIMEOUT_MS,
      app.inject({
        method: request.method as InjectOptions['method'],
        url: request.url,
        headers: request.headers,
        payload: request.payload,
      }),
    )
  } catch (error) {
    // The contract check of buildTestApp throws when an answer breaks the OpenAPI document.
    throw new Error(`${request.describe()}\n  failed: ${(error as Error).message}`)
  }
  count(tally, response.statusCode)
  count(total, response.statusCode)
  const failures = answerFailures(request, response)
  if (write) {
    const changed = await changesSinceLastChecksum()
    const succeeded = response.statusCode >= 200 && response.statusCode < 300
    // A request with an Idempotency-Key that its handler answered with a problem keeps that answer for its
    // retries (by design: it is what the request came to); its data must still be untouched.
    const keptAnswer =
      request.headers['idempotency-key'] !== undefined && changed.every((table) => table === 'idempotency_records')
    if (changed.length > 0 && !succeeded && !(keptAnswer && response.statusCode < 500)) {
      failures.push(`changed ${changed.join(', ')} though answered ${response.statusCode}`)
    }
  } else {
    readsSinceChecksum.push(request)
  }
  if (failures.length > 0) throw new Error(`${request.describe()}\n  ${failures.join('\n  ')}`)
}

// --------------------------------------------------------------------------------------------------------------
// The runs

const withQuery = operations.filter((o) => o.parameters.some((p) => p.in === 'query'))
const withPathParameters = operations.filter((o) => o.parameters.some((p) => p.in === 'path'))
const withBody = operations.filter((o) => o.body !== undefined)

interface Category {
  name: string
  runs: number
  requests: fc.Arbitrary<FuzzRequest>
}

/** Requests to any of the operations, each built the way `build` says (once: building an arbitrary costs). */
const toAnyOf = (chosen: Operation[], build: (operation: Operation) => fc.Arbitrary<FuzzRequest>) =>
  fc.oneof(...chosen.map(build))

const categories: Category[] = [
  {
    name: 'path parameters',
    runs: 1500,
    requests: toAnyOf(withPathParameters, (operation) =>
      generators.request('path parameters', operation, { badness: { path: 7 }, validKeyWeight: 8 }),
    ),
  },
  {
    name: 'query strings',
    runs: 1800,
    requests: toAnyOf(withQuery, (operation) =>
      generators.request('query strings', operation, { badness: { query: 7 }, validKeyWeight: 6 }),
    ),
  },
  {
    name: 'headers',
    runs: 1500,
    requests: toAnyOf(operations, (operation) =>
      generators.request('headers', operation, { badness: { headers: 7 }, validKeyWeight: 6 }),
    ),
  },
  {
    name: 'bodies',
    runs: 2700,
    requests: toAnyOf(withBody, (operation) =>
      generators.request('bodies', operation, { badness: { body: 7 }, validKeyWeight: 10 }),
    ),
  },
  {
    name: 'everything at once',
    runs: 1000,
    requests: toAnyOf(operations, (operation) =>
      generators.request('everything at once', operation, {
        badness: { path: 5, query: 5, headers: 5, body: 5 },
        validKeyWeight: 4,
      }),
    ),
  },
  {
    name: 'keys',
    runs: 600,
    requests: toAnyOf(operations, (operation) =>
      generators.request('keys', operation, { badness: { body: 2 }, validKeyWeight: 1 }),
    ),
  },
  { name: 'off the routes', runs: 600, requests: generators.offRoute('off the routes', operations) },
  {
    name: 'valid-looking requests on real records',
    runs: 900,
    requests: toAnyOf(operations, (operation) =>
      generators.request('valid-looking', operation, { badness: {}, validKeyWeight: 10 }),
    ),
  },
]

t.comment(
  `fuzzing ${operations.length} operations with seed ${seed} (FUZZ_SEED=${seed} makes the same choices again, ` +
    'against records and keys with new ids)',
)

for (const [index, category] of categories.entries()) {
  t.test(`fuzzing ${category.name}`, async (t) => {
    const tally: Tally = { requests: 0, byStatus: new Map() }
    const runs = Math.max(1, Math.round(category.runs * scale))
    // Stops at the first failure without shrinking it: the data moves with every request, so a shrunk request
    // may not fail again, whereas the request printed is the one that failed.
    await fc.assert(
      fc.asyncProperty(category.requests, (request) => send(request, tally)),
      { numRuns: runs, seed: seed + index, endOnFailure: true },
    )
    t.equal(tally.requests, runs, `${runs} requests sent`)
    t.equal(inClass(tally, 5), 0, 'none answered 5xx')
    t.comment(
      `${category.name}: ${tally.requests} requests; ${inClass(tally, 2)} 2xx, ${inClass(tally, 3)} 3xx, ` +
        `${inClass(tally, 4)} 4xx, ${inClass(tally, 5)} 5xx`,
    )
  })
}

t.test('in all', async (t) => {
  const changed = await changesSinceLastChecksum()
  t.same(changed, [], 'the last reads changed nothing')
  t.ok(total.requests >= MINIMUM_REQUESTS, `at least ${MINIMUM_REQUESTS} requests fuzzed`)
  t.equal(inClass(total, 5), 0, 'no 5xx')
  const statuses = [...total.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`)
  t.comment(
    `requests fuzzed: ${total.requests}; 5xx seen: ${inClass(total, 5)} ` +
      `(2xx ${inClass(total, 2)}, 3xx ${inClass(total, 3)}, 4xx ${inClass(total, 4)}; ${statuses.join(', ')})`,
  )
})
