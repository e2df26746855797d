import { readFile } from 'node:fs/promises'
import { get, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parse } from 'csv-parse/sync'
import { sql } from 'kysely'
import t from 'tap'
import { openServerDatabase } from '../src/db/database.js'
import {
  CLAIM_CSV_COLUMNS,
  DISPUTE_CSV_COLUMNS,
  EVENT_CSV_COLUMNS,
  EVENT_FIGURE_CSV_COLUMNS,
} from '../src/schemas/export.schema.js'
import { csvEncoder } from '../src/http/export.js'
import type { ClaimListFilter, ClaimSort } from '../src/schemas/claim.schema.js'
import { exportClaims } from '../src/services/claim-list.service.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { buildTestApp, call, TEST_LIMITS } from './helpers/test-app.js'
import { databaseUrl, serverUrl } from './helpers/test-database.js'
import type { Claim } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

async function post(url: string, body: unknown) {
  const response = await call(app, 'POST', url, body)
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body
}

for (const slug of ['alpha', 'beta', 'gamma']) {
  await post('/v1/parties', { slug, name: `${slug.toUpperCase()} Ministry`, kind: 'official' })
}

// Text that CSV must quote or carry as it is: quotes, commas, line ends of every kind, and characters beyond ASCII.
const awkward = [
  'He said "no", then "yes".',
  'one, two, three',
  'first line\nsecond line',
  'a CRLF\r\ninside, and a lone CR\rtoo',
  'Ünïcödé — 日本語, emoji 🚀, Armenian Հայերեն',
  ' leading and trailing spaces ',
  '"',
]
const special: any[] = []
for (const [i, text] of awkward.entries()) {
  special.push(
    await post('/v1/claims', {
      party: i % 2 === 0 ? 'alpha' : 'beta',
      text,
      quote: `quoted: ${text}`,
      quote_language: 'en-GB',
      certainty: 'hedged',
      stated_at: `2021-01-0${1 + (i % 9)}T10:00:00Z`,
      tags: ['awkward', i % 2 === 0 ? 'even' : 'odd'],
      location: { name: 'Place, "quoted"', lat: 40.5, lon: -3.25 },
      sources: [{ url: `https://example.org/a?x=1&y=${i}` }, { url: 'https://example.org/b' }],
    }),
  )
}
// More claims than the largest page, straight into the table.
const PARTY_ROWS = 300
await sql`
  INSERT INTO claims (party_id, text, stated_at, tags)
  SELECT p.id, 'Bulk claim number ' || g, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour',
         CASE WHEN g % 3 = 0 THEN ARRAY['third'] ELSE ARRAY[]::text[] END
  FROM generate_series(1, ${PARTY_ROWS}) g JOIN parties p ON p.slug = CASE WHEN g % 2 = 0 THEN 'alpha' ELSE 'gamma' END
`.execute(database.db)
// Disputes: the awkward claims of alpha rebutted by gamma, one of them twice.
const gammaReply = await post('/v1/claims', { party: 'gamma', text: 'All false.', stated_at: '2021-02-01T00:00:00Z' })
const gammaLater = await post('/v1/claims', { party: 'gamma', text: 'Still false.', stated_at: '2021-02-02T00:00:00Z' })
for (const claim of special.filter((_, i) => i % 2 === 0)) {
  await post('/v1/links', { from_claim_id: gammaReply.id, to_claim_id: claim.id, kind: 'rebuts', note: 'a, "note"' })
}
await post('/v1/links', { from_claim_id: gammaLater.id, to_claim_id: special[0].id, kind: 'rebuts' })

/** An answer as text: NDJSON is not one JSON document, which `callRaw` would parse. */
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
    .filter((line, i, lines) => line !== '' || i < lines.length - 1)
    .map((line) => JSON.parse(line))

