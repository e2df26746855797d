import { parse } from 'csv-parse/sync'
import { sql } from 'kysely'
import t from 'tap'
import {
  LINK_CSV_COLUMNS,
  MATRIX_CSV_COLUMNS,
  PARTY_CSV_COLUMNS,
  REVIEW_CSV_COLUMNS,
  TOMBSTONE_CSV_COLUMNS,
  FIGURE_CSV_COLUMNS,
} from '../src/schemas/export.schema.js'
import { buildTestApp, call } from './helpers/test-app.js'

// Links, parties and reviews export as claims do: every matching item, in the JSON list's order.
const { app, database } = await buildTestApp(t)

async function post(url: string, body: unknown) {
  const response = await call(app, 'POST', url, body)
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body
}

async function getText(url: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'GET', url, headers })
  const problem = String(response.headers['content-type']).startsWith('application/problem+json')
  return {
    status: response.statusCode,
    headers: response.headers,
    raw: response.body,
    body: problem ? response.json() : undefined,
  }
}

/** Every item of a JSON list, page after page. */
async function allPages(url: string) {
  const items = []
  let next: string | null = `${url}${url.includes('?') ? '&' : '?'}limit=200`
  while (next !== null) {
    const response = await call(app, 'GET', next)
    if (response.status !== 200) throw new Error(`GET ${next}: ${response.status} ${response.raw}`)
    items.push(...response.body.data)
    next = response.body.next_cursor === null ? null : response.headers.link!.toString().match(/<([^>]+)>/)![1]!
  }
  return items
}

const csvRows = (text: string): Record<string, string>[] => parse(text, { columns: true, record_delimiter: '\r\n' })
const ndjsonItems = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line))
const header = (columns: Array<{ name: string }>) => `${columns.map((c) => c.name).join(',')}\r\n`

const state = await post('/v1/parties', { slug: 'state-a', name: 'State A', kind: 'state', country: 'AM' })
await post('/v1/parties', {
  slug: 'ministry-a',
  name: 'Ministry, "A"',
  kind: 'official',
  side: 'state-a',
  description: 'Speaks for\nstate A',
  wikidata: 'Q42',
})
await post('/v1/parties', { slug: 'ministry-b', name: 'Ministry B', kind: 'official' })
await post('/v1/parties', { slug: 'checker-one', name: 'Checker One', kind: 'fact-checker' })
await post('/v1/parties', { slug: 'checker-two', name: 'Checker Two', kind: 'fact-checker' })
const said = await post('/v1/claims', {
  party: 'ministry-a',
  text: 'We hit the depot.',
  stated_at: '2021-03-01T08:00:00Z',
})
const denied = await post('/v1/claims', {
  party: 'ministry-b',
  text: 'No depot was hit.',
  stated_at: '2021-03-01T12:30:00Z',
})
const backed = await post('/v1/claims', {
  party: 'state-a',
  text: 'Our ministry is right.',
  stated_at: '2021-03-02T09:00:00Z',
})
const rebuttal = await post('/v1/links', {
  from_claim_id: denied.id,
  to_claim_id: said.id,
  kind: 'rebuts',
  note: '=calls it "false", twice',
})
await post('/v1/links', { from_claim_id: backed.id, to_claim_id: denied.id, kind: 'rebuts' })
await post(`/v1/claims/${said.id}/reviews`, {
  reviewer: 'checker-one',
  verdict: 'false',
  rating_label: 'False',
  rating_value: 1,
  best_rating: 5,
  worst_rating: 1,
  url: 'https://checker.example/depot?a=1,2',
  published_at: '2021-03-05T00:00:00Z',
})
await post(`/v1/claims/${said.id}/reviews`, {
  reviewer: 'checker-two',
  verdict: 'mostly-false',
  rating_label: 'Mostly false',
  published_at: '2021-03-06T00:00:00Z',
})
await post(`/v1/claims/${denied.id}/reviews`, {
  reviewer: 'checker-two',
  verdict: 'unproven',
  rating_label: 'Unproven',
  published_at: '2021-03-04T00:00:00Z',
})

