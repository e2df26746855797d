import t, { type Test } from 'tap'
import { derivedStateDrift } from '../src/services/derived-state.js'
import type { Tombstone } from '../src/schemas/tombstone.schema.js'
import { TOMBSTONE_CSV_COLUMNS } from '../src/schemas/export.schema.js'
import { bearer, buildTestApp, call } from './helpers/test-app.js'
import type { Claim, ClaimVersion, Link, Party, Problem, Review, ReviewVersion } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)

type Gone = Problem & { tombstone: Tombstone }

async function created<T>(url: string, body: unknown): Promise<T> {
  const response = await call(app, 'POST', url, body)
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body as T
}

const party = (slug: string, kind = 'state') => created<Party>('/v1/parties', { slug, name: `The ${slug}`, kind })

const claim = (partySlug: string, text: string, statedAt = '2020-10-06T09:30:00Z') =>
  created<Claim>('/v1/claims', { party: partySlug, text, stated_at: statedAt })

/** A 410 problem, asserting its shape. */
async function expectGone(t: Test, response: Awaited<ReturnType<typeof call>>, what: string): Promise<Gone> {
  t.equal(response.status, 410, `${what}: 410`)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  const body = response.body as Gone
  t.equal(body.code, 'gone')
  return body
}

const drift = async () => derivedStateDrift(database.db)

t.test('a deleted claim answers 410 with its tombstone; a claim that never was stays 404', async (t) => {
  await party('az-mod')
  const said = await claim(
    'az-mod',
    'Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan oil pipeline near Yevlakh on Tuesday.',
  )
  t.equal((await call(app, 'DELETE', `/v1/claims/${said.id}`)).status, 204)

  const gone = await expectGone(t, await call(app, 'GET', `/v1/claims/${said.id}`), 'GET')
  t.same(gone.tombstone, {
    kind: 'claim',
    id: said.id,
    label: 'The az-mod: Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan oil pipeline near\u2026',
    deleted_at: gone.tombstone.deleted_at,
    deleted_by: { id: gone.tombstone.deleted_by?.id, name: 'test writer' },
    history: `/v1/claims/${said.id}/history`,
    party: said.party,
  })
  t.ok(Date.parse(gone.tombstone.deleted_at) >= Date.parse(said.created_at))
  t.match(gone.detail, /was deleted at .* with the API key test writer/)
  t.notMatch(JSON.stringify(gone), /Yevlakh on Tuesday/, 'the tombstone does not repeat the whole text')

  // As JSON-LD too, and every path below it.
  const ld = await call(app, 'GET', `/v1/claims/${said.id}`, undefined, { accept: 'application/ld+json' })
  t.equal(ld.status, 410)
  for (const path of ['thread', 'rebuttals', 'reviews']) {
    t.equal((await call(app, 'GET', `/v1/claims/${said.id}/${path}`)).status, 410, path)
  }

  const never = await call(app, 'GET', '/v1/claims/00000000-0000-4000-8000-000000000000')
  t.equal(never.status, 404)
  t.equal((never.body as Problem).code, 'not-found')
  t.same(await drift(), [])
})

t.test('the history of a deleted claim stays readable, its newest entry the deletion', async (t) => {
  await party('am-mfa')
  const said = await claim('am-mfa', 'The claim is another lie.')
  const edit = await call(app, 'PATCH', `/v1/claims/${said.id}`, { text: 'The claim is a lie.' })
  t.equal(edit.status, 200)
  t.equal((await call(app, 'DELETE', `/v1/claims/${said.id}`, undefined, bearer(keys.admin))).status, 204)

  const history = await call(app, 'GET', `/v1/claims/${said.id}/history`)
  t.equal(history.status, 200)
  const entries = history.body.data as ClaimVersion[]
  t.same(
    entries.map((entry) => [entry.version, entry.claim.text, entry.deleted?.deleted_by?.name ?? null]),
    [
      [3, 'The claim is a lie.', 'test admin'],
      [2, 'The claim is a lie.', null],
      [1, 'The claim is another lie.', null],
    ],
  )
  t.equal(entries[0]?.recorded_at, entries[0]?.deleted?.deleted_at)
  t.equal(entries[0]?.recorded_by?.name, 'test admin', 'the deletion was made by the deleting key')
  t.equal(entries[0]?.edit_note, null)
  t.notOk('deleted' in (entries[1] ?? {}), 'only the deletion says so')

  // Paged one at a time, the deletion comes first, once.
  const first = await call(app, 'GET', `/v1/claims/${said.id}/history?limit=1`)
  t.same(
    (first.body.data as ClaimVersion[]).map((entry) => entry.version),
    [3],
  )
  const second = await call(app, 'GET', `/v1/claims/${said.id}/history?limit=1&cursor=${first.body.next_cursor}`)
  t.same(
    (second.body.data as ClaimVersion[]).map((entry) => entry.version),
    [2],
  )

  t.equal((await call(app, 'GET', '/v1/claims/00000000-0000-4000-8000-000000000000/history')).status, 404)
})