t.test('CSV of the claim list: every claim, in the JSON order, fields intact', async (t) => {
  const json = await allPages('/v1/claims')
  t.ok(json.length > 300, `more claims than a page (${json.length})`)
  const response = await getText('/v1/claims', { accept: 'text/csv' })
  t.equal(response.status, 200)
  t.equal(response.headers['content-type'], 'text/csv; charset=utf-8; header=present')
  t.equal(response.headers['content-disposition'], 'attachment; filename="claims.csv"')
  t.match(response.headers.vary, /accept/i)
  t.ok(response.raw.startsWith(`${CLAIM_CSV_COLUMNS.map((c) => c.name).join(',')}\r\n`), 'a header row, CRLF')
  t.ok(response.raw.endsWith('\r\n'), 'every record ends with CRLF')
  const unquoted = response.raw.replace(/"(?:[^"]|"")*"/g, '')
  t.notMatch(unquoted, /[^\r]\n|\r[^\n]/, 'a line break within a field is quoted, a lone CR or LF too')
  const rows = csvRows(response.raw)
  t.same(
    rows.map((row) => row.id),
    json.map((claim) => claim.id),
    'every claim, in the order of the JSON list',
  )
  for (const claim of special) {
    const row = rows.find((r) => r.id === claim.id)!
    t.equal(row.text, claim.text, `text survives: ${JSON.stringify(claim.text)}`)
    t.equal(row.quote, claim.quote)
  }
  const first = rows.find((r) => r.id === special[0].id)!
  const expected = json.find((claim) => claim.id === special[0].id)
  t.match(first, {
    party_id: expected.party.id,
    party_slug: 'alpha',
    party_name: 'ALPHA Ministry',
    stated_at: expected.stated_at,
    event_at: '',
    location_name: 'Place, "quoted"',
    location_lat: '40.5',
    location_lon: '-3.25',
    language: 'en',
    quote_language: 'en-GB',
    certainty: 'hedged',
    tags: 'awkward;even',
    source_urls: 'https://example.org/a?x=1&y=0 https://example.org/b',
    status: 'disputed',
    rebuttal_count: '2',
    support_count: '0',
    rebutted_by: 'gamma',
    last_response_at: '2021-02-02T00:00:00.000Z',
    review_count: '0',
    verdicts: '',
    version: '1',
    created_at: expected.created_at,
    updated_at: expected.updated_at,
  })
})

t.test('NDJSON of the claim list: each line is the JSON list item', async (t) => {
  const json = await allPages('/v1/claims?sort=created_at')
  const response = await getText('/v1/claims?sort=created_at', {
    accept: 'application/x-ndjson',
  })
  t.equal(response.status, 200)
  t.equal(response.headers['content-type'], 'application/x-ndjson')
  t.notOk(response.headers['content-disposition'])
  t.ok(response.raw.endsWith('}\n'))
  t.same(ndjsonItems(response.raw), json)
})

t.test('filters and sorts apply as on the JSON list', async (t) => {
  for (const query of [
    'tag=third&sort=stated_at',
    'party=alpha',
    'status=disputed',
    'q=false',
    'stated_before=2020-01-03T00:00:00Z',
  ]) {
    const json = await allPages(`/v1/claims?${query}`)
    const response = await getText(`/v1/claims?${query}&format=ndjson`)
    t.same(ndjsonItems(response.raw), json, query)
  }
  const none = await getText('/v1/claims?tag=nothing-has-it&format=csv')
  t.equal(none.raw, `${CLAIM_CSV_COLUMNS.map((c) => c.name).join(',')}\r\n`, 'nothing matches: the header row alone')
  const empty = await getText('/v1/claims?tag=nothing-has-it&format=ndjson')
  t.equal(empty.raw, '')
})

t.test('the disputes list exports its items and its latest rebuttal', async (t) => {
  for (const sort of ['-last_response_at', '-rebuttal_count', '-stated_at']) {
    const json = await allPages(`/v1/disputes?sort=${sort}`)
    t.equal(json.length, 4)
    const ndjson = await getText(`/v1/disputes?sort=${sort}`, {
      accept: 'application/x-ndjson',
    })
    t.same(ndjsonItems(ndjson.raw), json, `NDJSON items are the JSON items, ${sort}`)
    const csv = await getText(`/v1/disputes?sort=${sort}&format=csv`)
    t.equal(csv.headers['content-disposition'], 'attachment; filename="disputes.csv"')
    const rows = csvRows(csv.raw)
    t.same(
      Object.keys(rows[0]!),
      DISPUTE_CSV_COLUMNS.map((c) => c.name),
    )
    t.same(
      rows.map((row) => [row.id, row.latest_rebuttal_claim_id, row.latest_rebuttal_party, row.latest_rebuttal_at]),
      json.map((d) => [d.claim.id, d.latest_rebuttals[0].claim.id, 'gamma', d.latest_rebuttals[0].claim.stated_at]),
    )
  }
  const filtered = await getText('/v1/disputes?rebutted_by=gamma&tag=odd&format=ndjson')
  t.same(ndjsonItems(filtered.raw), [])
})

