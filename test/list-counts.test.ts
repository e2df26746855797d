import { sql } from 'kysely'
import t from 'tap'
import { bearer, buildTestApp, call } from './helpers/test-app.js'

const { app, database, keys } = await buildTestApp(t)

async function post(url: string, body: unknown) {
  const response = await call(app, 'POST', url, body)
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body
}

for (const slug of ['alpha', 'beta']) await post('/v1/parties', { slug, name: slug, kind: 'official' })
const alphaClaims: Array<{ id: string }> = []
for (let i = 1; i <= 7; i++) {
  alphaClaims.push(await post('/v1/claims', { party: 'alpha', text: `Alpha says ${i}`, stated_at: `2021-01-0${i}` }))
}
const answer = await post('/v1/claims', { party: 'beta', text: 'Beta denies it.', stated_at: '2021-02-01' })
for (const claim of alphaClaims.slice(0, 3)) {
  await post('/v1/links', { from_claim_id: answer.id, to_claim_id: claim.id, kind: 'rebuts' })
}

/** Every item of a JSON list, page after page, by its next links. */
async function allItems(url: string) {
  const items = []
  let next: string | null = url
  while (next !== null) {
    const response = await call(app, 'GET', next)
    items.push(...response.body.data)
    next = response.body.next_cursor === null ? null : response.headers.link!.toString().match(/<([^>]+)>/)![1]!
  }
  return items
}

t.test('count=exact gives the number of items the filters match, on every page; without it, nothing', async (t) => {
  for (const list of ['/v1/claims?party=alpha', '/v1/claims?status=disputed', '/v1/disputes?', '/v1/claims?']) {
    const join = list.endsWith('?') ? '' : '&'
    const all = await allItems(`${list}${join}limit=2`)
    const first = await call(app, 'GET', `${list}${join}limit=2&count=exact`)
    t.equal(first.status, 200, list)
    t.match(first.body, { total: all.length, total_kind: 'exact' }, `${list}: ${all.length} items`)
    t.equal(first.body.data.length, 2, `${list}: still a page`)
    const second = await call(app, 'GET', `${list}${join}limit=2&count=exact&cursor=${first.body.next_cursor}`)
    t.equal(second.body.total, all.length, `${list}: every page counts the whole list`)
    const plain = await call(app, 'GET', `${list}${join}limit=2`)
    t.notOk('total' in plain.body, `${list}: no total unless asked`)
    t.notOk('total_kind' in plain.body)
  }
  t.match((await call(app, 'GET', '/v1/disputes?count=exact')).body, { total: 3 })
  t.match((await call(app, 'GET', '/v1/claims?party=beta&count=exact')).body, { total: 1 })
  t.match((await call(app, 'GET', '/v1/claims?q=nothing-like-this&count=estimated')).body, {
    data: [],
    total: 0,
    total_kind: 'exact',
  })
})

t.test('a bad count, a count on an export, and a cursor of another list are refused, naming the field', async (t) => {
  const claimsCursor = (await call(app, 'GET', '/v1/claims?limit=1')).body.next_cursor
  const cases: Array<[string, string]> = [
    ['/v1/claims?count=foo', 'count'],
    ['/v1/disputes?count=', 'count'],
    ['/v1/claims?count=exact&format=csv', 'count'],
    ['/v1/disputes?count=estimated&format=ndjson', 'count'],
    [`/v1/disputes?count=exact&cursor=${claimsCursor}`, 'cursor'],
  ]
  for (const [url, field] of cases) {
    const response = await call(app, 'GET', url)
    t.equal(response.status, 400, url)
    t.match(response.headers['content-type'], /^application\/problem\+json/, url)
    t.equal(response.body.errors[0].field, field, url)
  }
})