t.test('writes to a deleted claim answer 410, whatever If-Match says', async (t) => {
  await party('writer-a')
  await party('writer-b')
  const target = await claim('writer-a', 'A claim soon deleted.')
  const other = await claim('writer-b', 'A claim that would answer it.', '2020-10-07T00:00:00Z')
  const etag = (await call(app, 'GET', `/v1/claims/${target.id}`)).headers.etag as string
  t.equal((await call(app, 'DELETE', `/v1/claims/${target.id}`)).status, 204)

  await expectGone(t, await call(app, 'PATCH', `/v1/claims/${target.id}`, { text: 'edited' }), 'PATCH')
  await expectGone(
    t,
    await call(app, 'PATCH', `/v1/claims/${target.id}`, { text: 'edited' }, { 'if-match': etag }),
    'PATCH with the last ETag',
  )
  await expectGone(t, await call(app, 'DELETE', `/v1/claims/${target.id}`), 'DELETE again')
  await expectGone(
    t,
    await call(app, 'DELETE', `/v1/claims/${target.id}`, undefined, { 'if-match': '"1"' }),
    'DELETE with a stale If-Match',
  )

  // Linking it, from the path or from a body.
  await expectGone(t, await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, { claim_id: other.id }), 'rebut it')
  const counter = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
    claim: { party: 'writer-b', text: 'No.', stated_at: '2020-10-08T00:00:00Z' },
  })
  await expectGone(t, counter, 'rebut it with a new claim')
  const viaBody = await expectGone(
    t,
    await call(app, 'POST', '/v1/links', { from_claim_id: other.id, to_claim_id: target.id, kind: 'rebuts' }),
    'link it',
  )
  t.same(viaBody.errors, [{ in: 'body', field: 'to_claim_id', message: `names claim ${target.id}, which was deleted` }])
  t.equal(viaBody.tombstone.id, target.id)
  const asRebuttal = await expectGone(
    t,
    await call(app, 'POST', `/v1/claims/${other.id}/rebuttals`, { claim_id: target.id }),
    'link it as a rebuttal',
  )
  t.same(
    asRebuttal.errors?.map((error) => error.field),
    ['claim_id'],
  )

  // Reviewing it.
  await created<Party>('/v1/parties', { slug: 'checker', name: 'Checker', kind: 'fact-checker' })
  const review = await call(app, 'POST', `/v1/claims/${target.id}/reviews`, {
    reviewer: 'checker',
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-10-09T00:00:00Z',
  })
  await expectGone(t, review, 'review it')
  t.same(await drift(), [])
})

t.test('a deleted party answers 410 by id and by slug, until another party takes the slug', async (t) => {
  const gone = await party('short-lived')
  t.equal((await call(app, 'DELETE', '/v1/parties/short-lived', undefined, bearer(keys.admin))).status, 204)
  for (const key of [gone.id, 'short-lived']) {
    const body = await expectGone(t, await call(app, 'GET', `/v1/parties/${key}`), `GET by ${key}`)
    t.same(body.tombstone, {
      kind: 'party',
      id: gone.id,
      label: 'The short-lived (short-lived)',
      deleted_at: body.tombstone.deleted_at,
      deleted_by: { id: body.tombstone.deleted_by?.id, name: 'test admin' },
      history: `/v1/parties/${gone.id}/history`,
    })
  }
  await expectGone(t, await call(app, 'PATCH', `/v1/parties/${gone.id}`, { name: 'x' }), 'PATCH')
  await expectGone(t, await call(app, 'DELETE', `/v1/parties/${gone.id}`), 'DELETE again')
  await expectGone(t, await call(app, 'GET', `/v1/parties/${gone.id}/response-times`), 'its response times')

  const again = await party('short-lived')
  t.equal((await call(app, 'GET', '/v1/parties/short-lived')).body.id, again.id, 'the slug names the live party')
  await expectGone(t, await call(app, 'GET', `/v1/parties/${gone.id}`), 'the old one by id')
  t.equal((await call(app, 'GET', '/v1/parties/never-was')).status, 404)
})