t.test('format beats Accept; Accept is negotiated; an Accept for none of them is a 406', async (t) => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['?format=ndjson', { accept: 'text/csv' }, 'application/x-ndjson'],
    ['?format=json', { accept: 'text/csv' }, 'application/json'],
    ['?format=csv', {}, 'text/csv'],
    ['', { accept: 'text/csv;q=0.5, application/x-ndjson' }, 'application/x-ndjson'],
    ['', { accept: 'application/json;q=0.1, text/*' }, 'text/csv'],
    ['', { accept: '*/*' }, 'application/json'],
    ['?format=json', { accept: 'application/xml' }, 'application/json'],
    ['', {}, 'application/json'],
  ]
  for (const [query, headers, type] of cases) {
    const response = await getText(`/v1/claims${query}`, headers)
    t.equal(response.status, 200)
    t.match(response.headers['content-type'], type, `${query} ${JSON.stringify(headers)}`)
    t.match(response.headers.vary, /accept/i)
  }
  const refused = await getText('/v1/claims', { accept: 'application/xml' })
  t.equal(refused.status, 406, 'an Accept for none of them is refused, naming them')
  t.match(refused.raw, /application\/json, text\/csv, application\/x-ndjson/)
  t.match(refused.headers.vary, /accept/i, 'the refusal, too, depends on Accept')
  const page = await call(app, 'GET', '/v1/claims?format=json&limit=2')
  t.equal(page.body.data.length, 2, 'format=json is the page')
})

t.test('an export with limit has the first N rows of the whole export, and a page never more than 200', async (t) => {
  for (const list of ['/v1/claims?sort=-stated_at', '/v1/disputes?sort=-stated_at', '/v1/links?']) {
    const join = list.endsWith('?') ? '' : '&'
    const whole = await getText(`${list}${join}format=ndjson`)
    const lines = whole.raw.split('\n').filter((line) => line !== '')
    t.ok(lines.length > 3, `${list}: enough rows to cut`)
    const first = await getText(`${list}${join}format=ndjson&limit=3`)
    t.equal(first.status, 200)
    t.same(
      first.raw.split('\n').filter((line) => line !== ''),
      lines.slice(0, 3),
      `${list}: the first 3 rows`,
    )
    const all = await getText(`${list}${join}format=ndjson&limit=1000000`)
    t.equal(all.raw, whole.raw, `${list}: a limit above the count gives every row`)
  }
  const csv = await getText('/v1/claims?limit=250', { accept: 'text/csv' })
  t.equal(csv.status, 200, 'more than a page, as CSV')
  const rows = csvRows(csv.raw)
  t.equal(rows.length, 250)
  t.same(
    rows.map((row) => row.id),
    csvRows((await getText('/v1/claims', { accept: 'text/csv' })).raw)
      .slice(0, 250)
      .map((row) => row.id),
  )
  const page = await call(app, 'GET', '/v1/claims?limit=201')
  t.equal(page.status, 400, 'a JSON page holds at most 200')
  t.match(page.body.errors[0], { in: 'query', field: 'limit', message: /at most 200 .*export/ })
})

t.test('errors before the first byte are problems', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['/v1/claims?format=csv&party=nobody', 422, 'party'],
    ['/v1/claims?format=csv&stated_after=yesterday', 400, 'stated_after'],
    ['/v1/claims?format=xml', 400, 'format'],
    ['/v1/claims?format=ndjson&cursor=abc', 400, 'cursor'],
    ['/v1/claims?format=csv&limit=1000001', 400, 'limit'],
    ['/v1/claims?format=ndjson&limit=0', 400, 'limit'],
    ['/v1/claims?format=json&limit=201', 400, 'limit'],
    ['/v1/claims?format=csv&sort=relevance', 400, 'sort'],
    ['/v1/disputes?format=ndjson&rebutted_by=nobody', 422, 'rebutted_by'],
  ]
  for (const [url, status, field] of cases) {
    const response = await getText(url, { accept: 'text/csv' })
    t.equal(response.status, status, url)
    t.match(response.headers['content-type'], /^application\/problem\+json/, url)
    t.notOk(response.headers['content-disposition'], url)
    t.equal(response.body.errors[0].field, field, url)
  }
})

