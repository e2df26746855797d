import { randomUUID } from 'node:crypto'
import t from 'tap'
import { derivedStateErrors } from './helpers/derived-state.js'
import { buildTestApp, call } from './helpers/test-app.js'
import type { Claim, Dispute, FieldError, Matrix, Thread, ThreadEntry } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

async function post(url: string, body: unknown) {
  const response = await call(app, 'POST', url, body)
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body
}

async function get(url: string) {
  const response = await call(app, 'GET', url)
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${response.raw}`)
  return response.body
}

// Two sides, each a state with parties speaking for it (a-press speaks for a-mod, which speaks for state-a),
// and a medium that speaks for nobody.
for (const [slug, side] of [
  ['state-a', undefined],
  ['state-b', undefined],
  ['a-mod', 'state-a'],
  ['a-press', 'a-mod'],
  ['b-mfa', 'state-b'],
  ['media', undefined],
] as const) {
  await post('/v1/parties', { slug, name: slug.toUpperCase(), kind: 'official', side })
}

async function claim(party: string, stated: string, text: string, tags: string[] = []): Promise<Claim> {
  return post('/v1/claims', { party, text, stated_at: `${stated}T12:00:00Z`, tags })
}
async function rebut(from: Claim, to: Claim, note?: string) {
  return post('/v1/links', { from_claim_id: from.id, to_claim_id: to.id, kind: 'rebuts', note })
}
/** A rebuttal stated before the claim it rebuts, on purpose. */
async function prebut(from: Claim, to: Claim) {
  return post('/v1/links', { from_claim_id: from.id, to_claim_id: to.id, kind: 'rebuts', prebuttal: true })
}

const c1 = await claim('a-mod', '2020-10-01', 'A missile was fired at the oil pipeline.', ['pipeline', 'missile'])
const c2 = await claim('b-mfa', '2020-10-02', 'The pipeline story is another lie.', ['pipeline'])
const c3 = await claim('media', '2020-10-05', 'No damage to the pipeline was seen.')
const c4 = await claim('b-mfa', '2020-10-03', 'Villages were shelled overnight.', ['shelling'])
const c5 = await claim('a-press', '2020-10-04', 'No village was shelled.')
const c6 = await claim('a-mod', '2020-10-06', 'The denial is itself false.')
const c7 = await claim('a-mod', '2020-09-01', 'Talks will resume.', ['diplomacy'])
const c8 = await claim('media', '2020-09-02', 'Diplomats confirm the talks.')
await rebut(c2, c1, 'Calls it a lie.')
await rebut(c3, c1)
await rebut(c5, c4)
await rebut(c6, c2)
await post('/v1/links', { from_claim_id: c8.id, to_claim_id: c7.id, kind: 'supports' })

const ids = async (url: string) => ((await get(url)).data as Dispute[]).map((d) => d.claim.id)

t.test('GET /v1/disputes lists the disputed claims, most recent response first', async (t) => {
  const page = await get('/v1/disputes')
  t.same(
    page.data.map((d: Dispute) => d.claim.id),
    [c2.id, c1.id, c4.id],
    'the unchallenged and the merely supported are left out',
  )
  const first = page.data[1] as Dispute
  t.match(first.claim, {
    party: { slug: 'a-mod' },
    status: 'disputed',
    rebuttal_count: 2,
    last_response_at: c3.stated_at,
  })
  t.same(
    first.claim.rebutted_by.map((p) => p.slug),
    ['b-mfa', 'media'],
  )
  t.same(
    first.latest_rebuttals.map((r) => [r.claim.id, r.claim.party.slug, r.claim.text, r.note]),
    [
      [c3.id, 'media', c3.text, null],
      [c2.id, 'b-mfa', c2.text, 'Calls it a lie.'],
    ],
    'the latest rebuttals, with their text, party and note, latest stated first',
  )
  t.equal(page.next_cursor, null)
})

t.test('the disputes sort by most rebutted and by newest claim', async (t) => {
  const [tieFirst, tieSecond] = [c2.id, c4.id].sort().reverse()
  t.same(await ids('/v1/disputes?sort=-rebuttal_count'), [c1.id, tieFirst, tieSecond], 'ties by id')
  t.same(await ids('/v1/disputes?sort=-stated_at'), [c4.id, c2.id, c1.id])
})

t.test('the disputes filter by claimant, side, rebutter, tag, text, date and count', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['party=a-mod', [c1.id]],
    [`party=${c1.party.id}`, [c1.id]],
    ['side=state-a', [c1.id]],
    ['side=a-mod', [c1.id]],
    ['side=state-b', [c2.id, c4.id]],
    ['rebutted_by=media', [c1.id]],
    ['rebutted_by=a-mod', [c2.id]],
    ['rebutted_by=a-press', [c4.id]],
    ['rebutted_by=state-a', []],
    ['tag=pipeline', [c2.id, c1.id]],
    ['tag=pipeline&tag=missile', [c1.id]],
    ['tag=shelling', [c4.id]],
    ['q=pipeline', [c2.id, c1.id]],
    ['q=shelled', [c4.id]],
    ['since=2020-10-02T00:00:00Z', [c2.id, c4.id]],
    ['until=2020-10-02T00:00:00Z', [c1.id]],
    ['since=2020-10-02T12:00:00Z&until=2020-10-03T12:00:00Z', [c2.id]],
    ['min_rebuttals=2', [c1.id]],
    ['party=b-mfa&rebutted_by=a-mod&tag=pipeline', [c2.id]],
  ]
  for (const [query, expected] of cases) t.same(await ids(`/v1/disputes?${query}`), expected, query)
})

t.test('the disputes page through every sort without gaps or repeats', async (t) => {
  for (const sort of ['-last_response_at', '-rebuttal_count', '-stated_at']) {
    const all = await ids(`/v1/disputes?sort=${sort}`)
    const seen: string[] = []
    let url: string | undefined = `/v1/disputes?sort=${sort}&limit=1`
    while (url !== undefined) {
      const response = await call(app, 'GET', url)
      seen.push(...response.body.data.map((d: Dispute) => d.claim.id))
      url = response.body.next_cursor === null ? undefined : String(response.headers.link).match(/<([^>]+)>/)?.[1]
    }
    t.same(seen, all, sort)
  }
})

t.test('bad dispute queries are problems', async (t) => {
  const other = (await call(app, 'GET', '/v1/disputes?limit=1&sort=-stated_at')).body.next_cursor
  const claimsCursor = (await call(app, 'GET', '/v1/claims?limit=1&sort=-stated_at')).body.next_cursor
  for (const [query, status, field] of [
    ['sort=newest', 400, 'sort'],
    ['min_rebuttals=0', 400, 'min_rebuttals'],
    ['since=yesterday', 400, 'since'],
    ['tag=Not%20A%20Tag', 400, 'tag[0]'],
    ['limit=201', 400, 'limit'],
    // Found by fuzzing: an infinite number passed as an integer in range and reached the database.
    ['min_rebuttals=Infinity', 400, 'min_rebuttals'],
    ['limit=1e400', 400, 'limit'],
    ['cursor=bm90LWEtY3Vyc29y', 400, 'cursor'],
    [`cursor=${other}`, 400, 'cursor'],
    [`sort=-stated_at&cursor=${claimsCursor}`, 400, 'cursor'],
    ['party=nobody', 422, 'party'],
    ['side=nobody', 422, 'side'],
    ['rebutted_by=nobody', 422, 'rebutted_by'],
    ['colour=red', 400, 'colour'],
  ] as const) {
    const response = await call(app, 'GET', `/v1/disputes?${query}`)
    t.equal(response.status, status, query)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', query)
    t.same(
      response.body.errors?.map((e: FieldError) => e.field),
      [field],
      `${query} names ${field}`,
    )
  }
})

t.test('a deleted rebuttal leaves the disputes at once', async (t) => {
  const lone = await claim('media', '2020-11-01', 'A claim rebutted once.')
  const rebuttal = await claim('b-mfa', '2020-11-02', 'Rebutted once, then withdrawn.')
  await rebut(rebuttal, lone)
  t.equal((await ids('/v1/disputes'))[0], lone.id)
  t.equal((await call(app, 'DELETE', `/v1/claims/${rebuttal.id}`)).status, 204)
  t.notOk((await ids('/v1/disputes')).includes(lone.id))
  t.equal((await get(`/v1/claims/${lone.id}`)).status, 'unchallenged')
  const disputedByMedia = (await get('/v1/claims?status=disputed&party=media')).data as Claim[]
  t.notOk(
    disputedByMedia.some((c) => c.id === lone.id),
    'nor is it among the disputed claims',
  )
  t.ok(
    ((await get('/v1/claims?status=unchallenged&party=media')).data as Claim[]).some((c) => c.id === lone.id),
    'it is unchallenged again',
  )
})

t.test('GET /v1/disputes/matrix counts rebuttals between parties, or rolled up by side', async (t) => {
  const c9 = await claim('b-mfa', '2020-09-03', 'There will be no talks.')
  await rebut(c9, c7)
  // Largest counts first, then by claimant and rebutter slug.
  const matrix = await get('/v1/disputes/matrix')
  t.equal(matrix.by, 'party')
  t.equal(matrix.truncated, false)
  const cells = (m: Matrix) => m.cells.map((c) => `${c.responder.slug}>${c.claimant.slug}:${c.count}`)
  t.same(cells(matrix), ['b-mfa>a-mod:2', 'media>a-mod:1', 'a-mod>b-mfa:1', 'a-press>b-mfa:1'])
  t.match(matrix.cells[0], { claimant: { id: c1.party.id, name: 'A-MOD' }, rebutter: { slug: 'b-mfa' } })

  t.same(cells(await get('/v1/disputes/matrix?by=side')), ['state-b>state-a:2', 'state-a>state-b:2', 'media>state-a:1'])
  t.same(cells(await get('/v1/disputes/matrix?tag=pipeline')), ['b-mfa>a-mod:1', 'media>a-mod:1', 'a-mod>b-mfa:1'])
  t.same(cells(await get('/v1/disputes/matrix?since=2020-10-02T00:00:00Z')), ['a-mod>b-mfa:1', 'a-press>b-mfa:1'])
  t.same(cells(await get('/v1/disputes/matrix?until=2020-09-30T00:00:00Z&by=side')), ['state-b>state-a:1'])
  // The filters follow edits of the rebutted claim.
  await call(app, 'PATCH', `/v1/claims/${c4.id}`, { tags: ['pipeline'], stated_at: '2020-09-15T12:00:00Z' })
  t.same(cells(await get('/v1/disputes/matrix?tag=pipeline')), [
    'b-mfa>a-mod:1',
    'media>a-mod:1',
    'a-mod>b-mfa:1',
    'a-press>b-mfa:1',
  ])
  t.same(cells(await get('/v1/disputes/matrix?until=2020-09-30T00:00:00Z')), ['b-mfa>a-mod:1', 'a-press>b-mfa:1'])
  await call(app, 'PATCH', `/v1/claims/${c4.id}`, { tags: ['shelling'], stated_at: '2020-10-03T12:00:00Z' })
  t.same(cells(await get('/v1/disputes/matrix?tag=shelling')), ['a-press>b-mfa:1'])
  const top = await get('/v1/disputes/matrix?limit=1')
  t.same(cells(top), ['b-mfa>a-mod:2'])
  t.equal(top.truncated, true)
  for (const query of ['by=country', 'limit=0', 'limit=1001', 'limit=Infinity', 'tag=', 'until=never']) {
    t.equal((await call(app, 'GET', `/v1/disputes/matrix?${query}`)).status, 400, query)
  }
  const etag = String((await call(app, 'GET', '/v1/disputes/matrix')).headers.etag)
  t.equal((await call(app, 'GET', '/v1/disputes/matrix', undefined, { 'if-none-match': etag })).status, 304)
})

t.test('GET /v1/disputes/matrix?kind=supports counts supports, maintained as links come and go', async (t) => {
  const cells = (m: Matrix) => m.cells.map((c) => `${c.responder.slug}>${c.claimant.slug}:${c.count}`)
  const supports = await get('/v1/disputes/matrix?kind=supports')
  t.equal(supports.kind, 'supports')
  t.same(cells(supports), ['media>a-mod:1'])
  t.notOk('rebutter' in supports.cells[0], 'the rebuttal names are the rebuttal matrix’s only')
  t.equal((await get('/v1/disputes/matrix')).kind, 'rebuts', 'rebuttals by default')
  const c10 = await claim('a-press', '2020-10-06', 'The talks are welcome.', ['diplomacy'])
  const backing = await post('/v1/links', { from_claim_id: c10.id, to_claim_id: c8.id, kind: 'supports' })
  const more = await post('/v1/links', { from_claim_id: c10.id, to_claim_id: c3.id, kind: 'supports' })
  t.same(cells(await get('/v1/disputes/matrix?kind=supports')), ['a-press>media:2', 'media>a-mod:1'])
  t.same(cells(await get('/v1/disputes/matrix?kind=supports&by=side')), ['state-a>media:2', 'media>state-a:1'])
  t.same(cells(await get('/v1/disputes/matrix?kind=supports&tag=diplomacy')), ['media>a-mod:1'])
  t.same(cells(await get('/v1/disputes/matrix?kind=supports&since=2020-09-02T00:00:00Z')), ['a-press>media:2'])
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
  t.equal((await call(app, 'DELETE', `/v1/links/${more.id}`)).status, 204)
  t.same(cells(await get('/v1/disputes/matrix?kind=supports')), ['media>a-mod:1', 'a-press>media:1'])
  t.equal((await call(app, 'DELETE', `/v1/claims/${c10.id}`)).status, 204)
  t.same(cells(await get('/v1/disputes/matrix?kind=supports')), ['media>a-mod:1'], 'a deleted claim’s supports go')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
  void backing
  t.equal((await call(app, 'GET', '/v1/disputes/matrix?kind=corrects')).status, 400)
})

t.test('the matrix as CSV: one row per pair, the cells of the JSON', async (t) => {
  const json = await get('/v1/disputes/matrix?by=side')
  const csv = await app.inject({ method: 'GET', url: '/v1/disputes/matrix?by=side&format=csv' })
  t.equal(csv.statusCode, 200)
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8; header=present')
  t.equal(csv.headers['content-disposition'], 'attachment; filename="matrix-rebuts.csv"')
  const expected = [
    'claimant_id,claimant_slug,claimant_name,responder_id,responder_slug,responder_name,count',
    ...json.cells.map((c: Matrix['cells'][number]) =>
      [
        c.claimant.id,
        c.claimant.slug,
        c.claimant.name,
        c.responder.id,
        c.responder.slug,
        c.responder.name,
        c.count,
      ].join(','),
    ),
  ]
  t.equal(csv.body, `${expected.join('\r\n')}\r\n`)
  const negotiated = await app.inject({
    method: 'GET',
    url: '/v1/disputes/matrix?kind=supports',
    headers: { accept: 'text/csv' },
  })
  t.equal(negotiated.headers['content-disposition'], 'attachment; filename="matrix-supports.csv"')
  t.match(negotiated.body, /\r\n[^,]+,a-mod,A-MOD,[^,]+,media,MEDIA,1\r\n$/)
  const etag = String(csv.headers.etag)
  t.not(etag, String((await call(app, 'GET', '/v1/disputes/matrix?by=side')).headers.etag), 'its own entity tag')
  const again = await app.inject({
    method: 'GET',
    url: '/v1/disputes/matrix?by=side&format=csv',
    headers: { 'if-none-match': etag },
  })
  t.equal(again.statusCode, 304)
  t.equal((await call(app, 'GET', '/v1/disputes/matrix?format=ndjson')).status, 400)
})

const entries = (list: ThreadEntry[]) => list.map((e) => `${e.depth}:${e.link.kind}:${e.claim.id}`)

t.test('GET /v1/claims/{id}/thread follows the exchange both ways', async (t) => {
  const thread: Thread = await get(`/v1/claims/${c1.id}/thread`)
  t.equal(thread.claim.id, c1.id)
  t.equal(thread.depth, 3, 'the default depth')
  t.same(thread.answers, [], 'c1 answers nothing')
  t.same(entries(thread.responses), [`1:rebuts:${c2.id}`, `1:rebuts:${c3.id}`, `2:rebuts:${c6.id}`])
  t.match(thread.responses[2], {
    link: { from_claim_id: c6.id, to_claim_id: c2.id },
    claim: { party: { slug: 'a-mod' }, status: 'unchallenged' },
  })
  t.match(thread.responses[0], { claim: { status: 'disputed' } })
  t.same(thread.responses[0].claim.rebutted_by, [c6.party])
  t.equal(thread.truncated, false)

  const shallow = await get(`/v1/claims/${c1.id}/thread?depth=1`)
  t.same(entries(shallow.responses), [`1:rebuts:${c2.id}`, `1:rebuts:${c3.id}`])

  const middle = await get(`/v1/claims/${c2.id}/thread`)
  t.same(entries(middle.answers), [`1:rebuts:${c1.id}`], 'upwards: what c2 answers')
  t.same(entries(middle.responses), [`1:rebuts:${c6.id}`], 'downwards: what answers c2')
  const leaf = await get(`/v1/claims/${c6.id}/thread`)
  t.same(entries(leaf.answers), [`1:rebuts:${c2.id}`, `2:rebuts:${c1.id}`])
})

t.test('a thread with cycles ends, each link once, and leaves deleted claims out', async (t) => {
  // b-mfa's c4 is rebutted by a-press's c5; c4 now rebuts c5 back, and media closes a longer loop.
  const loop = await claim('media', '2020-10-07', 'Both are wrong.')
  await prebut(c4, c5)
  await rebut(loop, c4)
  await prebut(c5, loop)
  const thread: Thread = await get(`/v1/claims/${c4.id}/thread?depth=10`)
  for (const direction of ['answers', 'responses'] as const) {
    const linkIds = thread[direction].map((e: ThreadEntry) => e.link.id)
    t.equal(new Set(linkIds).size, linkIds.length, `no link twice among the ${direction}`)
  }
  // In a loop the same link can lie both upwards and downwards of the root: c5 answers the loop claim, which
  // answers c4 (a response), and c4 answers c5, which answers the loop claim (an answer).
  t.same(entries(thread.responses), [`1:rebuts:${c5.id}`, `1:rebuts:${loop.id}`, `2:rebuts:${c5.id}`])
  t.same(entries(thread.answers), [`1:rebuts:${c5.id}`, `2:rebuts:${loop.id}`])

  t.equal((await call(app, 'DELETE', `/v1/claims/${c6.id}`)).status, 204)
  const after = await get(`/v1/claims/${c1.id}/thread`)
  t.same(entries(after.responses), [`1:rebuts:${c2.id}`, `1:rebuts:${c3.id}`], 'the deleted claim is gone')
})

t.test('thread problems', async (t) => {
  t.equal((await call(app, 'GET', `/v1/claims/${randomUUID()}/thread`)).status, 404)
  t.equal(
    (await call(app, 'GET', `/v1/claims/${c6.id}/thread`)).status,
    410,
    'a deleted claim has no thread: it is gone',
  )
  // Found by fuzzing: depth=Infinity passed as an integer in range (Infinity and 1e400 read as infinite), and
  // failed with a 500.
  for (const query of ['depth=0', 'depth=11', 'depth=two', 'deep=1', 'depth=Infinity', 'depth=1e400']) {
    t.equal((await call(app, 'GET', `/v1/claims/${c1.id}/thread?${query}`)).status, 400, query)
  }
  const response = await call(app, 'GET', `/v1/claims/${c1.id}/thread`)
  const again = await call(app, 'GET', `/v1/claims/${c1.id}/thread`, undefined, {
    'if-none-match': String(response.headers.etag),
  })
  t.equal(again.status, 304, 'an unchanged thread is not sent again')
})

t.test('the latest rebuttals follow an edit of when a rebuttal was stated', async (t) => {
  const before = ((await get(`/v1/disputes?party=a-mod&tag=missile`)).data as Dispute[])[0]!
  t.same(
    before.latest_rebuttals.map((r) => r.claim.id),
    [c3.id, c2.id],
  )
  // Later than c3, and still before c6, which rebuts c2 in its turn.
  t.equal((await call(app, 'PATCH', `/v1/claims/${c2.id}`, { stated_at: '2020-10-05T18:00:00Z' })).status, 200)
  const after = ((await get(`/v1/disputes?party=a-mod&tag=missile`)).data as Dispute[])[0]!
  t.same(
    after.latest_rebuttals.map((r) => [r.claim.id, r.claim.stated_at]),
    [
      [c2.id, '2020-10-05T18:00:00.000Z'],
      [c3.id, c3.stated_at],
    ],
  )
  t.equal(after.claim.last_response_at, '2020-10-05T18:00:00.000Z')
})

t.test('partial rebuttals: a claim lists what its rebuttals dispute, and the disputes filter by it', async (t) => {
  const toll = await claim('a-mod', '2020-11-01', 'A missile strike killed 13 civilians in Ganja.')
  const figure = await claim('b-mfa', '2020-11-02', 'Far fewer died than that.')
  const cause = await claim('media', '2020-11-03', 'The blast was a depot fire, not a missile.')
  const denial = await claim('b-mfa', '2020-11-04', 'Nothing happened in Ganja.')
  const byFigure = await post('/v1/links', {
    from_claim_id: figure.id,
    to_claim_id: toll.id,
    kind: 'rebuts',
    aspect: 'figure',
    measure: 'deaths',
  })
  t.match(byFigure, { aspect: 'figure', measure: 'deaths' })
  let read = await get(`/v1/claims/${toll.id}`)
  t.same([read.disputed_aspects, read.disputed_measures], [['figure'], ['deaths']], 'a disputed toll only')
  await post('/v1/links', { from_claim_id: cause.id, to_claim_id: toll.id, kind: 'rebuts', aspect: 'cause' })
  const flat = await post('/v1/links', { from_claim_id: denial.id, to_claim_id: toll.id, kind: 'rebuts' })
  t.equal(flat.aspect, null, 'a rebuttal naming no aspect answers the whole claim')
  read = await get(`/v1/claims/${toll.id}`)
  t.same(read.disputed_aspects, ['cause', 'figure', 'whole'], 'in the order of the aspects, a flat denial last')

  const disputesOf = async (query: string) =>
    ((await get(`/v1/disputes?${query}`)).data as Dispute[]).map((d) => d.claim.id)
  t.same(await disputesOf('aspect=figure'), [toll.id])
  t.same(await disputesOf('aspect=figure&disputed_measure=deaths'), [toll.id])
  t.same(await disputesOf('disputed_measure=injured'), [])
  t.same(await disputesOf('aspect=timing'), [])
  t.same(await disputesOf('aspect=timing&aspect=figure'), [toll.id], 'a repeated aspect: any of them')
  t.ok((await disputesOf('aspect=whole')).includes(c1.id), 'the earlier rebuttals name no aspect: whole')
  t.notOk((await disputesOf('aspect=cause')).includes(c1.id))
  const item = ((await get('/v1/disputes?aspect=cause')).data as Dispute[])[0]!
  t.same(item.claim.disputed_aspects, ['cause', 'figure', 'whole'], 'each dispute carries them')
  t.same(
    item.latest_rebuttals.map((r) => r.aspect),
    [null, 'cause', 'figure'],
    'and its latest rebuttals say what each disputes',
  )
  const csv = await call(app, 'GET', '/v1/disputes?aspect=figure', undefined, { accept: 'text/csv' })
  t.match(csv.raw, /,cause;figure;whole,deaths,/, 'the CSV has them too')

  for (const [query, field] of [
    ['aspect=price', 'aspect[0]'],
    ['disputed_measure=Deaths', 'disputed_measure'],
  ] as const) {
    const refused = await call(app, 'GET', `/v1/disputes?${query}`)
    t.equal(refused.status, 400, query)
    t.same(
      (refused.body.errors as FieldError[]).map((e) => `${e.in}:${e.field}`),
      [`query:${field}`],
    )
  }

  // The flat denial withdrawn, and the figure rebuttal turned into one of timing: the aspects follow.
  t.equal((await call(app, 'DELETE', `/v1/links/${flat.id}`)).status, 204)
  const edited = await call(app, 'PATCH', `/v1/links/${byFigure.id}`, { aspect: 'timing' })
  t.equal(edited.status, 200)
  t.match(edited.body, { aspect: 'timing', measure: null }, 'an aspect other than figure drops the measure')
  read = await get(`/v1/claims/${toll.id}`)
  t.same([read.disputed_aspects, read.disputed_measures], [['cause', 'timing'], []])
  t.same(await disputesOf('aspect=figure'), [])
  const history = await get(`/v1/links/${byFigure.id}/history`)
  t.same(
    history.data.map((v: { link: { aspect: string | null; measure: string | null } }) => [
      v.link.aspect,
      v.link.measure,
    ]),
    [
      ['timing', null],
      ['figure', 'deaths'],
    ],
    'each version keeps what the link disputed',
  )
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('after all of the above, the maintained state equals a fresh count', async (t) => {
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})
