import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'

const { app, database } = await buildTestApp(t)

async function post(url: string, body: unknown) {
  const response = await call(app, 'POST', url, body)
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body
}

for (const slug of ['alpha', 'beta']) await post('/v1/parties', { slug, name: slug, kind: 'official' })
const alphaClaims = []
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