t.test('count=estimated takes the planner estimate for a large list, and counts a small one', async (t) => {
  await sql`
    INSERT INTO claims (party_id, text, stated_at)
    SELECT p.id, 'Bulk ' || g, timestamptz '2019-01-01 00:00:00+00' + g * interval '1 minute'
    FROM generate_series(1, 12000) g JOIN parties p ON p.slug = 'beta'
  `.execute(database.db)
  await sql`ANALYZE claims`.execute(database.db)
  const exact = await call(app, 'GET', '/v1/claims?limit=1&count=exact')
  t.match(exact.body, { total: 12008, total_kind: 'exact' })
  const estimated = await call(app, 'GET', '/v1/claims?limit=1&count=estimated')
  t.equal(estimated.body.total_kind, 'estimated')
  t.ok(estimated.body.total > 6000 && estimated.body.total < 24000, `near 12,008: ${estimated.body.total}`)
  const small = await call(app, 'GET', '/v1/claims?party=alpha&limit=1&count=estimated')
  t.match(small.body, { total: 7, total_kind: 'exact' }, 'a small estimate is counted')
})

/** The cursor of a page's `Link` for `rel`, or undefined. */
function linked(response: { headers: Record<string, unknown> }, rel: string): string | undefined {
  const header = String(response.headers.link ?? '')
  return header.match(new RegExp(`<([^>]+)>; rel="${rel}"`))?.[1]
}

t.test('prev_cursor and rel="prev" page back to exactly the pages seen going forward', async (t) => {
  for (const list of [
    '/v1/claims?party=alpha&limit=2',
    '/v1/claims?party=alpha&sort=stated_at&limit=3',
    '/v1/claims?party=alpha&sort=-created_at&limit=2',
    '/v1/disputes?limit=1',
    '/v1/disputes?sort=-rebuttal_count&limit=2',
  ]) {
    const forward = []
    let response = await call(app, 'GET', list)
    t.equal(response.body.prev_cursor, null, `${list}: none before the first page`)
    t.equal(linked(response, 'prev'), undefined)
    forward.push(response.body.data)
    while (response.body.next_cursor !== null) {
      response = await call(app, 'GET', linked(response, 'next')!)
      t.equal(response.status, 200)
      forward.push(response.body.data)
    }
    const backward = [response.body.data]
    while (response.body.prev_cursor !== null) {
      const url = linked(response, 'prev')!
      t.equal(url, `${list.split('?')[0]}?${new URL(url, 'http://x').searchParams}`, 'the link holds the query')
      response = await call(app, 'GET', url)
      t.equal(response.status, 200)
      t.ok(response.body.next_cursor, `${list}: a page reached backward has a next page`)
      backward.unshift(response.body.data)
    }
    t.same(backward, forward, `${list}: the same pages, both ways`)
  }
})

t.test('relevance pages forward only, and a prev cursor belongs to its list and sort', async (t) => {
  const ranked = await call(app, 'GET', '/v1/claims?q=alpha&sort=relevance&limit=2')
  t.equal(ranked.status, 200)
  const next = await call(app, 'GET', `/v1/claims?q=alpha&sort=relevance&limit=2&cursor=${ranked.body.next_cursor}`)
  t.equal(next.body.prev_cursor, null, 'no prev by relevance')
  const second = await call(app, 'GET', linked(await call(app, 'GET', '/v1/claims?party=alpha&limit=2'), 'next')!)
  const prev = second.body.prev_cursor
  for (const url of [
    `/v1/claims?q=alpha&sort=relevance&cursor=${prev}`,
    `/v1/claims?sort=stated_at&cursor=${prev}`,
    `/v1/disputes?sort=-stated_at&cursor=${prev}`,
  ]) {
    const refused = await call(app, 'GET', url)
    t.equal(refused.status, 400, url)
    t.equal(refused.body.errors[0].field, 'cursor', url)
  }
})

