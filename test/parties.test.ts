import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'
import { countRows } from './helpers/test-database.js'
import type { FieldError, Party } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

const azerbaijan = { slug: 'azerbaijan', name: 'Azerbaijan', kind: 'state', country: 'AZ', wikidata: 'Q227' }

t.test('a party is created, then found by id and by slug', async (t) => {
  const created = await call(app, 'POST', '/v1/parties', azerbaijan)
  t.equal(created.status, 201)
  t.match(created.body, { ...azerbaijan, side: null, description: null, version: 1 })
  t.equal(created.headers.location, `/v1/parties/${created.body.id}`)
  t.match(created.headers.etag, /^"[\w-]+"$/)

  const byId = await call(app, 'GET', `/v1/parties/${created.body.id}`)
  const bySlug = await call(app, 'GET', '/v1/parties/azerbaijan')
  t.equal(byId.status, 200)
  t.same(byId.body, created.body)
  t.same(bySlug.body, created.body)
  t.equal(bySlug.headers.etag, created.headers.etag)
})

t.test('a party speaks for a side, named by slug', async (t) => {
  const ministry = await call(app, 'POST', '/v1/parties', {
    slug: 'az-defence-ministry',
    name: 'Azerbaijani Defence Ministry',
    kind: 'military',
    side: 'azerbaijan',
  })
  t.equal(ministry.status, 201)
  t.match(ministry.body.side, { slug: 'azerbaijan', name: 'Azerbaijan' })

  const unknownSide = await call(app, 'POST', '/v1/parties', {
    slug: 'x-ministry',
    name: 'X',
    kind: 'official',
    side: 'atlantis',
  })
  t.equal(unknownSide.status, 422)
  t.match(unknownSide.body, { code: 'unprocessable-entity', errors: [{ in: 'body', field: 'side' }] })
})

t.test('a taken slug is a 409 naming the field, and stores nothing', async (t) => {
  const before = await countRows(database, 'parties')
  const duplicate = await call(app, 'POST', '/v1/parties', { ...azerbaijan, name: 'Another' })
  t.equal(duplicate.status, 409)
  t.equal(duplicate.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(duplicate.body, { status: 409, code: 'conflict', errors: [{ field: 'slug' }] })
  t.equal(await countRows(database, 'parties'), before)
})

t.test('bad party bodies are 400s naming each field', async (t) => {
  const bad = await call(app, 'POST', '/v1/parties', {
    slug: 'Not A Slug',
    name: '',
    kind: 'alien',
    country: 'aze',
    colour: 'red',
  })
  t.equal(bad.status, 400)
  const fields = bad.body.errors.map((e: FieldError) => e.field).sort()
  t.same(fields, ['colour', 'country', 'kind', 'name', 'slug'])
  t.match(bad.body.errors.find((e: FieldError) => e.field === 'kind').message, /one of: state, government/)

  const uuidSlug = await call(app, 'POST', '/v1/parties', {
    ...azerbaijan,
    slug: '2b1c1f3e-8a55-4b2e-9d2f-0c6a4c3b9e10',
  })
  t.equal(uuidSlug.status, 400)
  t.match(uuidSlug.body.errors, [{ field: 'slug' }])

  const missing = await call(app, 'POST', '/v1/parties', { slug: 'only-a-slug' })
  t.equal(missing.status, 400)
  t.same(missing.body.errors.map((e: FieldError) => e.field).sort(), ['kind', 'name'])
})

t.test('PATCH changes given fields, clears nulls, and bumps the version', async (t) => {
  const created = await call(app, 'POST', '/v1/parties', {
    slug: 'bbc-news',
    name: 'BBC',
    kind: 'media',
    country: 'GB',
    description: 'British broadcaster',
  })
  const patched = await call(app, 'PATCH', '/v1/parties/bbc-news', { name: 'BBC News', description: null })
  t.equal(patched.status, 200)
  t.match(patched.body, { name: 'BBC News', description: null, country: 'GB', version: 2 })
  t.not(patched.headers.etag, created.headers.etag)

  const renamed = await call(app, 'PATCH', `/v1/parties/${created.body.id}`, { slug: 'bbc' })
  t.equal(renamed.body.slug, 'bbc')
  t.equal((await call(app, 'GET', '/v1/parties/bbc-news')).status, 404)

  const empty = await call(app, 'PATCH', '/v1/parties/bbc', {})
  t.equal(empty.status, 400)
  const selfSide = await call(app, 'PATCH', '/v1/parties/bbc', { side: 'bbc' })
  t.equal(selfSide.status, 400)
  t.match(selfSide.body.errors, [{ field: 'side' }])
  const taken = await call(app, 'PATCH', '/v1/parties/bbc', { slug: 'azerbaijan' })
  t.equal(taken.status, 409)
})

t.test('If-None-Match gives 304; a stale If-Match gives 412 and changes nothing', async (t) => {
  const created = await call(app, 'POST', '/v1/parties', { slug: 'armenia', name: 'Armenia', kind: 'state' })
  const etag = created.headers.etag as string

  const fresh = await call(app, 'GET', '/v1/parties/armenia', undefined, { 'if-none-match': etag })
  t.equal(fresh.status, 304)
  t.equal(fresh.raw, '')

  const first = await call(app, 'PATCH', '/v1/parties/armenia', { country: 'AM' }, { 'if-match': etag })
  t.equal(first.status, 200)
  const stale = await call(app, 'PATCH', '/v1/parties/armenia', { name: 'Republic of Armenia' }, { 'if-match': etag })
  t.equal(stale.status, 412)
  t.equal(stale.body.code, 'precondition-failed')
  const staleDelete = await call(app, 'DELETE', '/v1/parties/armenia', undefined, { 'if-match': etag })
  t.equal(staleDelete.status, 412)

  const now = await call(app, 'GET', '/v1/parties/armenia', undefined, { 'if-none-match': etag })
  t.equal(now.status, 200)
  t.match(now.body, { name: 'Armenia', country: 'AM', version: 2 })
})

t.test('the list is keyset-paginated by slug, with next_cursor and a Link header', async (t) => {
  for (const slug of ['p-01', 'p-02', 'p-03', 'p-04', 'p-05']) {
    await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'person', country: 'FR' })
  }
  const seen: string[] = []
  let url: string | undefined = '/v1/parties?country=FR&limit=2'
  while (url !== undefined) {
    const page = await call(app, 'GET', url)
    t.equal(page.status, 200)
    seen.push(...page.body.data.map((p: Party) => p.slug))
    const next = String(page.headers.link ?? '').match(/<([^>]+)>; rel="next"/)?.[1]
    if (page.body.next_cursor === null) {
      t.equal(next, undefined)
      url = undefined
    } else {
      t.match(next, /^\/v1\/parties\?.*cursor=/)
      url = next!
      t.match(url, /country=FR/)
    }
  }
  t.same(seen, ['p-01', 'p-02', 'p-03', 'p-04', 'p-05'])

  const bad = await call(app, 'GET', '/v1/parties?cursor=not-a-cursor')
  t.equal(bad.status, 400)
  t.match(bad.body.errors, [{ in: 'query', field: 'cursor' }])
  const tooMany = await call(app, 'GET', '/v1/parties?limit=201')
  t.equal(tooMany.status, 400)
  t.match(tooMany.body.errors, [{ in: 'query', field: 'limit' }])
  const typo = await call(app, 'GET', '/v1/parties?kynd=state')
  t.equal(typo.status, 400)
  t.match(typo.body.errors, [{ field: 'kynd', message: 'is not a known field' }])
})