t.test('a deleted review answers 410; so does one whose claim was deleted; its history stays', async (t) => {
  await party('rev-claimant')
  await created<Party>('/v1/parties', { slug: 'rev-checker', name: 'Rev Checker', kind: 'fact-checker' })
  const reviewed = await claim('rev-claimant', 'A claim to review.')
  const review = await created<Review>(`/v1/claims/${reviewed.id}/reviews`, {
    reviewer: 'rev-checker',
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-10-09T00:00:00Z',
  })
  t.equal((await call(app, 'DELETE', `/v1/reviews/${review.id}`)).status, 204)
  const body = await expectGone(t, await call(app, 'GET', `/v1/reviews/${review.id}`), 'GET')
  t.same(body.tombstone, {
    kind: 'review',
    id: review.id,
    label: `Rev Checker's review of claim ${reviewed.id}`,
    deleted_at: body.tombstone.deleted_at,
    deleted_by: { id: body.tombstone.deleted_by?.id, name: 'test writer' },
    history: `/v1/reviews/${review.id}/history`,
    reviewer: review.reviewer,
    claim_id: reviewed.id,
  })
  await expectGone(t, await call(app, 'PATCH', `/v1/reviews/${review.id}`, { verdict: 'true' }), 'PATCH')
  await expectGone(t, await call(app, 'DELETE', `/v1/reviews/${review.id}`), 'DELETE again')
  const history = await call(app, 'GET', `/v1/reviews/${review.id}/history`)
  t.equal(history.status, 200)
  t.same(
    (history.body.data as ReviewVersion[]).map((entry) => [entry.version, entry.deleted === undefined]),
    [
      [2, false],
      [1, true],
    ],
  )

  // A review goes with its claim, deleted by the same key.
  const second = await created<Review>(`/v1/claims/${reviewed.id}/reviews`, {
    reviewer: 'rev-checker',
    verdict: 'mixed',
    rating_label: 'Mixed',
    published_at: '2020-10-10T00:00:00Z',
  })
  t.equal((await call(app, 'DELETE', `/v1/claims/${reviewed.id}`, undefined, bearer(keys.admin))).status, 204)
  const withClaim = await expectGone(t, await call(app, 'GET', `/v1/reviews/${second.id}`), 'with its claim')
  t.equal(withClaim.tombstone.deleted_by?.name, 'test admin')
  t.same(await drift(), [])
})

t.test('a deleted link answers 410; so do the links that went with a deleted claim', async (t) => {
  await party('link-a')
  await party('link-b')
  const said = await claim('link-a', 'Said.')
  const answer = await claim('link-b', 'Answered.', '2020-10-07T00:00:00Z')
  const link = await created<Link>('/v1/links', { from_claim_id: answer.id, to_claim_id: said.id, kind: 'rebuts' })
  t.equal((await call(app, 'DELETE', `/v1/links/${link.id}`, undefined, bearer(keys.otherWrite))).status, 403)
  t.equal((await call(app, 'DELETE', `/v1/links/${link.id}`)).status, 204)
  const body = await expectGone(t, await call(app, 'GET', `/v1/links/${link.id}`), 'GET')
  t.same(body.tombstone, {
    kind: 'link',
    id: link.id,
    label: "link-b's claim rebuts link-a's claim",
    deleted_at: body.tombstone.deleted_at,
    deleted_by: { id: body.tombstone.deleted_by?.id, name: 'test writer' },
    history: `/v1/links/${link.id}/history`,
    from_claim_id: answer.id,
    to_claim_id: said.id,
    link_kind: 'rebuts',
  })
  await expectGone(t, await call(app, 'DELETE', `/v1/links/${link.id}`), 'DELETE again')

  const relinked = await created<Link>('/v1/links', { from_claim_id: answer.id, to_claim_id: said.id, kind: 'rebuts' })
  t.equal((await call(app, 'DELETE', `/v1/claims/${answer.id}`)).status, 204)
  await expectGone(t, await call(app, 'GET', `/v1/links/${relinked.id}`), 'a link deleted with its claim')
  t.equal((await call(app, 'GET', `/v1/claims/${said.id}`)).body.rebuttal_count, 0)
  t.same(await drift(), [])
})