t.test('every other list pages back to the pages seen going forward, and counts what it pages', async (t) => {
  const admin = bearer(keys.admin)
  const get = (url: string) => call(app, 'GET', url, undefined, admin)
  for (const slug of ['gamma', 'delta', 'epsilon']) await post('/v1/parties', { slug, name: slug, kind: 'media' })
  for (const slug of ['checker', 'second-checker'])
    await post('/v1/parties', { slug, name: slug, kind: 'fact-checker' })
  for (let i = 1; i <= 5; i++) {
    const event = await post('/v1/events', { slug: `event-${i}`, name: `Event ${i}`, starts_at: `2021-03-0${i}` })
    if (i > 3) t.equal((await call(app, 'DELETE', `/v1/events/${event.id}`)).status, 204, 'deleted: a tombstone')
  }
  const target = alphaClaims[6]!
  for (const party of ['gamma', 'delta', 'epsilon']) {
    const figures = [
      { measure: 'deaths', value: 1, unit: 'people' },
      { measure: 'injured', value: 2, unit: 'people' },
    ]
    const claim = await post('/v1/claims', { party, text: `${party} denies it.`, stated_at: '2021-02-02', figures })
    await post('/v1/links', { from_claim_id: claim.id, to_claim_id: target.id, kind: 'rebuts' })
  }
  for (const claim of alphaClaims.slice(0, 3)) {
    for (const reviewer of ['checker', 'second-checker']) {
      await post(`/v1/claims/${claim.id}/reviews`, {
        reviewer,
        verdict: 'false',
        rating_label: 'False',
        published_at: '2021-03-01T00:00:00Z',
      })
    }
  }

  for (const list of [
    '/v1/parties?limit=2',
    '/v1/parties?kind=media&limit=1',
    '/v1/events?limit=2',
    '/v1/events?starts_after=2021-03-02&limit=1',
    '/v1/links?limit=2',
    '/v1/links?party=alpha&kind=rebuts&limit=4',
    '/v1/figures?limit=2',
    '/v1/figures?measure=deaths&limit=1',
    '/v1/reviews?limit=4',
    '/v1/reviews?reviewer=checker&limit=2',
    `/v1/claims/${alphaClaims[0]!.id}/reviews?limit=1`,
    `/v1/claims/${target.id}/rebuttals?limit=2`,
    '/v1/tombstones?limit=1',
    '/v1/keys?limit=3',
  ]) {
    const forward = []
    let response = await get(list)
    t.equal(response.status, 200, list)
    t.equal(response.body.prev_cursor, null, `${list}: none before the first page`)
    forward.push(response.body.data)
    while (response.body.next_cursor !== null) {
      response = await get(linked(response, 'next')!)
      t.equal(response.status, 200)
      forward.push(response.body.data)
    }
    t.ok(forward.length >= 2, `${list}: ${forward.length} pages`)
    const backward = [response.body.data]
    while (response.body.prev_cursor !== null) {
      response = await get(linked(response, 'prev')!)
      t.equal(response.status, 200)
      t.ok(response.body.next_cursor, `${list}: a page reached backward has a next page`)
      backward.unshift(response.body.data)
    }
    t.same(backward, forward, `${list}: the same pages, both ways`)

    const total = forward.flat().length
    const counted = await get(`${list}&count=exact`)
    t.match(counted.body, { total, total_kind: 'exact' }, `${list}: count=exact is the ${total} items paged`)
    const second = await get(`${linked(counted, 'next')!}`)
    t.equal(second.body.total, total, `${list}: every page counts the whole list`)
    t.match((await get(`${list}&count=estimated`)).body, { total, total_kind: 'exact' }, 'a small list is counted')
    t.notOk('total' in (await get(list)).body, `${list}: no total unless asked`)
  }

  const eventsPrev = (await get(linked(await get('/v1/events?limit=1'), 'next')!)).body.prev_cursor
  for (const url of [`/v1/links?cursor=${eventsPrev}`, `/v1/parties?cursor=${eventsPrev}`, '/v1/parties?count=all']) {
    const refused = await get(url)
    t.equal(refused.status, 400, `${url}: another list's cursor, or a bad count`)
  }
  t.equal((await get('/v1/events?count=exact&format=csv')).status, 400, 'no count on an export')
})