t.test('a deleted party disappears, frees its slug, and is refused while in use', async (t) => {
  await call(app, 'POST', '/v1/parties', { slug: 'russia', name: 'Russia', kind: 'state' })
  await call(app, 'POST', '/v1/parties', {
    slug: 'ru-mfa',
    name: 'Russian Foreign Ministry',
    kind: 'government',
    side: 'russia',
  })
  const inUse = await call(app, 'DELETE', '/v1/parties/russia')
  t.equal(inUse.status, 409)
  t.equal((await call(app, 'GET', '/v1/parties/russia')).status, 200)

  t.equal((await call(app, 'DELETE', '/v1/parties/ru-mfa')).status, 204)
  t.equal((await call(app, 'GET', '/v1/parties/ru-mfa')).status, 410)
  t.equal((await call(app, 'DELETE', '/v1/parties/ru-mfa')).status, 410)
  const list = await call(app, 'GET', '/v1/parties?limit=200')
  t.notOk(list.body.data.some((p: Party) => p.slug === 'ru-mfa'))

  const again = await call(app, 'POST', '/v1/parties', { slug: 'ru-mfa', name: 'Russian MFA', kind: 'government' })
  t.equal(again.status, 201)
})

t.test('a side chain may be long, but may not close a cycle', async (t) => {
  await call(app, 'POST', '/v1/parties', { slug: 'chain-a', name: 'A', kind: 'state' })
  await call(app, 'POST', '/v1/parties', { slug: 'chain-b', name: 'B', kind: 'government', side: 'chain-a' })
  await call(app, 'POST', '/v1/parties', { slug: 'chain-c', name: 'C', kind: 'official', side: 'chain-b' })

  const cycle = await call(app, 'PATCH', '/v1/parties/chain-a', { side: 'chain-c' })
  t.equal(cycle.status, 400)
  t.match(cycle.body.errors, [{ in: 'body', field: 'side', message: /cycle/ }])
  t.equal((await call(app, 'GET', '/v1/parties/chain-a')).body.side, null, 'nothing changed')

  const unrelated = await call(app, 'POST', '/v1/parties', { slug: 'chain-d', name: 'D', kind: 'state' })
  const allowed = await call(app, 'PATCH', '/v1/parties/chain-a', { side: 'chain-d' })
  t.equal(allowed.status, 200)
  t.equal(allowed.body.side.id, unrelated.body.id)
})

t.test('conditional headers on writes: If-None-Match refuses a PATCH or DELETE of a matching party', async (t) => {
  const created = await call(app, 'POST', '/v1/parties', { slug: 'georgia', name: 'Georgia', kind: 'state' })

  const star = await call(app, 'PATCH', '/v1/parties/georgia', { name: 'Sakartvelo' }, { 'if-none-match': '*' })
  t.equal(star.status, 412)
  const same = await call(app, 'DELETE', '/v1/parties/georgia', undefined, {
    'if-none-match': created.headers.etag as string,
  })
  t.equal(same.status, 412)
  const now = await call(app, 'GET', '/v1/parties/georgia')
  t.match(now.body, { name: 'Georgia', version: 1 }, 'neither write happened')

  const other = await call(app, 'PATCH', '/v1/parties/georgia', { name: 'Sakartvelo' }, { 'if-none-match': '"other"' })
  t.equal(other.status, 200)
  t.equal(other.body.name, 'Sakartvelo')
})