t.test('lists leave deleted records out', async (t) => {
  await party('listed')
  const kept = await claim('listed', 'Kept.')
  const dropped = await claim('listed', 'Dropped.')
  t.equal((await call(app, 'DELETE', `/v1/claims/${dropped.id}`)).status, 204)
  const list = await call(app, 'GET', '/v1/claims?party=listed')
  t.same(
    (list.body.data as Claim[]).map((c) => c.id),
    [kept.id],
  )
  const exported = await call(app, 'GET', '/v1/claims?party=listed', undefined, { accept: 'application/x-ndjson' })
  t.notMatch(exported.raw, dropped.id)
})

t.test('only an admin key erases', async (t) => {
  await party('erase-auth')
  const said = await claim('erase-auth', 'A claim to take down.')
  for (const [who, token, status] of [
    ['no key', null, 401],
    ['a read key', keys.read, 403],
    ['the write key that made it', keys.write, 403],
    ['another write key', keys.otherWrite, 403],
  ] as const) {
    const refused = await call(app, 'POST', `/v1/claims/${said.id}/erase`, undefined, bearer(token))
    t.equal(refused.status, status, who)
  }
  t.equal((await call(app, 'GET', `/v1/claims/${said.id}`)).status, 200, 'nothing was erased')
  const erased = await call(app, 'POST', `/v1/claims/${said.id}/erase`, undefined, bearer(keys.admin))
  t.equal(erased.status, 200)
  for (const path of ['/v1/parties/erase-auth/erase', `/v1/reviews/${said.id}/erase`]) {
    t.equal((await call(app, 'POST', path, undefined, bearer(keys.write))).status, 403, path)
  }
})