// More parties and links than one chunk of an export (1,000 rows), straight into the tables.
const BULK = 1100
await sql`
  INSERT INTO parties (slug, name, kind)
  SELECT 'bulk-' || lpad(g::text, 5, '0'), 'Bulk party ' || g, 'media' FROM generate_series(1, ${BULK}) g`.execute(
  database.db,
)
await sql`
  WITH answers AS (
    INSERT INTO claims (party_id, text, stated_at)
    SELECT p.id, 'Bulk answer ' || p.slug, timestamptz '2021-04-01 00:00:00+00'
    FROM parties p WHERE p.slug LIKE 'bulk-%'
    RETURNING id, party_id, stated_at
  )
  INSERT INTO links (from_claim_id, to_claim_id, from_party_id, to_party_id, kind, to_claim_tags, to_claim_stated_at,
                     from_claim_stated_at, created_at)
  SELECT a.id, c.id, a.party_id, c.party_id, 'supports', c.tags, c.stated_at, a.stated_at,
         timestamptz '2021-04-01 00:00:00+00'
  FROM answers a, claims c WHERE c.id = ${said.id}`.execute(database.db)

t.test('links: every link as CSV and NDJSON, in the JSON order, with both claims and both times', async (t) => {
  const json = await allPages('/v1/links')
  t.equal(json.length, BULK + 2)
  const ndjson = await getText('/v1/links', { accept: 'application/x-ndjson' })
  t.equal(ndjson.status, 200)
  t.same(ndjsonItems(ndjson.raw), json, 'each line is the JSON item, across chunks')
  const csv = await getText('/v1/links?format=csv')
  t.equal(csv.headers['content-disposition'], 'attachment; filename="links.csv"')
  t.ok(csv.raw.startsWith(header(LINK_CSV_COLUMNS)))
  const rows = csvRows(csv.raw)
  t.same(
    rows.map((row) => row.id),
    json.map((link) => link.id),
  )
  t.same(
    rows.find((row) => row.id === rebuttal.id),
    {
      id: rebuttal.id,
      kind: 'rebuts',
      from_claim_id: denied.id,
      from_party_slug: 'ministry-b',
      from_claim_stated_at: '2021-03-01T12:30:00.000Z',
      to_claim_id: said.id,
      to_party_slug: 'ministry-a',
      to_claim_stated_at: '2021-03-01T08:00:00.000Z',
      note: `'=calls it "false", twice`,
      prebuttal: 'false',
      aspect: '',
      measure: '',
      version: '1',
      created_at: rebuttal.created_at,
      updated_at: rebuttal.updated_at,
    },
  )
  t.match(rebuttal, {
    from_claim_stated_at: '2021-03-01T12:30:00.000Z',
    to_claim_stated_at: '2021-03-01T08:00:00.000Z',
  })

  for (const query of ['kind=rebuts', 'party=ministry-b', `claim=${denied.id}`, 'kind=supports&party=bulk-00007']) {
    t.same(
      ndjsonItems((await getText(`/v1/links?${query}&format=ndjson`)).raw),
      await allPages(`/v1/links?${query}`),
      query,
    )
  }
  const none = await getText('/v1/links?party=checker-one&format=csv')
  t.equal(none.raw, header(LINK_CSV_COLUMNS), 'nothing matches: the header row alone')
})

