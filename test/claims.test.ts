import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'
import { countRows } from './helpers/test-database.js'
import type { Claim, ClaimVersion, CountedPage, Page, Party, Problem } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)
const writeKey = { authorization: `Bearer ${keys.write}` }

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'

/** `in:field` of every error a problem names, sorted. */
const fieldsOf = (body: Problem | undefined) => (body?.errors ?? []).map((e) => `${e.in}:${e.field}`).sort()

async function createParty(slug: string, extra: Record<string, string> = {}): Promise<Party> {
  const response = await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'state', ...extra })
  if (response.status !== 201) throw new Error(`creating party ${slug}: ${response.status} ${response.raw}`)
  return response.body
}

async function createClaim(body: Record<string, unknown>): Promise<Claim> {
  const response = await call(app, 'POST', '/v1/claims', body)
  if (response.status !== 201) throw new Error(`creating a claim: ${response.status} ${response.raw}`)
  return response.body
}

/** The ids of one page of the claim list (asserting it is a 200). */
async function listIds(url: string): Promise<string[]> {
  const response = await call(app, 'GET', url)
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${response.raw}`)
  return (response.body as Page<Claim>).data.map((claim) => claim.id)
}

/** The versions stored for a claim, straight from the database. */
async function storedVersions(claimId: string): Promise<number[]> {
  const rows = await database.db
    .selectFrom('claim_versions')
    .select('version')
    .where('claim_id', '=', claimId)
    .orderBy('version')
    .execute()
  return rows.map((row) => row.version)
}

const cursorOf = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url')

/** PostgreSQL's order for uuids is the order of their lower-case text. */
const byKeyThenId = (key: (claim: Claim) => string, descending: boolean) => (a: Claim, b: Claim) => {
  const order = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  return descending ? -order : order
}

t.test('a claim is created naming its party by slug or by id, and read back', async (t) => {
  const party = await createParty('az-defence-ministry', { kind: 'military', country: 'AZ' })
  const body = {
    party: 'az-defence-ministry',
    text: 'Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan oil pipeline.',
    quote: 'The enemy fired a missile at the pipeline near Yevlakh.',
    stated_at: '2020-10-06T09:30:00+04:00',
    event_at: '2020-10-06T02:00:00Z',
    location: { name: 'Yevlakh', lat: 40.6183, lon: 47.15 },
    language: 'en',
    tags: ['pipeline', 'missile'],
    sources: [
      {
        url: 'https://www.reuters.com/article/1',
        publisher: 'Reuters',
        title: 'Pipeline targeted',
        published_at: '2020-10-06T14:00:00+04:00',
      },
      { url: 'http://mod.gov.az/en/news/1' },
    ],
  }
  const created = await call(app, 'POST', '/v1/claims', body)
  t.equal(created.status, 201)
  const claim: Claim = created.body
  t.match(claim.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  t.same(claim.party, { id: party.id, slug: 'az-defence-ministry', name: 'az-defence-ministry' })
  t.equal(claim.text, body.text)
  t.equal(claim.quote, body.quote)
  t.equal(claim.stated_at, '2020-10-06T05:30:00.000Z', 'stated_at is normalised to UTC')
  t.equal(claim.event_at, '2020-10-06T02:00:00.000Z')
  t.same(claim.location, { name: 'Yevlakh', lat: 40.6183, lon: 47.15 })
  t.equal(claim.language, 'en')
  t.same(claim.tags, ['pipeline', 'missile'])
  t.same(
    claim.sources,
    [{ ...body.sources[0], published_at: '2020-10-06T10:00:00.000Z' }, body.sources[1]],
    'a source keeps its fields, its published_at normalised to UTC',
  )
  t.equal(claim.status, 'unchallenged')
  t.equal(claim.rebuttal_count, 0)
  t.equal(claim.support_count, 0)
  t.equal(claim.last_response_at, null)
  t.equal(claim.version, 1)
  t.match(claim.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(claim.updated_at, claim.created_at)
  t.equal(created.headers.location, `/v1/claims/${claim.id}`)
  t.match(created.headers.etag, /^"[\w-]+"$/)

  const read = await call(app, 'GET', `/v1/claims/${claim.id}`)
  t.equal(read.status, 200)
  t.same(read.body, claim)
  t.equal(read.headers.etag, created.headers.etag, 'the same representation has the same tag')

  // Named by id, with only the required fields: the optional ones get their defaults.
  const minimal = await call(app, 'POST', '/v1/claims', {
    party: party.id,
    text: 'A short claim.',
    stated_at: '2020-10-07T00:00:00Z',
  })
  t.equal(minimal.status, 201)
  t.match(minimal.body, {
    party: { id: party.id, slug: 'az-defence-ministry' },
    quote: null,
    event_at: null,
    location: null,
    language: 'en',
    tags: [],
    sources: [],
    status: 'unchallenged',
    version: 1,
  })
  t.not(minimal.headers.etag, created.headers.etag)

  // A location may be a name alone.
  const named = await createClaim({
    party: party.id,
    text: 'Named place.',
    stated_at: '2020-10-07T00:00:00Z',
    location: { name: 'Ganja' },
  })
  t.same(named.location, { name: 'Ganja', lat: null, lon: null })

  t.same(await storedVersions(claim.id), [1], 'creating a claim records its first version')
})

t.test('an unknown party is a 422 naming the field, and stores nothing', async (t) => {
  const claimsBefore = await countRows(database, 'claims')
  const versionsBefore = await countRows(database, 'claim_versions')

  const bySlug = await call(app, 'POST', '/v1/claims', {
    party: 'atlantis',
    text: 'Something.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  t.equal(bySlug.status, 422)
  t.equal(bySlug.headers['content-type'], PROBLEM_TYPE)
  t.match(bySlug.body, { status: 422, code: 'unprocessable-entity', errors: [{ in: 'body', field: 'party' }] })
  t.same(fieldsOf(bySlug.body), ['body:party'])

  const byId = await call(app, 'POST', '/v1/claims', {
    party: randomUUID(),
    text: 'Something.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  t.equal(byId.status, 422)
  t.same(fieldsOf(byId.body), ['body:party'])

  // A deleted party can no longer be named.
  await createParty('short-lived')
  t.equal((await call(app, 'DELETE', '/v1/parties/short-lived')).status, 204)
  const deleted = await call(app, 'POST', '/v1/claims', {
    party: 'short-lived',
    text: 'Something.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  t.equal(deleted.status, 422)

  t.equal(await countRows(database, 'claims'), claimsBefore)
  t.equal(await countRows(database, 'claim_versions'), versionsBefore)
})

t.test('bad claim bodies are 400s naming each field: nothing is coerced, nothing stored', async (t) => {
  await createParty('validation-party')
  const valid = { party: 'validation-party', text: 'A valid claim.', stated_at: '2020-10-06T00:00:00Z' }
  const claimsBefore = await countRows(database, 'claims')

  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['a number for text', { ...valid, text: 123 }, ['text']],
    ['an empty text', { ...valid, text: '' }, ['text']],
    ['a missing text', { party: valid.party, stated_at: valid.stated_at }, ['text']],
    ['a string for tags', { ...valid, tags: 'a' }, ['tags']],
    ['a number for stated_at', { ...valid, stated_at: 20201006 }, ['stated_at']],
    ['a number for party', { ...valid, party: 42 }, ['party']],
    ['a string for lat', { ...valid, location: { name: 'Ganja', lat: '40.68', lon: 46.36 } }, ['location.lat']],
    ['an unknown field', { ...valid, colour: 'red' }, ['colour']],
    [
      'an unknown field in a source',
      { ...valid, sources: [{ url: 'https://example.org/', author: 'x' }] },
      ['sources[0].author'],
    ],
    ['an impossible date', { ...valid, stated_at: '2020-13-45T00:00:00Z' }, ['stated_at']],
    ['a day the calendar lacks', { ...valid, event_at: '2020-02-30' }, ['event_at']],
    ['lat without lon', { ...valid, location: { name: 'Ganja', lat: 40.68 } }, ['location.lon']],
    ['lon without lat', { ...valid, location: { name: 'Ganja', lon: 46.36 } }, ['location.lat']],
    ['a latitude out of range', { ...valid, location: { name: 'Ganja', lat: 91, lon: 46.36 } }, ['location.lat']],
    ['a javascript: source url', { ...valid, sources: [{ url: 'javascript:alert(1)' }] }, ['sources[0].url']],
    [
      'a bad url in the second source',
      { ...valid, sources: [{ url: 'https://example.org/' }, { url: 'ftp://example.org/' }] },
      ['sources[1].url'],
    ],
    ['duplicate tags', { ...valid, tags: ['pipeline', 'pipeline'] }, ['tags']],
    ['a tag that is not a slug', { ...valid, tags: ['Pipeline Attack'] }, ['tags[0]']],
    ['a language that is not a tag', { ...valid, language: 'english!' }, ['language']],
  ]
  for (const [name, body, fields] of cases) {
    const response = await call(app, 'POST', '/v1/claims', body)
    t.equal(response.status, 400, `${name}: 400`)
    t.equal(response.headers['content-type'], PROBLEM_TYPE, `${name}: a problem`)
    t.equal(response.body?.code, 'validation-failed', `${name}: validation-failed`)
    t.same(
      fieldsOf(response.body),
      fields.map((field) => `body:${field}`),
      `${name}: names ${fields.join(', ')}`,
    )
  }

  const unknown = await call(app, 'POST', '/v1/claims', { ...valid, colour: 'red' })
  t.match(unknown.body.errors, [{ field: 'colour', message: 'is not a known field' }])

  const several = await call(app, 'POST', '/v1/claims', {
    party: 'validation-party',
    text: 7,
    stated_at: 'yesterday',
    tags: 'a',
  })
  t.equal(several.status, 400)
  t.same(fieldsOf(several.body), ['body:stated_at', 'body:tags', 'body:text'], 'every bad field is named at once')

  const notJson = await app.inject({
    method: 'POST',
    url: '/v1/claims',
    headers: { ...writeKey, 'content-type': 'application/json' },
    payload: '{"party": "validation-party",',
  })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().code, 'malformed-request')

  t.equal(await countRows(database, 'claims'), claimsBefore, 'no bad body stored a claim')
})

t.test('a malformed id in the path is a 400, an unknown one a 404', async (t) => {
  const malformed = await call(app, 'GET', '/v1/claims/not-a-uuid')
  t.equal(malformed.status, 400)
  t.equal(malformed.headers['content-type'], PROBLEM_TYPE)
  t.match(malformed.body, { code: 'validation-failed', errors: [{ in: 'path', field: 'id' }] })
  t.same(fieldsOf(malformed.body), ['path:id'])
  for (const method of ['PATCH', 'DELETE'] as const) {
    const response = await call(app, method, '/v1/claims/not-a-uuid', method === 'PATCH' ? { text: 'x' } : undefined)
    t.equal(response.status, 400, `${method} of a malformed id`)
  }
  t.equal((await call(app, 'GET', '/v1/claims/not-a-uuid/history')).status, 400)

  const id = randomUUID()
  const unknown = await call(app, 'GET', `/v1/claims/${id}`)
  t.equal(unknown.status, 404)
  t.equal(unknown.headers['content-type'], PROBLEM_TYPE)
  t.match(unknown.body, { status: 404, code: 'not-found', type: 'urn:counterclaim:problem:not-found' })
  t.match(unknown.body.detail, id)
  t.equal((await call(app, 'PATCH', `/v1/claims/${id}`, { text: 'x' })).status, 404)
  t.equal((await call(app, 'DELETE', `/v1/claims/${id}`)).status, 404)
  t.equal((await call(app, 'GET', `/v1/claims/${id}/history`)).status, 404)
})

t.test('the list filters by party, side, tags, language and stated time', async (t) => {
  const state = await createParty('ft-state')
  const ministry = await createParty('ft-ministry', { kind: 'military', side: 'ft-state' })
  await createParty('ft-agency', { kind: 'media', side: 'ft-state' })
  await createParty('ft-other')

  const a = await createClaim({
    party: 'ft-ministry',
    text: 'Claim A.',
    stated_at: '2020-10-01T00:00:00Z',
    tags: ['ft', 'ft-pipeline', 'ft-missile'],
    language: 'en',
  })
  const b = await createClaim({
    party: 'ft-agency',
    text: 'Claim B.',
    stated_at: '2020-10-05T00:00:00Z',
    tags: ['ft', 'ft-pipeline'],
    language: 'hy',
  })
  const c = await createClaim({
    party: 'ft-other',
    text: 'Claim C.',
    stated_at: '2020-10-10T00:00:00Z',
    tags: ['ft-drone', 'ft', 'ft-missile', 'ft-pipeline'],
    language: 'az-Latn',
  })
  const d = await createClaim({
    party: 'ft-state',
    text: 'Claim D.',
    stated_at: '2020-10-15T00:00:00Z',
    tags: ['ft', 'ft-drone'],
    language: 'en',
  })

  t.same(await listIds('/v1/claims?tag=ft'), [d.id, c.id, b.id, a.id], 'newest stated first by default')

  t.same(await listIds('/v1/claims?party=ft-ministry'), [a.id], 'party by slug')
  t.same(await listIds(`/v1/claims?party=${ministry.id}`), [a.id], 'party by id')
  t.same(await listIds('/v1/claims?party=ft-state'), [d.id])

  t.same(await listIds('/v1/claims?side=ft-state'), [d.id, b.id, a.id], 'side: the party and those speaking for it')
  t.same(await listIds(`/v1/claims?side=${state.id}`), [d.id, b.id, a.id], 'side by id')
  t.same(await listIds('/v1/claims?side=ft-other'), [c.id], 'nobody speaks for ft-other: its own claims only')
  t.same(await listIds('/v1/claims?side=ft-ministry'), [a.id], 'a party that has a side is still its own side')

  // A chain: the ministry's press office speaks for the ministry, which speaks for the state.
  await createParty('ft-press-office', { kind: 'official', side: 'ft-ministry' })
  const e = await createClaim({ party: 'ft-press-office', text: 'Claim E.', stated_at: '2020-10-02T00:00:00Z' })
  t.same(await listIds('/v1/claims?side=ft-state'), [d.id, b.id, e.id, a.id], 'a side takes in chains of speakers')
  t.same(await listIds('/v1/claims?side=ft-ministry'), [e.id, a.id])

  t.same(await listIds('/v1/claims?tag=ft-pipeline'), [c.id, b.id, a.id])
  t.same(await listIds('/v1/claims?tag=ft-pipeline&tag=ft-missile'), [c.id, a.id], 'repeated tags: every one')
  t.same(await listIds('/v1/claims?tag=ft-missile&tag=ft-pipeline&tag=ft-drone'), [c.id])
  t.same(await listIds('/v1/claims?tag=ft-missile&tag=ft-nothing'), [])

  t.same(await listIds('/v1/claims?tag=ft&language=hy'), [b.id])
  t.same(await listIds('/v1/claims?tag=ft&language=az-latn'), [c.id], 'language compares case-insensitively')
  t.same(await listIds('/v1/claims?tag=ft&language=en'), [d.id, a.id])

  t.same(
    await listIds('/v1/claims?tag=ft&stated_after=2020-10-05T00:00:00Z'),
    [d.id, c.id, b.id],
    'stated_after is inclusive',
  )
  t.same(
    await listIds('/v1/claims?tag=ft&stated_before=2020-10-10T00:00:00Z'),
    [b.id, a.id],
    'stated_before is exclusive',
  )
  t.same(await listIds('/v1/claims?tag=ft&stated_after=2020-10-02T00:00:00Z&stated_before=2020-10-12T00:00:00Z'), [
    c.id,
    b.id,
  ])
  t.same(await listIds('/v1/claims?side=ft-state&tag=ft-missile'), [a.id], 'filters combine')

  const unknownParty = await call(app, 'GET', '/v1/claims?party=atlantis')
  t.equal(unknownParty.status, 422)
  t.equal(unknownParty.headers['content-type'], PROBLEM_TYPE)
  t.same(fieldsOf(unknownParty.body), ['query:party'])
  const unknownPartyId = await call(app, 'GET', `/v1/claims?party=${randomUUID()}`)
  t.equal(unknownPartyId.status, 422)
  const unknownSide = await call(app, 'GET', '/v1/claims?side=atlantis')
  t.equal(unknownSide.status, 422)
  t.same(fieldsOf(unknownSide.body), ['query:side'])

  const badDate = await call(app, 'GET', '/v1/claims?stated_after=2020-13-45T00:00:00Z')
  t.equal(badDate.status, 400)
  t.same(fieldsOf(badDate.body), ['query:stated_after'])
  const typo = await call(app, 'GET', '/v1/claims?tags=ft')
  t.equal(typo.status, 400)
  t.match(typo.body.errors, [{ in: 'query', field: 'tags', message: 'is not a known field' }])
})

t.test('q searches text and quote, a match in the text ranking first', async (t) => {
  await createParty('search-party')
  const inText = await createClaim({
    party: 'search-party',
    text: 'Drones struck the pipeline terminal near Ganja.',
    stated_at: '2020-10-01T00:00:00Z',
  })
  const inQuote = await createClaim({
    party: 'search-party',
    text: 'The ministry issued a statement.',
    quote: 'We saw drones flying over Ganja last night.',
    stated_at: '2020-10-02T00:00:00Z',
  })
  await createClaim({
    party: 'search-party',
    text: 'A claim about the weather.',
    quote: 'Rain fell.',
    stated_at: '2020-10-03T00:00:00Z',
  })

  const search = await call(app, 'GET', '/v1/claims?party=search-party&q=ganja')
  t.equal(search.status, 200)
  t.same(
    search.body.data.map((c: Claim) => c.id),
    [inText.id, inQuote.id],
    'by relevance when q is given',
  )
  t.same(await listIds('/v1/claims?party=search-party&q=drone%20ganja'), [inText.id, inQuote.id], 'stemmed, every word')
  t.same(await listIds('/v1/claims?party=search-party&q=ganja&sort=relevance'), [inText.id, inQuote.id])
  t.same(
    await listIds('/v1/claims?party=search-party&q=ganja&sort=-stated_at'),
    [inQuote.id, inText.id],
    'another sort wins',
  )
  t.same(await listIds('/v1/claims?party=search-party&q=%22flying%20over%20ganja%22'), [inQuote.id], 'a phrase')
  t.same(await listIds('/v1/claims?party=search-party&q=ganja%20-terminal'), [inQuote.id], 'a negated word')
  t.same(await listIds('/v1/claims?party=search-party&q=tbilisi'), [])

  // Relevance pages too: its cursor carries the rank.
  const first = await call(app, 'GET', '/v1/claims?party=search-party&q=ganja&limit=1')
  t.same(
    first.body.data.map((c: Claim) => c.id),
    [inText.id],
  )
  t.type(first.body.next_cursor, 'string')
  const second = await call(
    app,
    'GET',
    `/v1/claims?party=search-party&q=ganja&limit=1&cursor=${first.body.next_cursor}`,
  )
  t.equal(second.status, 200)
  t.same(
    second.body.data.map((c: Claim) => c.id),
    [inQuote.id],
  )
  t.equal(second.body.next_cursor, null)

  const noQuery = await call(app, 'GET', '/v1/claims?sort=relevance')
  t.equal(noQuery.status, 400)
  t.equal(noQuery.body.code, 'validation-failed')
  t.same(fieldsOf(noQuery.body), ['query:sort'])
  const badSort = await call(app, 'GET', '/v1/claims?sort=text')
  t.equal(badSort.status, 400)
  t.same(fieldsOf(badSort.body), ['query:sort'])
  t.match(badSort.body.errors[0].message, /one of: -stated_at, stated_at/)
  const emptyQuery = await call(app, 'GET', '/v1/claims?q=')
  t.equal(emptyQuery.status, 400)
  t.same(fieldsOf(emptyQuery.body), ['query:q'])
})

t.test('status filters on the derived dispute state', async (t) => {
  await createParty('status-party')
  const quiet = await createClaim({
    party: 'status-party',
    text: 'Nobody answered this.',
    stated_at: '2020-10-01T00:00:00Z',
  })
  const answered = await createClaim({
    party: 'status-party',
    text: 'Somebody rebutted this.',
    stated_at: '2020-10-02T00:00:00Z',
  })
  t.same(await listIds('/v1/claims?party=status-party&status=unchallenged'), [answered.id, quiet.id])
  t.same(await listIds('/v1/claims?party=status-party&status=disputed'), [])

  // Rebuttals are not part of this API yet: set the derived count the way a link would.
  await database.db.updateTable('claims').set({ rebuttal_count: 1 }).where('id', '=', answered.id).execute()
  const read = await call(app, 'GET', `/v1/claims/${answered.id}`)
  t.match(read.body, { status: 'disputed', rebuttal_count: 1 })

  t.same(await listIds('/v1/claims?party=status-party&status=unchallenged'), [quiet.id])
  t.same(await listIds('/v1/claims?party=status-party&status=disputed'), [answered.id])
  t.same(await listIds('/v1/claims?party=status-party'), [answered.id, quiet.id])

  const bad = await call(app, 'GET', '/v1/claims?status=refuted')
  t.equal(bad.status, 400)
  t.same(fieldsOf(bad.body), ['query:status'])
})

t.test('each sort orders the list', async (t) => {
  await createParty('sort-party')
  // Created in this order, stated in another. Each created_at is then set a minute apart, so that the order of
  // creation does not depend on the clock ticking between two requests.
  const stated = ['2020-10-03T00:00:00Z', '2020-10-01T00:00:00Z', '2020-10-04T00:00:00Z', '2020-10-02T00:00:00Z']
  const created: Claim[] = []
  for (const [i, at] of stated.entries()) {
    created.push(await createClaim({ party: 'sort-party', text: `Sorted claim ${i}.`, stated_at: at }))
  }
  for (const [i, claim] of created.entries()) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()
    await sql`UPDATE claims SET created_at = ${at}::timestamptz WHERE id = ${claim.id}::uuid`.execute(database.db)
  }
  const [c0, c1, c2, c3] = created.map((c) => c.id)

  t.same(await listIds('/v1/claims?party=sort-party&sort=stated_at'), [c1, c3, c0, c2])
  t.same(await listIds('/v1/claims?party=sort-party&sort=-stated_at'), [c2, c0, c3, c1])
  t.same(await listIds('/v1/claims?party=sort-party'), [c2, c0, c3, c1], '-stated_at is the default')
  t.same(await listIds('/v1/claims?party=sort-party&sort=created_at'), [c0, c1, c2, c3])
  t.same(await listIds('/v1/claims?party=sort-party&sort=-created_at'), [c3, c2, c1, c0])
})

t.test('the list is keyset-paginated, ties included, with next_cursor and a Link header', async (t) => {
  await createParty('page-party')
  const claims: Claim[] = []
  for (let i = 0; i < 12; i++) {
    // Groups of three share a stated_at, so the id breaks the ties.
    const day = String(1 + Math.floor(i / 3)).padStart(2, '0')
    claims.push(
      await createClaim({ party: 'page-party', text: `Paged claim ${i}.`, stated_at: `2020-11-${day}T12:00:00Z` }),
    )
  }

  const walk = async (start: string, follow: 'link' | 'cursor') => {
    const seen: string[] = []
    const sizes: number[] = []
    let url: string | undefined = start
    for (let pages = 0; url !== undefined && pages < 10; pages++) {
      const page = await call(app, 'GET', url)
      t.equal(page.status, 200, `GET ${url}`)
      const body = page.body as CountedPage<Claim>
      seen.push(...body.data.map((c) => c.id))
      sizes.push(body.data.length)
      const link = page.headers.link as string | undefined
      if (body.next_cursor === null) {
        t.notMatch(link ?? '', /rel="next"/, 'no next Link on the last page')
        t.equal(link === undefined, body.prev_cursor === null, 'a prev Link when there is a page before')
        url = undefined
      } else {
        t.match(link, /^<\/v1\/claims\?.*cursor=[\w-]+.*>; rel="next"(, <[^>]+>; rel="prev")?$/)
        const next = link!.slice(1, link!.indexOf('>'))
        const params = new URL(next, 'http://localhost').searchParams
        t.equal(params.get('cursor'), body.next_cursor, 'the Link carries next_cursor')
        t.equal(params.get('party'), 'page-party', 'the Link keeps the filters')
        t.equal(params.get('limit'), '5')
        url = follow === 'link' ? next : `${start}&cursor=${body.next_cursor}`
      }
    }
    return { seen, sizes }
  }

  const descending = await walk('/v1/claims?party=page-party&limit=5', 'link')
  t.same(descending.sizes, [5, 5, 2])
  t.same(
    descending.seen,
    [...claims].sort(byKeyThenId((c) => c.stated_at, true)).map((c) => c.id),
  )
  t.equal(new Set(descending.seen).size, 12, 'every claim exactly once')

  const ascending = await walk('/v1/claims?party=page-party&limit=5&sort=stated_at', 'cursor')
  t.same(
    ascending.seen,
    [...claims].sort(byKeyThenId((c) => c.stated_at, false)).map((c) => c.id),
  )

  const byCreation = await walk('/v1/claims?party=page-party&limit=5&sort=-created_at', 'link')
  t.same(
    byCreation.seen,
    [...claims].sort(byKeyThenId((c) => c.created_at, true)).map((c) => c.id),
  )
  t.equal(new Set(byCreation.seen).size, 12)

  const exact = await call(app, 'GET', '/v1/claims?party=page-party&limit=12')
  t.equal(exact.body.data.length, 12)
  t.equal(exact.body.next_cursor, null, 'a page that holds the rest has no next cursor')
  t.equal(exact.headers.link, undefined)

  const tooMany = await call(app, 'GET', '/v1/claims?limit=201')
  t.equal(tooMany.status, 400)
  t.same(fieldsOf(tooMany.body), ['query:limit'])
  const zero = await call(app, 'GET', '/v1/claims?limit=0')
  t.equal(zero.status, 400)
  // Found by fuzzing: these read as an infinite number, which passed as an integer in range and reached the
  // database (a 422 for its LIMIT).
  for (const limit of ['Infinity', '-Infinity', '1e400']) {
    const infinite = await call(app, 'GET', `/v1/claims?limit=${limit}`)
    t.equal(infinite.status, 400, `limit=${limit}`)
    t.same(fieldsOf(infinite.body), ['query:limit'])
  }
})

t.test('a cursor from another sort, a garbage one or a tampered one is a 400 naming cursor', async (t) => {
  await createParty('cursor-party')
  for (let i = 0; i < 3; i++) {
    await createClaim({ party: 'cursor-party', text: `Cursor claim ${i}.`, stated_at: `2020-12-0${i + 1}T00:00:00Z` })
  }
  const first = await call(app, 'GET', '/v1/claims?party=cursor-party&limit=1')
  const cursor = first.body.next_cursor as string
  t.type(cursor, 'string')
  t.equal((await call(app, 'GET', `/v1/claims?party=cursor-party&limit=1&cursor=${cursor}`)).status, 200)

  const otherSort = await call(app, 'GET', `/v1/claims?party=cursor-party&limit=1&sort=stated_at&cursor=${cursor}`)
  t.equal(otherSort.status, 400)
  t.same(fieldsOf(otherSort.body), ['query:cursor'])
  t.match(otherSort.body.errors[0].message, /sort/)
  const createdSort = await call(app, 'GET', `/v1/claims?party=cursor-party&limit=1&sort=-created_at&cursor=${cursor}`)
  t.equal(createdSort.status, 400)
  t.same(fieldsOf(createdSort.body), ['query:cursor'])

  const id = randomUUID()
  const bad: Array<[string, string]> = [
    ['garbage', 'not-a-cursor'],
    ['base64url of no JSON', Buffer.from('{{{').toString('base64url')],
    ['a JSON object', Buffer.from('{"sort":"-stated_at"}').toString('base64url')],
    ['a word for the timestamp', cursorOf(['-stated_at', 'not-a-date', id])],
    ['a number for the timestamp', cursorOf(['-stated_at', 20201201, id])],
    ['a number that JavaScript reads as a date', cursorOf(['-stated_at', '1', id])],
    ['words that JavaScript reads as a date', cursorOf(['-stated_at', 'hello 1', id])],
    ['a malformed id', cursorOf(['-stated_at', '2020-12-01T00:00:00.000Z', 'not-a-uuid'])],
    ['an extra part', cursorOf(['-stated_at', '2020-12-01T00:00:00.000Z', id, 'extra'])],
    ['a missing id', cursorOf(['-stated_at', '2020-12-01T00:00:00.000Z'])],
    ['a string for a rank', cursorOf(['relevance', 'high', id])],
    ['a rank too large for a real', cursorOf(['relevance', 1e300, id])],
    ['a rank too small for a real', cursorOf(['relevance', 1e-50, id])],
    ['a timestamp in year 0', cursorOf(['-stated_at', '0000-12-31T23:00:00.000Z', id])],
  ]
  for (const [name, value] of bad) {
    const query = name.includes('rank') ? 'q=claim&sort=relevance&' : ''
    const response = await call(app, 'GET', `/v1/claims?${query}party=cursor-party&limit=1&cursor=${value}`)
    t.equal(response.status, 400, `${name}: 400`)
    t.equal(response.body?.code, 'validation-failed', `${name}: validation-failed`)
    t.same(fieldsOf(response.body), ['query:cursor'], `${name}: names cursor`)
  }

  // A well-formed cursor the API could have issued is accepted even if no row has that key.
  const forged = cursorOf(['-stated_at', '2020-12-02T12:00:00.000Z', id])
  t.same(
    (await call(app, 'GET', `/v1/claims?party=cursor-party&cursor=${forged}`)).body.data.map((c: Claim) => c.text),
    ['Cursor claim 1.', 'Cursor claim 0.'],
  )
})

t.test('PATCH changes given fields, clears nulls, and bumps the version and ETag', async (t) => {
  await createParty('patch-party')
  const created = await call(app, 'POST', '/v1/claims', {
    party: 'patch-party',
    text: 'Original wording.',
    quote: 'An original quote.',
    stated_at: '2020-10-06T00:00:00Z',
    event_at: '2020-10-05T00:00:00Z',
    location: { name: 'Tartar', lat: 40.34, lon: 46.93 },
    tags: ['shelling'],
    sources: [{ url: 'https://example.org/a' }],
  })
  const claim: Claim = created.body
  const etag = created.headers.etag as string

  const patched = await call(app, 'PATCH', `/v1/claims/${claim.id}`, {
    text: 'Corrected wording.',
    tags: ['shelling', 'civilians'],
    language: 'hy',
  })
  t.equal(patched.status, 200)
  t.match(patched.body, {
    id: claim.id,
    party: claim.party,
    text: 'Corrected wording.',
    quote: 'An original quote.',
    stated_at: claim.stated_at,
    event_at: claim.event_at,
    location: claim.location,
    language: 'hy',
    tags: ['shelling', 'civilians'],
    sources: claim.sources,
    version: 2,
    created_at: claim.created_at,
  })
  t.ok(patched.body.updated_at >= claim.updated_at)
  t.match(patched.headers.etag, /^"[\w-]+"$/)
  t.not(patched.headers.etag, etag, 'a new version has a new tag')
  t.equal((await call(app, 'GET', `/v1/claims/${claim.id}`)).headers.etag, patched.headers.etag)

  const cleared = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { quote: null, event_at: null, location: null })
  t.equal(cleared.status, 200)
  t.match(cleared.body, { quote: null, event_at: null, location: null, text: 'Corrected wording.', version: 3 })
  const read = await call(app, 'GET', `/v1/claims/${claim.id}`)
  t.same(read.body, cleared.body, 'the cleared fields are stored')

  const moved = await call(app, 'PATCH', `/v1/claims/${claim.id}`, {
    stated_at: '2020-10-07T12:00:00+02:00',
    location: { name: 'Barda' },
    sources: [],
  })
  t.match(moved.body, {
    stated_at: '2020-10-07T10:00:00.000Z',
    location: { name: 'Barda', lat: null, lon: null },
    sources: [],
    version: 4,
  })
})

t.test('PATCH refuses the party, empty and bad bodies, and accepts merge-patch+json', async (t) => {
  await createParty('patch-rules')
  await createParty('patch-rules-other')
  const claim = await createClaim({ party: 'patch-rules', text: 'Before.', stated_at: '2020-10-06T00:00:00Z' })
  const url = `/v1/claims/${claim.id}`
  const versionsBefore = await countRows(database, 'claim_versions')

  const party = await call(app, 'PATCH', url, { party: 'patch-rules-other' })
  t.equal(party.status, 400)
  t.match(party.body.errors, [{ in: 'body', field: 'party', message: 'is not a known field' }])
  const empty = await call(app, 'PATCH', url, {})
  t.equal(empty.status, 400)
  t.equal(empty.body.code, 'validation-failed')
  const nullText = await call(app, 'PATCH', url, { text: null })
  t.equal(nullText.status, 400, 'text cannot be cleared')
  t.same(fieldsOf(nullText.body), ['body:text'])
  const numberText = await call(app, 'PATCH', url, { text: 5 })
  t.equal(numberText.status, 400)
  const nullTags = await call(app, 'PATCH', url, { tags: null })
  t.equal(nullTags.status, 400)
  t.same(fieldsOf(nullTags.body), ['body:tags'])
  const halfLocation = await call(app, 'PATCH', url, { location: { name: 'Ganja', lat: 40.68 } })
  t.equal(halfLocation.status, 400, 'lat without lon')
  t.same(fieldsOf(halfLocation.body), ['body:location.lon'])

  const unchanged = await call(app, 'GET', url)
  t.match(unchanged.body, { text: 'Before.', version: 1, party: { slug: 'patch-rules' } })
  t.equal(await countRows(database, 'claim_versions'), versionsBefore, 'no refused PATCH made a version')

  const merge = await call(
    app,
    'PATCH',
    url,
    { text: 'After.', quote: 'Said so.' },
    { 'content-type': 'application/merge-patch+json' },
  )
  t.equal(merge.status, 200)
  t.match(merge.body, { text: 'After.', quote: 'Said so.', version: 2 })
  const mergeClear = await call(app, 'PATCH', url, { quote: null }, { 'content-type': 'application/merge-patch+json' })
  t.match(mergeClear.body, { quote: null, version: 3 })

  const xml = await app.inject({
    method: 'PATCH',
    url,
    headers: { ...writeKey, 'content-type': 'application/xml' },
    payload: '<text>x</text>',
  })
  t.equal(xml.statusCode, 415)
  t.equal(xml.json().code, 'unsupported-media-type')
})

t.test('history lists every version newest first, and pages', async (t) => {
  await createParty('history-party')
  const claim = await createClaim({
    party: 'history-party',
    text: 'First wording.',
    stated_at: '2020-10-06T00:00:00Z',
    tags: ['one'],
  })
  t.equal((await call(app, 'PATCH', `/v1/claims/${claim.id}`, { text: 'Second wording.' })).status, 200)
  t.equal(
    (await call(app, 'PATCH', `/v1/claims/${claim.id}`, { text: 'Third wording.', tags: ['one', 'three'] })).status,
    200,
  )

  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.equal(history.status, 200)
  const versions = (history.body as Page<ClaimVersion>).data
  t.same(
    versions.map((v) => v.version),
    [3, 2, 1],
  )
  t.same(
    versions.map((v) => v.claim.text),
    ['Third wording.', 'Second wording.', 'First wording.'],
  )
  t.same(
    versions.map((v) => v.claim.tags),
    [['one', 'three'], ['one'], ['one']],
  )
  t.same(versions[2]!.claim, {
    text: 'First wording.',
    quote: null,
    quote_language: null,
    stated_at: claim.stated_at,
    stated_at_precision: 'second',
    event_at: null,
    event_at_precision: null,
    location: null,
    language: 'en',
    certainty: null,
    tags: ['one'],
    sources: [],
    figures: [],
    event: null,
    relayed_by: [],
  })
  t.ok(versions.every((v) => /^\d{4}-\d\d-\d\dT.*Z$/.test(v.recorded_at)))
  t.equal(history.body.next_cursor, null)
  t.same(await storedVersions(claim.id), [1, 2, 3], 'each version is stored')

  const seen: number[] = []
  let url: string | undefined = `/v1/claims/${claim.id}/history?limit=1`
  for (let pages = 0; url !== undefined && pages < 5; pages++) {
    const page = await call(app, 'GET', url)
    t.equal(page.status, 200)
    t.equal(page.body.data.length, 1)
    seen.push(...(page.body as Page<ClaimVersion>).data.map((v) => v.version))
    const link = page.headers.link as string | undefined
    if (page.body.next_cursor === null) {
      t.equal(link, undefined)
      url = undefined
    } else {
      t.match(link, /^<\/v1\/claims\/[\w-]+\/history\?.*cursor=.*>; rel="next"$/)
      url = link!.slice(1, link!.indexOf('>'))
    }
  }
  t.same(seen, [3, 2, 1], 'each version once, newest first')

  for (const [name, key] of [
    ['a fraction', 1.5],
    ['a string', '2'],
    ['a version too large for an integer', 1e20],
  ] as const) {
    const tampered = await call(app, 'GET', `/v1/claims/${claim.id}/history?cursor=${cursorOf(['version', key])}`)
    t.equal(tampered.status, 400, `a history cursor with ${name}: 400`)
    t.same(fieldsOf(tampered.body), ['query:cursor'], `a history cursor with ${name}: names cursor`)
  }

  const listCursor = cursorOf(['-stated_at', '2020-12-01T00:00:00.000Z', randomUUID()])
  const wrongCursor = await call(app, 'GET', `/v1/claims/${claim.id}/history?cursor=${listCursor}`)
  t.equal(wrongCursor.status, 400)
  t.same(fieldsOf(wrongCursor.body), ['query:cursor'])

  t.equal((await call(app, 'DELETE', `/v1/claims/${claim.id}`)).status, 204)
  const kept = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.equal(kept.status, 200, 'the history of a deleted claim stays readable')
  t.ok(kept.body.data[0].deleted, 'its newest entry is the deletion')
})

t.test('each version records the key that made it and the note it was made with', async (t) => {
  await createParty('authorship-party')
  const claim = await createClaim({
    party: 'authorship-party',
    text: 'At least 500 dead.',
    stated_at: '2023-10-17T20:00:00Z',
  })
  const admin = { authorization: `Bearer ${keys.admin}` }
  const fixed = await call(
    app,
    'PATCH',
    `/v1/claims/${claim.id}`,
    { text: 'At least 500 people dead.', edit_note: 'Wording as the ministry published it.' },
    admin,
  )
  t.equal(fixed.status, 200)
  t.notOk('edit_note' in fixed.body, 'the note is not a field of the claim')
  t.equal((await call(app, 'PATCH', `/v1/claims/${claim.id}`, { tags: ['casualties'] })).status, 200)

  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.equal(history.status, 200)
  const versions = (history.body as Page<ClaimVersion>).data
  const names = versions.map((v) => v.recorded_by?.name)
  t.same(names, ['test writer', 'test admin', 'test writer'], 'the creating key, then each editing key')
  t.same(
    versions.map((v) => v.edit_note),
    [null, 'Wording as the ministry published it.', null],
  )
  t.match(versions[0]!.recorded_by, { id: /^[0-9a-f-]{36}$/ })
  t.equal(versions[0]!.recorded_by!.id, versions[2]!.recorded_by!.id)

  const noteOnly = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { edit_note: 'Checked against the source.' })
  t.equal(noteOnly.status, 200, 'a note alone records a version that changes nothing else')
  t.equal(noteOnly.body.version, 4)

  for (const [note, why] of [
    ['', 'an empty note'],
    ['x'.repeat(501), 'a note over 500 characters'],
    [42, 'a note that is not text'],
  ] as const) {
    const refused = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { text: 'Changed.', edit_note: note })
    t.equal(refused.status, 400, `${why}: 400`)
    t.same(fieldsOf(refused.body), ['body:edit_note'], `${why}: names edit_note`)
  }
  t.equal((await call(app, 'GET', `/v1/claims/${claim.id}`)).body.version, 4, 'a refused note changes nothing')

  await database.db
    .insertInto('claim_versions')
    .values({ claim_id: claim.id, version: 99, snapshot: JSON.stringify(versions[0]!.claim) })
    .execute()
  const old = await call(app, 'GET', `/v1/claims/${claim.id}/history?limit=1`)
  t.same([old.body.data[0].recorded_by, old.body.data[0].edit_note], [null, null], 'a version without a key reads null')
})

t.test('If-None-Match with the current tag is a 304 with no body', async (t) => {
  await createParty('etag-party')
  const created = await call(app, 'POST', '/v1/claims', {
    party: 'etag-party',
    text: 'Cached.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  const etag = created.headers.etag as string

  const fresh = await call(app, 'GET', `/v1/claims/${created.body.id}`, undefined, { 'if-none-match': etag })
  t.equal(fresh.status, 304)
  t.equal(fresh.raw, '')
  t.equal(fresh.headers.etag, etag)
  const weak = await call(app, 'GET', `/v1/claims/${created.body.id}`, undefined, { 'if-none-match': `W/${etag}` })
  t.equal(weak.status, 304, 'If-None-Match compares weakly')
  const listed = await call(app, 'GET', `/v1/claims/${created.body.id}`, undefined, {
    'if-none-match': `"other", ${etag}`,
  })
  t.equal(listed.status, 304)
  const other = await call(app, 'GET', `/v1/claims/${created.body.id}`, undefined, { 'if-none-match': '"other"' })
  t.equal(other.status, 200)
  t.equal(other.body.text, 'Cached.')

  await call(app, 'PATCH', `/v1/claims/${created.body.id}`, { text: 'Changed.' })
  const stale = await call(app, 'GET', `/v1/claims/${created.body.id}`, undefined, { 'if-none-match': etag })
  t.equal(stale.status, 200, 'an old tag is not current')
  t.equal(stale.body.text, 'Changed.')
})

t.test('20 concurrent PATCHes with the same If-Match: one wins, nineteen get 412', async (t) => {
  await createParty('race-party')
  const created = await call(app, 'POST', '/v1/claims', {
    party: 'race-party',
    text: 'Contested.',
    stated_at: '2020-10-06T00:00:00Z',
  })
  const id = created.body.id as string
  const etag = created.headers.etag as string

  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/claims/${id}`,
        headers: { ...writeKey, 'content-type': 'application/json', 'if-match': etag },
        payload: JSON.stringify({ text: `Edit number ${i}.` }),
      }),
    ),
  )
  const statuses = responses.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'exactly one 200')
  t.equal(statuses.filter((s) => s === 412).length, 19, 'nineteen 412s')
  for (const refused of responses.filter((r) => r.statusCode === 412)) {
    t.equal(refused.json().code, 'precondition-failed')
  }
  const winner = responses.find((r) => r.statusCode === 200)
  const winningText = winner?.json().text as string

  const read = await call(app, 'GET', `/v1/claims/${id}`)
  t.equal(read.body.version, 2)
  t.equal(read.body.text, winningText)
  t.equal(read.headers.etag, winner?.headers.etag)
  const history = await call(app, 'GET', `/v1/claims/${id}/history`)
  t.same(
    history.body.data.map((v: ClaimVersion) => v.version),
    [2, 1],
    'one version per successful edit',
  )
  t.same(await storedVersions(id), [1, 2])

  const current = await call(
    app,
    'PATCH',
    `/v1/claims/${id}`,
    { text: 'With the current tag.' },
    { 'if-match': read.headers.etag as string },
  )
  t.equal(current.status, 200)
  const star = await call(app, 'PATCH', `/v1/claims/${id}`, { text: 'Any tag.' }, { 'if-match': '*' })
  t.equal(star.status, 200)
  const weak = await call(
    app,
    'PATCH',
    `/v1/claims/${id}`,
    { text: 'Weak.' },
    { 'if-match': `W/${star.headers.etag as string}` },
  )
  t.equal(weak.status, 412, 'a weak tag never matches If-Match')
})