t.test('the HTTP contract documents exactly the CSV columns of the code', async (t) => {
  const readme = await readFile(new URL('../docs/http-contract.md', import.meta.url), 'utf8')
  for (const [heading, columns] of [
    ['Claim columns', CLAIM_CSV_COLUMNS],
    ['Extra dispute columns', DISPUTE_CSV_COLUMNS.slice(CLAIM_CSV_COLUMNS.length)],
    ['Event columns', EVENT_CSV_COLUMNS],
    ['Event figure columns', EVENT_FIGURE_CSV_COLUMNS],
  ] as const) {
    const section = readme.split(`| ${heading}`)[1]?.split('\n\n')[0] ?? ''
    const documented = [...section.matchAll(/^\| `([a-z_]+)` +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2]])
    t.same(
      documented,
      columns.map((c) => [c.name, c.description]),
      heading,
    )
  }
})

t.test('text a spreadsheet would run as a formula is written inert; numbers as they are', async (t) => {
  const formulas = ['=HYPERLINK("https://evil.example","x")', '+1 from the ministry', '-5 dead', '@handle said so']
  const made = []
  for (const text of formulas) {
    made.push(await post('/v1/claims', { party: 'gamma', text, stated_at: '2018-06-01T00:00:00Z', tags: ['formula'] }))
  }
  const csv = await call(app, 'GET', '/v1/claims?format=csv&tag=formula&sort=created_at')
  const rows = parse(csv.raw, { columns: true }) as Array<Record<string, string>>
  t.same(
    rows.map((row) => row.text),
    formulas.map((text) => `'${text}`),
  )
  const lon = await call(app, 'GET', '/v1/claims?format=csv&tag=awkward')
  const awkwardRows = parse(lon.raw, { columns: true }) as Array<Record<string, string>>
  t.ok(
    awkwardRows.every((row) => row.location_lon === '-3.25'),
    'a negative number stays a number',
  )
  const ndjson = await call(app, 'GET', '/v1/claims?format=ndjson&tag=formula&sort=created_at')
  t.same(
    ndjson.raw
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as Claim).text),
    formulas,
    'NDJSON carries the text as it is',
  )
  for (const claim of made) t.equal((await call(app, 'DELETE', `/v1/claims/${claim.id}`)).status, 204)
})

t.test('HEAD answers the headers of an export without reading it', async (t) => {
  const head = await app.inject({ method: 'HEAD', url: '/v1/claims?format=csv' })
  t.equal(head.statusCode, 200)
  t.match(head.headers['content-type'], /^text\/csv/)
  t.equal(head.body, '')
})