t.test('parties: every party, by slug, with its side', async (t) => {
  const json = await allPages('/v1/parties')
  t.equal(json.length, BULK + 5)
  const ndjson = await getText('/v1/parties?format=ndjson')
  t.same(ndjsonItems(ndjson.raw), json)
  const csv = await getText('/v1/parties', { accept: 'text/csv' })
  t.equal(csv.headers['content-disposition'], 'attachment; filename="parties.csv"')
  t.match(csv.headers.vary, /accept/i)
  const rows = csvRows(csv.raw)
  t.same(
    rows.map((row) => row.slug),
    json.map((party) => party.slug),
  )
  const ministry = json.find((party) => party.slug === 'ministry-a')
  t.same(
    rows.find((row) => row.slug === 'ministry-a'),
    {
      id: ministry.id,
      slug: 'ministry-a',
      name: 'Ministry, "A"',
      kind: 'official',
      country: '',
      side_slug: 'state-a',
      description: 'Speaks for\nstate A',
      wikidata: 'Q42',
      url: '',
      logo: '',
      version: '1',
      created_at: ministry.created_at,
      updated_at: ministry.updated_at,
    },
  )
  const sided = csvRows((await getText(`/v1/parties?side=${state.id}&format=csv`)).raw)
  t.same(
    sided.map((row) => row.slug),
    ['ministry-a'],
  )
  const checkers = ndjsonItems((await getText('/v1/parties?kind=fact-checker&format=ndjson')).raw)
  t.same(
    checkers.map((party) => party.slug),
    ['checker-one', 'checker-two'],
  )
})

t.test('reviews: every review, or a claim’s, latest published first', async (t) => {
  const json = await allPages('/v1/reviews')
  t.same(
    json.map((review) => [review.reviewer.slug, review.verdict]),
    [
      ['checker-two', 'mostly-false'],
      ['checker-one', 'false'],
      ['checker-two', 'unproven'],
    ],
  )
  const csv = await getText('/v1/reviews?format=csv')
  t.equal(csv.headers['content-disposition'], 'attachment; filename="reviews.csv"')
  const rows = csvRows(csv.raw)
  t.same(
    rows.map((row) => row.id),
    json.map((review) => review.id),
  )
  const first = json.find((review) => review.reviewer.slug === 'checker-one')
  t.same(
    rows.find((row) => row.id === first.id),
    {
      id: first.id,
      claim_id: said.id,
      claim_version: '1',
      rates_current_wording: 'true',
      reviewer_slug: 'checker-one',
      verdict: 'false',
      rating_label: 'False',
      rating_value: '1',
      best_rating: '5',
      worst_rating: '1',
      url: 'https://checker.example/depot?a=1,2',
      claim_summary: '',
      published_at: '2021-03-05T00:00:00.000Z',
      version: '1',
      created_at: first.created_at,
      updated_at: first.updated_at,
    },
  )
  t.same(ndjsonItems((await getText('/v1/reviews?format=ndjson')).raw), json)
  for (const query of [
    'reviewer=checker-two',
    'verdict=false',
    `claim=${denied.id}`,
    'reviewer=checker-two&verdict=false',
  ]) {
    t.same(
      ndjsonItems((await getText(`/v1/reviews?${query}&format=ndjson`)).raw),
      await allPages(`/v1/reviews?${query}`),
      query,
    )
  }
  const edited = await call(app, 'PATCH', `/v1/claims/${denied.id}`, { text: 'No depot was hit at all.' })
  t.equal(edited.status, 200)
  const pinned = csvRows((await getText(`/v1/reviews?claim=${denied.id}&format=csv`)).raw)
  t.match(pinned, [{ claim_version: '1', rates_current_wording: 'false' }], 'the rated version, no longer current')
  const ofClaim = await getText(`/v1/claims/${said.id}/reviews?format=csv`)
  t.same(
    csvRows(ofClaim.raw).map((row) => row.reviewer_slug),
    ['checker-two', 'checker-one'],
  )
  t.same(
    ndjsonItems((await getText(`/v1/claims/${said.id}/reviews?format=ndjson`)).raw),
    await allPages(`/v1/claims/${said.id}/reviews`),
  )
  const none = await getText(`/v1/claims/${backed.id}/reviews?format=csv`)
  t.equal(none.raw, header(REVIEW_CSV_COLUMNS))
})