t.test('erasing a claim removes it, its history, reviews and links, and answers with what it removed', async (t) => {
  await party('takedown-a')
  await party('takedown-b')
  await created<Party>('/v1/parties', { slug: 'takedown-checker', name: 'Checker', kind: 'fact-checker' })
  const answered = await claim('takedown-b', 'The claim the erased one rebuts.', '2020-10-05T00:00:00Z')
  const erased = await claim('takedown-a', 'A defamatory claim, named in a court order.', '2020-10-06T00:00:00Z')
  const rebuttal = await claim('takedown-b', 'A rebuttal of it, which stays.', '2020-10-07T00:00:00Z')
  t.equal((await call(app, 'PATCH', `/v1/claims/${erased.id}`, { text: 'Still defamatory.' })).status, 200)
  const out = await created<Link>('/v1/links', { from_claim_id: erased.id, to_claim_id: answered.id, kind: 'rebuts' })
  const into = await created<Link>('/v1/links', { from_claim_id: rebuttal.id, to_claim_id: erased.id, kind: 'rebuts' })
  const review = await created<Review>(`/v1/claims/${erased.id}/reviews`, {
    reviewer: 'takedown-checker',
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-10-09T00:00:00Z',
  })
  t.equal((await call(app, 'GET', `/v1/claims/${answered.id}`)).body.rebuttal_count, 1)
  const stored = await call(
    app,
    'POST',
    '/v1/claims',
    { party: 'takedown-a', text: 'A second defamatory claim.', stated_at: '2020-10-06T00:00:00Z' },
    { 'idempotency-key': 'takedown-second-claim' },
  )
  t.equal(stored.status, 201)

  const response = await call(app, 'POST', `/v1/claims/${erased.id}/erase`, undefined, bearer(keys.admin))
  t.equal(response.status, 200)
  t.same(response.body, {
    kind: 'claim',
    id: erased.id,
    removed: {
      parties: [],
      claims: [erased.id],
      links: [out.id, into.id].sort(),
      reviews: [review.id],
      // The claim's two, its review's one, and each link's one.
      versions: 5,
      import_refs: 0,
      stored_answers: 0,
    },
  })

  for (const path of [`/v1/claims/${erased.id}`, `/v1/claims/${erased.id}/history`, `/v1/reviews/${review.id}`]) {
    const gone = await call(app, 'GET', path)
    t.equal(gone.status, 404, `${path}: 404, no tombstone`)
    t.notMatch(gone.raw, /defamatory/i)
  }
  t.equal((await call(app, 'GET', `/v1/links/${into.id}`)).status, 404)
  t.equal((await call(app, 'POST', `/v1/claims/${erased.id}/erase`, undefined, bearer(keys.admin))).status, 404)
  t.equal((await call(app, 'GET', `/v1/claims/${rebuttal.id}`)).status, 200, "another party's claim stays")
  t.match((await call(app, 'GET', `/v1/claims/${answered.id}`)).body, { rebuttal_count: 0, status: 'unchallenged' })
  t.same(await drift(), [])

  // A deleted claim is erased alike, tombstone and all; a stored answer that showed it is forgotten.
  const second = stored.body as Claim
  t.equal((await call(app, 'DELETE', `/v1/claims/${second.id}`)).status, 204)
  const again = await call(app, 'POST', `/v1/claims/${second.id}/erase`, undefined, bearer(keys.admin))
  t.equal(again.status, 200)
  t.equal(again.body.removed.stored_answers, 1)
  t.equal((await call(app, 'GET', `/v1/claims/${second.id}`)).status, 404)
  const retry = await call(
    app,
    'POST',
    '/v1/claims',
    { party: 'takedown-a', text: 'A second defamatory claim.', stated_at: '2020-10-06T00:00:00Z' },
    { 'idempotency-key': 'takedown-second-claim' },
  )
  t.equal(retry.status, 409, 'a retry neither replays the erased claim nor records it again')
  t.equal(retry.body.code, 'idempotency-key-used')
  const { rows } = await database.db
    .selectFrom('idempotency_records')
    .select('response_body')
    .where('idempotency_key', '=', 'takedown-second-claim')
    .execute()
    .then((found) => ({ rows: found }))
  t.same(
    rows.map((row) => row.response_body),
    [null],
  )
  t.same(await drift(), [])
})

t.test('erasing a review removes it and its history; its claim is recounted', async (t) => {
  await party('review-erase-claimant')
  await created<Party>('/v1/parties', { slug: 'review-erase-checker', name: 'Checker', kind: 'fact-checker' })
  await created<Party>('/v1/parties', { slug: 'review-erase-other', name: 'Other', kind: 'fact-checker' })
  const reviewed = await claim('review-erase-claimant', 'A reviewed claim.')
  const review = (reviewer: string) =>
    created<Review>(`/v1/claims/${reviewed.id}/reviews`, {
      reviewer,
      verdict: 'false',
      rating_label: 'False',
      published_at: '2020-10-09T00:00:00Z',
    })
  const live = await review('review-erase-checker')
  const deleted = await review('review-erase-other')
  t.equal((await call(app, 'DELETE', `/v1/reviews/${deleted.id}`)).status, 204)
  const first = await call(app, 'POST', `/v1/reviews/${live.id}/erase`, undefined, bearer(keys.admin))
  t.equal(first.status, 200)
  t.match(first.body, { kind: 'review', id: live.id, removed: { reviews: [live.id], versions: 1, claims: [] } })
  t.equal((await call(app, 'GET', `/v1/claims/${reviewed.id}`)).body.review_count, 0)
  const second = await call(app, 'POST', `/v1/reviews/${deleted.id}/erase`, undefined, bearer(keys.admin))
  t.equal(second.status, 200)
  for (const id of [live.id, deleted.id]) {
    t.equal((await call(app, 'GET', `/v1/reviews/${id}`)).status, 404)
    t.equal((await call(app, 'GET', `/v1/reviews/${id}/history`)).status, 404)
  }
  t.same(await drift(), [])
})