t.test('DELETE: a stale If-Match is a 412; then the claim is gone from every read', async (t) => {
  await createParty('delete-party')
  const created = await call(app, 'POST', '/v1/claims', {
    party: 'delete-party',
    text: 'Doomed.',
    stated_at: '2020-10-06T00:00:00Z',
    tags: ['doomed'],
  })
  const id = created.body.id as string
  const oldTag = created.headers.etag as string
  const edited = await call(app, 'PATCH', `/v1/claims/${id}`, { quote: 'Still here.' })

  const stale = await call(app, 'DELETE', `/v1/claims/${id}`, undefined, { 'if-match': oldTag })
  t.equal(stale.status, 412)
  t.equal(stale.body.code, 'precondition-failed')
  const still = await call(app, 'GET', `/v1/claims/${id}`)
  t.equal(still.status, 200)
  t.match(still.body, { quote: 'Still here.', version: 2 })

  const claimsBefore = await countRows(database, 'claims')
  const deleted = await call(app, 'DELETE', `/v1/claims/${id}`, undefined, {
    'if-match': edited.headers.etag as string,
  })
  t.equal(deleted.status, 204)
  t.equal(deleted.raw, '')
  t.equal((await call(app, 'GET', `/v1/claims/${id}`)).status, 410)
  t.equal((await call(app, 'PATCH', `/v1/claims/${id}`, { text: 'Back?' })).status, 410)
  t.equal((await call(app, 'DELETE', `/v1/claims/${id}`)).status, 410)
  t.same(await listIds('/v1/claims?party=delete-party'), [])
  t.same(await listIds('/v1/claims?tag=doomed'), [])
  t.equal(await countRows(database, 'claims'), claimsBefore, 'the delete is soft: the row stays')
})