t.test('the claims CSV says which fact-checker gave which verdict', async (t) => {
  const rows = csvRows((await getText('/v1/claims?format=csv')).raw)
  t.equal(rows.find((row) => row.id === said.id)!.verdicts, 'checker-two:mostly-false;checker-one:false')
  t.equal(rows.find((row) => row.id === denied.id)!.verdicts, 'checker-two:unproven')
  t.equal(rows.find((row) => row.id === backed.id)!.verdicts, '')
})

t.test('the lists page as before, and their exports refuse what pages them or names nothing', async (t) => {
  const page = await call(app, 'GET', '/v1/reviews?limit=2')
  t.equal(page.body.data.length, 2)
  const rest = await call(app, 'GET', `/v1/reviews?limit=2&cursor=${page.body.next_cursor}`)
  t.equal(rest.body.data.length, 1)
  t.equal(rest.body.next_cursor, null)
  const otherCursor = (await call(app, 'GET', `/v1/claims/${said.id}/reviews?limit=1`)).body.next_cursor
  t.equal(
    (await call(app, 'GET', `/v1/reviews?cursor=${otherCursor}`)).status,
    400,
    "a claim's cursor is not this list's",
  )
  const cases: Array<[string, number, string]> = [
    ['/v1/links?format=csv&limit=1000001', 400, 'limit'],
    ['/v1/links?limit=201', 400, 'limit'],
    ['/v1/links?format=ndjson&party=nobody', 422, 'party'],
    ['/v1/parties?format=csv&cursor=abc', 400, 'cursor'],
    ['/v1/parties?format=ndjson&side=nobody', 422, 'side'],
    ['/v1/reviews?format=csv&limit=0', 400, 'limit'],
    ['/v1/tombstones?format=ndjson&limit=2000000', 400, 'limit'],
    ['/v1/reviews?format=csv&reviewer=nobody', 422, 'reviewer'],
    ['/v1/reviews?claim=00000000-0000-4000-8000-000000000000', 422, 'claim'],
    ['/v1/reviews?verdict=wrong', 400, 'verdict'],
    [`/v1/claims/${said.id}/reviews?format=csv&cursor=abc`, 400, 'cursor'],
    [`/v1/claims/${said.id}/reviews?limit=201`, 400, 'limit'],
  ]
  for (const [url, status, field] of cases) {
    const response = await getText(url)
    t.equal(response.status, status, url)
    t.match(response.headers['content-type'], /^application\/problem\+json/, url)
    t.equal(response.body.errors[0].field, field, url)
  }
  for (const list of ['/v1/reviews?format=csv', `/v1/claims/${said.id}/reviews?format=csv`]) {
    const whole = csvRows((await getText(list)).raw)
    t.ok(whole.length >= 2, `${list}: enough rows to cut`)
    const first = await getText(`${list}&limit=1`)
    t.equal(first.status, 200)
    t.same(csvRows(first.raw), whole.slice(0, 1), `${list}&limit=1: the first row of the whole export`)
  }
  const gone = await getText('/v1/claims/00000000-0000-4000-8000-000000000000/reviews?format=csv')
  t.equal(gone.status, 404)
})

t.test('the HTTP contract documents exactly these CSV columns', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const contract = await readFile(new URL('../docs/http-contract.md', import.meta.url), 'utf8')
  for (const [heading, columns] of [
    ['Link columns', LINK_CSV_COLUMNS],
    ['Party columns', PARTY_CSV_COLUMNS],
    ['Review columns', REVIEW_CSV_COLUMNS],
    ['Tombstone columns', TOMBSTONE_CSV_COLUMNS],
    ['Figure columns', FIGURE_CSV_COLUMNS],
    ['Matrix columns', MATRIX_CSV_COLUMNS],
  ] as const) {
    const section = contract.split(`| ${heading}`)[1]?.split('\n\n')[0] ?? ''
    const documented = [...section.matchAll(/^\| `([a-z_]+)` +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2]])
    t.same(
      documented,
      (columns as ReadonlyArray<{ name: string; description: string }>).map((c) => [c.name, c.description]),
      heading,
    )
  }
})
