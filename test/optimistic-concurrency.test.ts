import t, { type Test } from 'tap'
import { contractViolations } from './helpers/contract.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { type HttpAnswer, httpClient, listenOnLoopback } from './helpers/http-client.js'
import { buildTestApp } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'
import type { Claim, ClaimVersion, ReviewVersion } from './helpers/wire-types.js'

/**
 * Optimistic concurrency over real HTTP: the app listens on a port, and each of the racing requests arrives on a
 * connection of its own, as from separate clients. On a PostgreSQL server they run at once on the pool's
 * connections and meet on row locks; the embedded database serialises them, so there the outcome rules are
 * checked without the locking.
 */
const RACERS = 20

const { app, database, keys } = await buildTestApp(t)
const origin = await listenOnLoopback(app)
const client = httpClient(origin, { connections: RACERS })
t.teardown(() => client.close())
t.comment(serverUrl ? 'racing on a PostgreSQL server' : 'the embedded database serialises the racers')

const writer = { authorization: `Bearer ${keys.write}` }

/** Sends a request with the test's write key; every answer must be one the OpenAPI document describes. */
async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const answer = await client.send(method, path, { body, headers: { ...writer, ...headers } })
  const violations = contractViolations({
    method,
    url: path,
    status: answer.status,
    headers: answer.headers,
    body: answer.raw,
  })
  if (violations.length > 0) throw new Error(`${method} ${path} broke the contract: ${violations.join('; ')}`)
  return answer
}

async function created(path: string, body: unknown) {
  const answer = await send('POST', path, body)
  if (answer.status !== 201) throw new Error(`POST ${path}: ${answer.status} ${answer.raw.toString()}`)
  return answer
}

const countOf = (answers: HttpAnswer[], status: number) => answers.filter((a) => a.status === status).length

/** Twenty PATCHes of one resource, all sent at once with the same If-Match, each with its own body. */
function race(path: string, etag: string | undefined, bodyOf: (i: number) => unknown) {
  const condition: Record<string, string> = etag === undefined ? {} : { 'if-match': etag }
  return Promise.all(Array.from({ length: RACERS }, (_, i) => send('PATCH', path, bodyOf(i), condition)))
}

/** Exactly one of the racers wins; every other is told its tag is stale, and nothing of it is written. */
function oneWinner(t: Test, answers: HttpAnswer[]): HttpAnswer {
  t.equal(countOf(answers, 200), 1, 'exactly one 200')
  t.equal(countOf(answers, 412), RACERS - 1, `${RACERS - 1} answered 412`)
  t.ok(
    answers.filter((a) => a.status === 412).every((a) => a.body.code === 'precondition-failed'),
    'each 412 is a precondition-failed problem',
  )
  const winner = answers.find((a) => a.status === 200)!
  // Each loser waited for the winner's row lock, and is told of the version the winner made.
  t.ok(
    answers
      .filter((a) => a.status === 412)
      .every(
        (a) =>
          a.headers.etag === winner.headers.etag &&
          a.body.current_etag === winner.headers.etag &&
          JSON.stringify(a.body.current) === JSON.stringify(winner.body),
      ),
    'each 412 carries the winning version and its ETag',
  )
  return winner
}

await created('/v1/parties', { slug: 'racing-claimant', name: 'Racing claimant', kind: 'official' })
await created('/v1/parties', { slug: 'racing-rebutter', name: 'Racing rebutter', kind: 'media' })
await created('/v1/parties', { slug: 'racing-checker', name: 'Racing fact-checker', kind: 'fact-checker' })
let stated = 0
const newClaim = async (party: string) =>
  (
    await created('/v1/claims', {
      party,
      text: `Claim number ${++stated}.`,
      stated_at: new Date(Date.UTC(2020, 9, 1, stated)).toISOString(),
    })
  ).body as Claim