t.test('a party is erased once nothing names it, deleted or not', async (t) => {
  const named = await party('erase-me')
  const said = await claim('erase-me', 'Its only claim.')
  t.equal((await call(app, 'DELETE', `/v1/claims/${said.id}`)).status, 204)
  t.equal((await call(app, 'DELETE', '/v1/parties/erase-me')).status, 204)
  const refused = await call(app, 'POST', '/v1/parties/erase-me/erase', undefined, bearer(keys.admin))
  t.equal(refused.status, 409, 'a deleted claim still names it')
  t.match(refused.body.detail, /1 claim\(s\)/)
  t.equal((await call(app, 'POST', `/v1/claims/${said.id}/erase`, undefined, bearer(keys.admin))).status, 200)
  const erased = await call(app, 'POST', '/v1/parties/erase-me/erase', undefined, bearer(keys.admin))
  t.equal(erased.status, 200)
  t.same(erased.body, {
    kind: 'party',
    id: named.id,
    removed: {
      parties: [named.id],
      claims: [],
      links: [],
      reviews: [],
      versions: 1,
      import_refs: 0,
      stored_answers: 0,
    },
  })
  t.equal((await call(app, 'GET', `/v1/parties/${named.id}`)).status, 404)
  t.equal((await call(app, 'GET', '/v1/parties/erase-me')).status, 404)
  t.equal((await call(app, 'POST', '/v1/parties/erase-me/erase', undefined, bearer(keys.admin))).status, 404)

  // A party whose claims answered others is erased with its pairs of the matrix, rebuttals and supports alike.
  const responder = await party('erase-responder')
  const other = await party('erase-answered')
  const answered = await claim('erase-answered', 'Answered.', '2020-10-05T00:00:00Z')
  const rebuttal = await claim('erase-responder', 'Rebuts it.', '2020-10-06T00:00:00Z')
  const support = await claim('erase-responder', 'Supports another.', '2020-10-06T00:00:00Z')
  const supported = await claim('erase-answered', 'Supported.', '2020-10-05T00:00:00Z')
  await created<Link>('/v1/links', { from_claim_id: rebuttal.id, to_claim_id: answered.id, kind: 'rebuts' })
  await created<Link>('/v1/links', { from_claim_id: support.id, to_claim_id: supported.id, kind: 'supports' })
  for (const id of [rebuttal.id, support.id]) {
    t.equal((await call(app, 'POST', `/v1/claims/${id}/erase`, undefined, bearer(keys.admin))).status, 200)
  }
  const withPairs = await call(app, 'POST', `/v1/parties/${responder.id}/erase`, undefined, bearer(keys.admin))
  t.equal(withPairs.status, 200, 'its zero pairs do not hold it')
  t.match((await call(app, 'GET', `/v1/claims/${supported.id}`)).body, { support_count: 0 })
  t.equal((await call(app, 'GET', `/v1/parties/${other.id}`)).status, 200)
  t.same(await drift(), [])

  // A live party with nothing naming it is erased at once.
  await party('live-and-erased')
  t.equal((await call(app, 'POST', '/v1/parties/live-and-erased/erase', undefined, bearer(keys.admin))).status, 200)
  t.equal((await call(app, 'GET', '/v1/parties/live-and-erased')).status, 404)
  t.same(await drift(), [])
})