t.test('a party with live claims cannot be deleted; once they are gone it can', async (t) => {
  await createParty('busy-party')
  const first = await createClaim({ party: 'busy-party', text: 'One.', stated_at: '2020-10-06T00:00:00Z' })
  const second = await createClaim({ party: 'busy-party', text: 'Two.', stated_at: '2020-10-07T00:00:00Z' })

  const busy = await call(app, 'DELETE', '/v1/parties/busy-party')
  t.equal(busy.status, 409)
  t.equal(busy.headers['content-type'], PROBLEM_TYPE)
  t.equal(busy.body.code, 'conflict')
  t.equal((await call(app, 'GET', '/v1/parties/busy-party')).status, 200)
  t.equal((await call(app, 'GET', `/v1/claims/${first.id}`)).status, 200)

  t.equal((await call(app, 'DELETE', `/v1/claims/${first.id}`)).status, 204)
  t.equal((await call(app, 'DELETE', '/v1/parties/busy-party')).status, 409, 'one live claim is enough')
  t.equal((await call(app, 'DELETE', `/v1/claims/${second.id}`)).status, 204)
  t.equal((await call(app, 'DELETE', '/v1/parties/busy-party')).status, 204, 'deleted claims do not count')
  t.equal((await call(app, 'GET', '/v1/parties/busy-party')).status, 410)
})