t.test('a client that stops reading holds no query; one that goes away ends the export', async (t) => {
  // Enough rows that the export cannot fit in the socket buffers: it is still reading when the client leaves.
  // They count as disputed (without the links, which no test here reads) to make the disputes export long too.
  await sql`
    INSERT INTO claims (party_id, text, stated_at, sources, rebuttal_count)
    SELECT p.id, 'Padding claim ' || g, timestamptz '2019-01-01 00:00:00+00' + g * interval '1 minute',
           (SELECT jsonb_agg(jsonb_build_object('url', 'https://example.org/' || repeat('p', 180) || '/' || i))
            FROM generate_series(1, 10) i),
           1
    FROM generate_series(1, 20000) g JOIN parties p ON p.slug = 'beta'
  `.execute(database.db)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const exportQueries = async () => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`.execute(database.db)
    return rows[0]!.n
  }

  for (const path of [
    '/v1/claims?format=csv',
    '/v1/disputes?format=ndjson&sort=-stated_at',
    '/v1/claims?format=ndjson',
  ]) {
    const request = get(`${base}${path}`)
    const response = await new Promise<IncomingMessage>((resolve) => request.once('response', resolve))
    t.equal(response.statusCode, 200, path)
    const first = await new Promise<Buffer>((resolve) => response.once('data', resolve))
    response.pause()
    t.ok(first.length > 0, 'the first bytes came')
    // While the client takes nothing, the export waits between two chunks, holding no query and no connection:
    // on the embedded database, the one session that every request needs.
    const during = await fetch(`${base}/v1/claims?limit=1`)
    t.equal(during.status, 200, 'a request is served while the export waits for its client')
    await during.arrayBuffer()
    if (serverUrl !== undefined) {
      let open = await exportQueries()
      for (let attempt = 0; open > 0 && attempt < 100; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        open = await exportQueries()
      }
      t.equal(open, 0, 'no query stays open while the client reads nothing')
    }
    request.destroy()
    const next = await fetch(`${base}/v1/claims?limit=1`)
    t.equal(next.status, 200, 'the next request is served')
    await next.arrayBuffer()
    if (serverUrl !== undefined) {
      let open = await exportQueries()
      for (let attempt = 0; open > 0 && attempt < 300; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        open = await exportQueries()
      }
      t.equal(open, 0, 'no export query is left running or open')
    }
  }
})

t.test('exports beyond a quarter of the pool are refused with 503 until one ends', async (t) => {
  // After the test above: its padding rows make an export too long to fit in the socket buffers, so a client
  // that stops reading keeps it running.
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  // The test app's pool is the default 10 on a server: two exports at once; the embedded database: one.
  const slots = serverUrl === undefined ? 1 : 2
  const held = []
  for (let i = 0; i < slots; i++) {
    const request = get(`${base}/v1/claims?format=ndjson`)
    const response = await new Promise<IncomingMessage>((resolve) => request.once('response', resolve))
    t.equal(response.statusCode, 200, `export ${i + 1} runs`)
    response.pause()
    held.push(request)
  }
  const refused = await fetch(`${base}/v1/disputes?format=csv`)
  t.equal(refused.status, 503, 'one export more is refused')
  t.ok(refused.headers.get('retry-after'), 'with Retry-After')
  t.match(await refused.json(), {
    code: 'service-unavailable',
    detail: /exports as may run at once \(\d+\) are running/,
  })
  if (serverUrl !== undefined) {
    const page = await fetch(`${base}/v1/claims?limit=1`)
    t.equal(page.status, 200, 'other requests are served meanwhile')
    await page.arrayBuffer()
  }
  for (const request of held) request.destroy()
  let after = await fetch(`${base}/v1/claims?format=csv&tag=third`)
  for (let attempt = 0; after.status === 503 && attempt < 100; attempt++) {
    await after.arrayBuffer()
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = await fetch(`${base}/v1/claims?format=csv&tag=third`)
  }
  t.equal(after.status, 200, 'a slot is free again once an export ends')
  await after.arrayBuffer()
})

t.test('an export whose client takes nothing is ended after EXPORT_STALL_TIMEOUT_MS, freeing its slot', async (t) => {
  // The same database with a short stall limit; the padding rows above make an export longer than socket buffers.
  const stallMs = 1000
  const config = { ...loadConfig({ ...TEST_LIMITS, EXPORT_STALL_TIMEOUT_MS: String(stallMs) }), migrateOnStart: false }
  const stalling = await buildApp({ config, database: { ...database, close: async () => {} }, logger: false })
  t.teardown(() => stalling.close())
  await stalling.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(stalling.server.address() as AddressInfo).port}`
  const slots = serverUrl === undefined ? 1 : 2
  const held: IncomingMessage[] = []
  for (let i = 0; i < slots; i++) {
    const request = get(`${base}/v1/claims?format=ndjson`)
    const response = await new Promise<IncomingMessage>((resolve) => request.once('response', resolve))
    t.equal(response.statusCode, 200, `export ${i + 1} runs`)
    response.pause()
    held.push(response)
  }
  const stalledAt = Date.now()
  let after = await fetch(`${base}/v1/claims?format=csv&tag=third`)
  t.equal(after.status, 503, 'while the stalled exports hold their slots, one more is refused')
  for (let attempt = 0; after.status === 503 && attempt < 200; attempt++) {
    await after.arrayBuffer()
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = await fetch(`${base}/v1/claims?format=csv&tag=third`)
  }
  t.equal(after.status, 200, 'the server ends the stalled exports and their slots are free again')
  t.ok(Date.now() - stalledAt >= stallMs - 100, 'not before the stall limit')
  await after.arrayBuffer()
  // One freed slot let that export in; the other stalled export stalled a little later, so its limit is waited out
  // too before its client reads again.
  await new Promise((resolve) => setTimeout(resolve, 2 * stallMs))
  for (const response of held) {
    const ended = new Promise((resolve) => response.once('close', resolve))
    response.resume()
    await ended
    t.notOk(response.complete, 'the stalled client reads a cut-off transfer, not a whole file')
  }
})