t.test('GET /v1/tombstones lists what was deleted, newest first, as pages, CSV and NDJSON', async (t) => {
  // Deleted by this test only: those of the tests before it are older.
  await new Promise((resolve) => setTimeout(resolve, 5))
  const since = new Date().toISOString()
  await party('list-a')
  await party('list-b')
  await party('list-lonely')
  await created<Party>('/v1/parties', { slug: 'list-checker', name: 'List Checker', kind: 'fact-checker' })
  const said = await claim('list-a', 'A claim that stays.')
  const answer = await claim('list-b', 'An answer soon deleted.', '2020-10-07T00:00:00Z')
  const link = await created<Link>('/v1/links', { from_claim_id: answer.id, to_claim_id: said.id, kind: 'rebuts' })
  const review = await created<Review>(`/v1/claims/${said.id}/reviews`, {
    reviewer: 'list-checker',
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-10-09T00:00:00Z',
  })
  for (const path of [`/v1/reviews/${review.id}`, `/v1/links/${link.id}`, `/v1/claims/${answer.id}`]) {
    t.equal((await call(app, 'DELETE', path)).status, 204, path)
  }
  t.equal((await call(app, 'DELETE', '/v1/parties/list-lonely', undefined, bearer(keys.admin))).status, 204)

  const mine = `deleted_after=${encodeURIComponent(since)}`
  const first = await call(app, 'GET', `/v1/tombstones?${mine}&limit=3`)
  t.equal(first.status, 200)
  t.equal(first.body.data.length, 3)
  t.match(first.headers.link, /rel="next"/)
  const rest = await call(app, 'GET', `/v1/tombstones?${mine}&limit=3&cursor=${first.body.next_cursor}`)
  t.equal(rest.body.next_cursor, null)
  const listed = [...first.body.data, ...rest.body.data] as Tombstone[]
  t.same(
    listed.map((tombstone) => `${tombstone.kind} ${tombstone.id}`).sort(),
    [
      `claim ${answer.id}`,
      `link ${link.id}`,
      `party ${(await call(app, 'GET', '/v1/parties/list-lonely')).body.tombstone.id}`,
      `review ${review.id}`,
    ].sort(),
    'each deleted record once',
  )
  t.same(
    listed.map((tombstone) => tombstone.deleted_at),
    listed
      .map((tombstone) => tombstone.deleted_at)
      .sort()
      .reverse(),
    'newest deleted first',
  )
  const paths = { party: 'parties', event: 'events', claim: 'claims', review: 'reviews', link: 'links' }
  for (const tombstone of listed) {
    const gone = await call(app, 'GET', `/v1/${paths[tombstone.kind]}/${tombstone.id}`)
    t.same(gone.body.tombstone, tombstone, `${tombstone.kind}: the tombstone its 410 answers with`)
  }

  const claims = await call(app, 'GET', `/v1/tombstones?${mine}&kind=claim`)
  t.same(
    claims.body.data.map((tombstone: Tombstone) => tombstone.id),
    [answer.id],
  )
  const before = await call(app, 'GET', `/v1/tombstones?deleted_before=${encodeURIComponent(since)}`)
  t.notOk(
    (before.body.data as Tombstone[]).some((tombstone) => listed.some((mineToo) => mineToo.id === tombstone.id)),
    'deleted_before leaves them out',
  )
  t.ok(before.body.data.length > 0, 'the earlier tests deleted records too')

  const ndjson = await call(app, 'GET', `/v1/tombstones?${mine}`, undefined, { accept: 'application/x-ndjson' })
  t.equal(ndjson.status, 200)
  t.same(
    ndjson.raw
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line)),
    (await call(app, 'GET', `/v1/tombstones?${mine}`)).body.data,
    'each line an item of the JSON list, in its order',
  )
  const csv = await call(app, 'GET', `/v1/tombstones?${mine}&format=csv`)
  t.equal(csv.status, 200)
  t.equal(csv.headers['content-disposition'], 'attachment; filename="tombstones.csv"')
  const rows = csv.raw.split('\r\n').filter((line) => line !== '')
  t.equal(rows[0], TOMBSTONE_CSV_COLUMNS.map((column) => column.name).join(','))
  t.equal(rows.length, 5, 'a header and a row per tombstone')
  t.ok(
    rows.some((row) => row.startsWith(`claim,${answer.id},The list-b: An answer soon deleted.,`)),
    "a claim's row: its kind, id and label",
  )

  for (const [query, status, field] of [
    ['format=csv&limit=1000001', 400, 'limit'],
    ['kind=comment', 400, 'kind'],
    ['deleted_after=yesterday', 400, 'deleted_after'],
    [`cursor=${(await call(app, 'GET', '/v1/links?limit=1')).body.next_cursor ?? 'abc'}`, 400, 'cursor'],
  ] as const) {
    const response = await call(app, 'GET', `/v1/tombstones?${query}`)
    t.equal(response.status, status, query)
    t.equal((response.body as Problem).errors?.[0]?.field, field, query)
  }

  // An erased record leaves no tombstone.
  t.equal((await call(app, 'POST', `/v1/claims/${answer.id}/erase`, undefined, bearer(keys.admin))).status, 200)
  const after = await call(app, 'GET', `/v1/tombstones?${mine}&kind=claim`)
  t.same(after.body.data, [])
})