t.test('a PATCH of location merges into the current one (JSON Merge Patch)', async (t) => {
  await createParty('merge-party')
  const claim = await createClaim({
    party: 'merge-party',
    text: 'A claim with a place.',
    stated_at: '2020-10-04T00:00:00Z',
    location: { name: 'Stepanakert', lat: 39.8153, lon: 46.752 },
  })
  const url = `/v1/claims/${claim.id}`

  const renamed = await call(app, 'PATCH', url, { location: { name: 'Khankendi' } })
  t.equal(renamed.status, 200)
  t.same(renamed.body.location, { name: 'Khankendi', lat: 39.8153, lon: 46.752 }, 'lat and lon stay')

  const unplaced = await call(app, 'PATCH', url, { location: { lat: null, lon: null } })
  t.same(unplaced.body.location, { name: 'Khankendi', lat: null, lon: null }, 'null clears a member')

  const half = await call(app, 'PATCH', url, { location: { lat: 40 } })
  t.equal(half.status, 400)
  t.same(fieldsOf(half.body), ['body:location.lon'])
  const halfCleared = await call(app, 'PATCH', url, { location: { lat: null, lon: 5 } })
  t.equal(halfCleared.status, 400, 'a coordinate cleared while the other is set')
  t.same(fieldsOf(halfCleared.body), ['body:location.lat'])

  const cleared = await call(app, 'PATCH', url, { location: null })
  t.equal(cleared.body.location, null)
  const nameless = await call(app, 'PATCH', url, { location: { lat: 40, lon: 46 } })
  t.equal(nameless.status, 400, 'there is no location to merge a position into')
  t.same(fieldsOf(nameless.body), ['body:location.name'])
  t.equal((await call(app, 'GET', url)).body.version, 4, 'refused patches made no version')
})