t.test(
  'a long export outlives the pool statement_timeout, within its own limit',
  { skip: serverUrl === undefined ? 'statement_timeout needs a PostgreSQL server' : false },
  async (t) => {
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)
    // A pool whose statement_timeout is far shorter than the export takes to read, slowly, chunk by chunk.
    const short = openServerDatabase({
      url: databaseUrl(serverUrl!, rows[0]!.name),
      poolMax: 1,
      statementTimeoutMs: 1000,
    })
    t.teardown(() => short.close())
    const readSlowly = async (exportTimeoutMs: number) => {
      let count = 0
      for await (const _claim of await exportClaims(short.db, {}, '-stated_at', exportTimeoutMs)) {
        if (++count % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 250))
      }
      return count
    }
    t.ok((await readSlowly(60_000)) > 20_000, 'every row, over several times the pool statement_timeout')
    await t.rejects(
      readSlowly(200),
      { code: 'service-unavailable', detail: /ran past its time limit \(200 ms\)/ },
      'the export limit applies to the whole read',
    )
    const after = await short.db.selectFrom('claims').select('id').limit(1).execute()
    t.equal(after.length, 1, 'the connection is usable afterwards, with the pool timeout back')
  },
)

/**
 * The claim list's CSV and NDJSON as the service encodes them from the claims: the bytes of the exports that the
 * database writes must be these.
 */
async function encodedExports(filter: ClaimListFilter, sort: ClaimSort, limit = Number.POSITIVE_INFINITY) {
  const encode = csvEncoder(CLAIM_CSV_COLUMNS)
  const items = []
  for await (const claim of await exportClaims(database.db, filter, sort, 600_000)) {
    if (items.length >= limit) break
    items.push(claim)
  }
  return {
    csv: encode.head + (items.length === 0 ? '' : encode.items(items)),
    ndjson: items.map((item) => `${JSON.stringify(item)}\n`).join(''),
  }
}