t.test(`claims: ${RACERS} PATCHes with the same If-Match give one 200 and ${RACERS - 1} 412s`, async (t) => {
  const claim = await created('/v1/claims', {
    party: 'racing-claimant',
    text: 'Contested wording.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  const path = `/v1/claims/${claim.body.id}`
  const winner = oneWinner(t, await race(path, claim.headers.etag, (i) => ({ text: `Wording number ${i}.` })))
  const read = await send('GET', path)
  t.match(read.body, { version: 2, text: winner.body.text }, 'the winning edit is the one stored')
  t.equal(read.headers.etag, winner.headers.etag)
  const history = await send('GET', `${path}/history`)
  t.same(
    history.body.data.map((v: ClaimVersion) => v.version),
    [2, 1],
    'one version for the one edit that happened',
  )
})

t.test(`parties: ${RACERS} PATCHes with the same If-Match give one 200 and ${RACERS - 1} 412s`, async (t) => {
  const party = await created('/v1/parties', { slug: 'racing-renamed', name: 'Before', kind: 'organisation' })
  const path = `/v1/parties/${party.body.id}`
  const winner = oneWinner(
    t,
    await race(path, party.headers.etag, (i) => ({ name: `Name number ${i}`, description: `Edit ${i}.` })),
  )
  const read = await send('GET', path)
  t.match(read.body, { version: 2, name: winner.body.name, description: winner.body.description })
  t.equal(read.headers.etag, winner.headers.etag)
})

t.test(`reviews: ${RACERS} PATCHes with the same If-Match give one 200 and ${RACERS - 1} 412s`, async (t) => {
  const claim = await newClaim('racing-claimant')
  const review = await created(`/v1/claims/${claim.id}/reviews`, {
    reviewer: 'racing-checker',
    verdict: 'unproven',
    rating_label: 'Unproven',
    published_at: '2020-10-08T00:00:00Z',
  })
  const path = `/v1/reviews/${review.body.id}`
  const verdicts = ['false', 'mostly-false', 'mixed', 'mostly-true', 'true']
  const winner = oneWinner(
    t,
    await race(path, review.headers.etag, (i) => ({
      verdict: verdicts[i % verdicts.length],
      rating_label: `Label ${i}`,
    })),
  )
  const read = await send('GET', path)
  t.match(read.body, { version: 2, rating_label: winner.body.rating_label, verdict: winner.body.verdict })
  const history = await send('GET', `${path}/history`)
  t.same(
    history.body.data.map((v: ReviewVersion) => v.version),
    [2, 1],
  )
})

t.test(`links: ${RACERS} DELETEs with the same If-Match delete once; the others find it gone`, async (t) => {
  const answered = await newClaim('racing-claimant')
  const response = await newClaim('racing-rebutter')
  const link = await created('/v1/links', { from_claim_id: response.id, to_claim_id: answered.id, kind: 'rebuts' })
  t.equal((await send('GET', `/v1/claims/${answered.id}`)).body.rebuttal_count, 1)

  const answers = await Promise.all(
    Array.from({ length: RACERS }, () =>
      send('DELETE', `/v1/links/${link.body.id}`, undefined, { 'if-match': link.headers.etag as string }),
    ),
  )
  t.equal(countOf(answers, 204), 1, 'exactly one 204')
  // Once the link is gone its preconditions are not evaluated (RFC 9110, 13.2.1): the others are told it is gone.
  t.equal(countOf(answers, 410), RACERS - 1, `${RACERS - 1} answered 410 Gone`)
  t.equal((await send('GET', `/v1/links/${link.body.id}`)).status, 410)
  t.match((await send('GET', `/v1/claims/${answered.id}`)).body, { rebuttal_count: 0, status: 'unchallenged' })
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('edits and deletes of one claim racing with the same If-Match: exactly one of them happens', async (t) => {
  for (let round = 0; round < 5; round++) {
    const claim = await created('/v1/claims', {
      party: 'racing-claimant',
      text: `Edited or deleted, round ${round}.`,
      stated_at: '2020-10-06T00:00:00Z',
    })
    const path = `/v1/claims/${claim.body.id}`
    const condition = { 'if-match': claim.headers.etag as string }
    const answers = await Promise.all(
      Array.from({ length: RACERS }, (_, i) =>
        i % 2 === 0
          ? send('PATCH', path, { text: `Edit ${i}.` }, condition)
          : send('DELETE', path, undefined, condition),
      ),
    )
    const statuses = answers.map((a) => a.status)
    t.equal(
      statuses.filter((s) => s === 200 || s === 204).length,
      1,
      `round ${round}: one write succeeds (${statuses.join(' ')})`,
    )
    t.ok(
      statuses.every((s) => [200, 204, 410, 412].includes(s)),
      'the others are refused as stale (412) or find the claim gone (410)',
    )
    const read = await send('GET', path)
    if (statuses.includes(204)) t.equal(read.status, 410, 'the delete won: the claim is gone')
    else t.match(read.body, { version: 2 }, 'the edit won: one new version')
  }
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('PATCH without If-Match is allowed (no 428): edits apply one after another, none lost', async (t) => {
  const claim = await created('/v1/claims', {
    party: 'racing-claimant',
    text: 'Edited without a tag.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  const path = `/v1/claims/${claim.body.id}`
  const answers = await race(path, undefined, (i) => ({ text: `Untagged edit ${i}.` }))
  t.same(
    answers.map((a) => a.status),
    Array(RACERS).fill(200),
    'every PATCH without If-Match is applied',
  )
  const versions = answers.map((a) => a.body.version as number).sort((a, b) => a - b)
  t.same(
    versions,
    Array.from({ length: RACERS }, (_, i) => i + 2),
    'each edit made its own version: none overwrote another unseen',
  )
  const last = answers.find((a) => a.body.version === RACERS + 1)!
  const read = await send('GET', path)
  t.match(read.body, { version: RACERS + 1, text: last.body.text }, 'the last edit applied is the one stored')
  const history = await send('GET', `${path}/history?limit=100`)
  t.equal(history.body.data.length, RACERS + 1, 'and every version is in the history')

  const party = await send('PATCH', '/v1/parties/racing-claimant', { description: 'Edited without a tag.' })
  t.equal(party.status, 200, 'a party too')
})

t.test('a 412 carries the current record and its ETag, and a retry with that ETag applies', async (t) => {
  const answered = await newClaim('racing-claimant')
  const responding = await newClaim('racing-rebutter')
  const claim = await created('/v1/claims', {
    party: 'racing-claimant',
    text: 'To reconcile.',
    stated_at: '2020-10-09',
  })
  const party = await created('/v1/parties', { slug: 'reconciled', name: 'Reconciled', kind: 'organisation' })
  const event = await created('/v1/events', { slug: 'reconciled-event', name: 'Reconciled', starts_at: '2020-10-01' })
  const link = await created('/v1/links', { from_claim_id: responding.id, to_claim_id: answered.id, kind: 'rebuts' })
  const review = await created(`/v1/claims/${answered.id}/reviews`, {
    reviewer: 'racing-checker',
    verdict: 'unproven',
    rating_label: 'Unproven',
    published_at: '2020-10-08T00:00:00Z',
  })
  const records: Array<[string, HttpAnswer, Record<string, unknown>]> = [
    [`/v1/claims/${claim.body.id}`, claim, { tags: ['edited'] }],
    [`/v1/parties/${party.body.id}`, party, { description: 'Edited.' }],
    [`/v1/events/${event.body.id}`, event, { description: 'Edited.' }],
    [`/v1/links/${link.body.id}`, link, { note: 'Edited.' }],
    [`/v1/reviews/${review.body.id}`, review, { rating_label: 'Edited' }],
  ]
  for (const [path, first, patch] of records) {
    const stale = first.headers.etag as string
    const edited = await send('PATCH', path, patch, { 'if-match': stale })
    t.equal(edited.status, 200, `${path}: edited`)
    const current = await send('GET', path)
    for (const [method, body, headers] of [
      ['PATCH', patch, { 'if-match': stale }],
      ['DELETE', undefined, { 'if-match': stale }],
      ['PATCH', patch, { 'if-none-match': current.headers.etag as string }],
      ['DELETE', undefined, { 'if-none-match': '*' }],
    ] as const) {
      const refused = await send(method, path, body, headers)
      t.equal(refused.status, 412, `${method} ${path} with ${JSON.stringify(headers)}`)
      t.equal(refused.headers.etag, current.headers.etag, 'the ETag header is the current one')
      t.equal(refused.body.current_etag, current.headers.etag, 'and so is current_etag')
      t.same(refused.body.current, current.body, 'current is the record as a GET answers it')
    }
    t.same((await send('GET', path)).body, current.body, `${path}: nothing changed`)
    const retried = await send('PATCH', path, patch, { 'if-match': current.headers.etag as string })
    t.equal(retried.status, 200, `${path}: a retry with the current ETag applies`)
  }
  // A key that may not change the record learns nothing of it from a precondition: 403, without the record.
  const other = await client.send('DELETE', `/v1/claims/${claim.body.id}`, {
    headers: { authorization: `Bearer ${keys.otherWrite}`, 'if-match': '"stale"' },
  })
  t.equal(other.status, 403)
  t.notOk('current' in other.body, 'no current record in a 403')
  t.notOk(other.headers.etag, 'and no ETag')
})