t.test('ids, dates and text the database could not take are 400s naming the field', async (t) => {
  await createParty('edge-party')
  const base = { party: 'edge-party', text: 'Edge.', stated_at: '2020-10-04T00:00:00Z' }

  const urn = await call(app, 'GET', `/v1/claims/urn:uuid:${randomUUID()}`)
  t.equal(urn.status, 400)
  t.same(fieldsOf(urn.body), ['path:id'])

  const outOfRange = ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00']
  for (const stated_at of [...outOfRange, '2016-12-31T23:59:60Z']) {
    const bad = await call(app, 'POST', '/v1/claims', { ...base, stated_at })
    t.equal(bad.status, 400, `stated_at ${stated_at}`)
    t.same(fieldsOf(bad.body), ['body:stated_at'])
    const filter = await call(app, 'GET', `/v1/claims?stated_after=${encodeURIComponent(stated_at)}`)
    t.equal(filter.status, 400, `stated_after ${stated_at}`)
    t.same(fieldsOf(filter.body), ['query:stated_after'])
  }

  const before = await countRows(database, 'claims')
  const nulInBody = await call(app, 'POST', '/v1/claims', {
    ...base,
    sources: [{ url: 'https://a.example/', title: 'a\u0000b' }],
  })
  t.equal(nulInBody.status, 400)
  t.same(fieldsOf(nulInBody.body), ['body:sources[0].title'])
  t.equal(await countRows(database, 'claims'), before)
  const nulInQuery = await call(app, 'GET', '/v1/claims?q=a%00b')
  t.same([nulInQuery.status, fieldsOf(nulInQuery.body)], [400, ['query:q']])
  const nulInPath = await call(app, 'GET', '/v1/parties/a%00b')
  t.same([nulInPath.status, fieldsOf(nulInPath.body)], [400, ['path:party']])
})