t.test('the CSV and NDJSON the database writes are those encoded from the claims, byte for byte', async (t) => {
  await post('/v1/parties', { slug: 'relay-desk', name: 'Relay, "Desk"', kind: 'media' })
  await post('/v1/parties', { slug: 'checker-one', name: 'Checker One', kind: 'fact-checker' })
  await post('/v1/parties', { slug: 'checker-two', name: 'Checker Two', kind: 'fact-checker' })
  const edge = (body: Record<string, unknown>) => post('/v1/claims', { party: 'alpha', tags: ['edge'], ...body })
  // Text a spreadsheet would run, every character CSV quotes, instants given in other zones and to the day or
  // month, doubles JavaScript and PostgreSQL write in different forms, lists of every kind.
  const formula = await edge({
    text: '=1+2',
    quote: '\tindented, "quoted"',
    stated_at: '2020-03-01T12:34:56.789+04:00',
    location: { name: 'Null Island', lat: 0.00001, lon: -0.0000001 },
  })
  const minus = await edge({
    text: '-minus\r\nand more',
    stated_at: '2020-03',
    event_at: '2020-02-29',
    location: { name: '@place', lat: -0, lon: 179.99999999999997 },
    tags: ['edge', 'b-c', '9'],
  })
  await edge({
    text: '\rcarriage return first',
    stated_at: '1999-12-31T23:59:59.999Z',
    relayed_by: ['relay-desk', 'beta'],
    sources: [{ url: 'https://example.org/x,y' }, { url: "https://example.org/it's,fine" }],
    certainty: 'speculative',
  })
  await edge({
    text: '+plus @at',
    stated_at: '2020-03-02',
    location: { name: 'Far', lat: 89.12345678901234, lon: 1e-7 },
    language: 'hy',
  })
  await post('/v1/events', { slug: 'edge-event', name: 'Edge, "event"', starts_at: '2020-02' })
  await edge({
    text: 'Figures\u0001 and an event',
    stated_at: '2020-03-03T01:02:03.004Z',
    event: 'edge-event',
    figures: [
      { measure: 'deaths', value: 471, unit: 'people', as_of: '2020-03-01' },
      { measure: 'injured', low: 100, high: 300.5, qualifier: 'between' },
      { measure: 'displaced', low: 0.000001, qualifier: 'at least', as_of: '2020-03-01T09:30:00+03:00' },
    ],
  })
  // Responses 1.5 s and 2.5 s after the claim (response time rounded half up), on two aspects and the whole claim.
  const cause = await post('/v1/claims', { party: 'gamma', text: 'Not so.', stated_at: '2020-03-01T08:34:58.289Z' })
  const whole = await post('/v1/claims', { party: 'beta', text: 'No.', stated_at: '2020-03-01T08:34:59.289Z' })
  await post('/v1/links', { from_claim_id: cause.id, to_claim_id: formula.id, kind: 'rebuts', aspect: 'cause' })
  await post('/v1/links', { from_claim_id: whole.id, to_claim_id: formula.id, kind: 'rebuts' })
  const backing = await post('/v1/claims', { party: 'gamma', text: 'Yes.', stated_at: '2020-04-02T00:00:02.500Z' })
  await post('/v1/links', { from_claim_id: backing.id, to_claim_id: minus.id, kind: 'supports' })
  // Corrected and retracted by its own party; reviewed twice.
  for (const [kind, stated_at] of [
    ['corrects', '2020-05-01T00:00:00Z'],
    ['retracts', '2020-05-02T00:00:00Z'],
  ] as const) {
    const later = await edge({ text: `It ${kind} it.`, stated_at })
    await post('/v1/links', { from_claim_id: later.id, to_claim_id: minus.id, kind })
  }
  for (const [reviewer, published_at] of [
    ['checker-one', '2020-03-05T00:00:00Z'],
    ['checker-two', '2020-03-06T00:00:00Z'],
  ]) {
    await post(`/v1/claims/${formula.id}/reviews`, { reviewer, verdict: 'false', rating_label: 'False', published_at })
  }

  const cases: Array<[string, ClaimListFilter, ClaimSort, number?]> = [
    // Every claim, the padding rows above included: many chunks.
    ['sort=-stated_at', {}, '-stated_at'],
    ['sort=stated_at&limit=2500', {}, 'stated_at', 2500],
    ['tag=edge&sort=created_at', { tag: ['edge'] }, 'created_at'],
    ['tag=edge&sort=-created_at&limit=5', { tag: ['edge'] }, '-created_at', 5],
    ['party=alpha&sort=stated_at', { party: 'alpha' }, 'stated_at'],
    ['status=disputed&tag=edge&sort=-stated_at', { status: 'disputed', tag: ['edge'] }, '-stated_at'],
    ['tag=no-such-tag&sort=stated_at', { tag: ['no-such-tag'] }, 'stated_at'],
  ]
  for (const [query, filter, sort, limit] of cases) {
    const expected = await encodedExports(filter, sort, limit)
    for (const format of ['csv', 'ndjson'] as const) {
      const url = `/v1/claims?format=${format}&${query}`
      const response = await getText(url)
      t.equal(response.status, 200, url)
      t.ok(response.raw === expected[format], url)
      if (response.raw !== expected[format]) {
        const lines = response.raw.split('\n')
        const line = expected[format].split('\n').findIndex((text, i) => text !== lines[i])
        t.equal(lines[line], expected[format].split('\n')[line], `${url}: the first line that differs`)
      }
    }
  }
  const edges = csvRows((await getText('/v1/claims?format=csv&tag=edge&sort=stated_at')).raw)
  t.equal(edges.length, 7, 'the edge cases are there to compare')
  t.match(
    edges.find((row) => row.id === formula.id),
    {
      text: "'=1+2",
      stated_at: '2020-03-01T08:34:56.789Z',
      location_lat: '0.00001',
      location_lon: '-1e-7',
      response_time_seconds: '2',
      disputed_aspects: 'cause;whole',
      verdicts: 'checker-two:false;checker-one:false',
    },
  )
})
