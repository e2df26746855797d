import t from 'tap'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import { countRows } from './helpers/test-database.js'
import type { Claim, Event, FieldError } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)

const strike = {
  slug: 'btc-pipeline-strike',
  name: 'Missile strike on the Baku-Tbilisi-Ceyhan pipeline',
  starts_at: '2020-10-06',
  location: { name: 'Yevlakh district', lat: 40.6, lon: 47.15 },
  tags: ['pipeline'],
  description: 'Azerbaijan said a missile was fired at the pipeline; Armenia denied it.',
}

for (const party of [
  { slug: 'az-mod', name: 'Azerbaijani Defence Ministry', kind: 'military' },
  { slug: 'am-mfa', name: 'Armenian Foreign Ministry', kind: 'government' },
]) {
  await call(app, 'POST', '/v1/parties', party)
}

const claimAbout = (event: string | undefined, party = 'az-mod', text = 'A missile was fired at the pipeline.') =>
  call(app, 'POST', '/v1/claims', {
    party,
    text,
    stated_at: '2020-10-06T19:00:00Z',
    ...(event === undefined ? {} : { event }),
  })

t.test('an event is created, then found by id and by slug, its span kept at its precision', async (t) => {
  const created = await call(app, 'POST', '/v1/events', strike)
  t.equal(created.status, 201)
  t.match(created.body, {
    ...strike,
    starts_at: '2020-10-06T00:00:00.000Z',
    starts_at_precision: 'day',
    ends_at: null,
    ends_at_precision: null,
    claim_count: 0,
    disputed_claim_count: 0,
    version: 1,
  })
  t.equal(created.headers.location, `/v1/events/${created.body.id}`)
  const byId = await call(app, 'GET', `/v1/events/${created.body.id}`)
  const bySlug = await call(app, 'GET', '/v1/events/btc-pipeline-strike')
  t.same(byId.body, created.body)
  t.same(bySlug.body, created.body)
  t.equal(bySlug.headers.etag, created.headers.etag)
  const cached = await call(app, 'GET', '/v1/events/btc-pipeline-strike', undefined, {
    'if-none-match': created.headers.etag as string,
  })
  t.equal(cached.status, 304)
})

t.test('an end before the start is a 422 naming ends_at, and stores nothing', async (t) => {
  const before = await countRows(database, 'events')
  const backwards = await call(app, 'POST', '/v1/events', {
    slug: 'backwards',
    name: 'Backwards',
    starts_at: '2020-10-07',
    ends_at: '2020-10-06T23:00:00Z',
  })
  t.equal(backwards.status, 422)
  t.match(backwards.body, { code: 'unprocessable-entity', errors: [{ in: 'body', field: 'ends_at' }] })
  t.equal(await countRows(database, 'events'), before)

  const sameMonth = await call(app, 'POST', '/v1/events', {
    slug: 'october-shelling',
    name: 'Shelling through October',
    starts_at: '2020-10',
    ends_at: '2020-10-31',
  })
  t.equal(sameMonth.status, 201, 'an end within the month it starts in is after its start')
  t.match(sameMonth.body, {
    starts_at_precision: 'month',
    ends_at: '2020-10-31T00:00:00.000Z',
    ends_at_precision: 'day',
  })

  const patched = await call(app, 'PATCH', '/v1/events/october-shelling', { starts_at: '2020-11' })
  t.equal(patched.status, 422, 'a new start after the end it has is refused too')
  t.match(patched.body.errors, [{ field: 'ends_at' }])
  t.equal((await call(app, 'GET', '/v1/events/october-shelling')).body.starts_at, '2020-10-01T00:00:00.000Z')
})

t.test('bad event bodies are 400s naming each field; a taken slug is a 409', async (t) => {
  const bad = await call(app, 'POST', '/v1/events', {
    slug: 'Not A Slug',
    name: '',
    starts_at: '2020-13-01',
    ends_at_precision: 'week',
    colour: 'red',
  })
  t.equal(bad.status, 400)
  t.same(bad.body.errors.map((e: FieldError) => e.field).sort(), [
    'colour',
    'ends_at_precision',
    'name',
    'slug',
    'starts_at',
  ])
  const uuidSlug = await call(app, 'POST', '/v1/events', { ...strike, slug: '2b1c1f3e-8a55-4b2e-9d2f-0c6a4c3b9e10' })
  t.equal(uuidSlug.status, 400)
  t.match(uuidSlug.body.errors, [{ field: 'slug' }])
  const precisionAlone = await call(app, 'POST', '/v1/events', { ...strike, slug: 'x', ends_at_precision: 'day' })
  t.equal(precisionAlone.status, 400)
  t.match(precisionAlone.body.errors, [{ field: 'ends_at_precision' }])

  const before = await countRows(database, 'events')
  const duplicate = await call(app, 'POST', '/v1/events', { ...strike, name: 'Another' })
  t.equal(duplicate.status, 409)
  t.equal(duplicate.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(duplicate.body, { code: 'conflict', errors: [{ field: 'slug' }] })
  t.equal(await countRows(database, 'events'), before)
  const renamedOnto = await call(app, 'PATCH', '/v1/events/october-shelling', { slug: 'btc-pipeline-strike' })
  t.equal(renamedOnto.status, 409)
})

t.test('PATCH merges, makes a version with its note, and a stale If-Match is a 412', async (t) => {
  const before = await call(app, 'GET', '/v1/events/btc-pipeline-strike')
  const patched = await call(app, 'PATCH', '/v1/events/btc-pipeline-strike', {
    ends_at: '2020-10-07',
    location: { name: 'Yevlakh' },
    edit_note: 'the pipeline operator reported no damage the next day',
  })
  t.equal(patched.status, 200)
  t.match(patched.body, {
    ends_at: '2020-10-07T00:00:00.000Z',
    ends_at_precision: 'day',
    location: { name: 'Yevlakh', lat: 40.6, lon: 47.15 },
    version: 2,
  })
  const stale = await call(
    app,
    'PATCH',
    '/v1/events/btc-pipeline-strike',
    { name: 'Stale' },
    {
      'if-match': before.headers.etag as string,
    },
  )
  t.equal(stale.status, 412)
  t.equal((await call(app, 'GET', '/v1/events/btc-pipeline-strike')).body.name, strike.name)

  const history = await call(app, 'GET', '/v1/events/btc-pipeline-strike/history')
  t.equal(history.status, 200)
  t.same(
    history.body.data.map((entry: { version: number }) => entry.version),
    [2, 1],
  )
  t.match(history.body.data[0], {
    edit_note: 'the pipeline operator reported no damage the next day',
    event: { ends_at: '2020-10-07T00:00:00.000Z' },
  })
  t.match(history.body.data[1], { edit_note: null, event: { ends_at: null } })

  const cleared = await call(app, 'PATCH', '/v1/events/btc-pipeline-strike', { ends_at: null, location: null })
  t.match(cleared.body, { ends_at: null, ends_at_precision: null, location: null, version: 3 })
})

t.test('writes need a key with the write scope', async (t) => {
  const anonymous = await call(
    app,
    'POST',
    '/v1/events',
    { ...strike, slug: 'anonymous' },
    { authorization: undefined },
  )
  t.equal(anonymous.status, 401)
  const reader = await call(
    app,
    'POST',
    '/v1/events',
    { ...strike, slug: 'by-reader' },
    {
      authorization: `Bearer ${keys.read}`,
    },
  )
  t.equal(reader.status, 403)
})

t.test('a claim attaches to an event by slug or id, detaches with null, and each version keeps it', async (t) => {
  const event = (await call(app, 'GET', '/v1/events/btc-pipeline-strike')).body as Event
  const claim = await claimAbout('btc-pipeline-strike')
  t.equal(claim.status, 201)
  t.same(claim.body.event, { id: event.id, slug: event.slug, name: event.name })
  t.same((await call(app, 'GET', `/v1/claims/${claim.body.id}`)).body.event, claim.body.event)

  const unknown = await claimAbout('no-such-event')
  t.equal(unknown.status, 422)
  t.match(unknown.body, { code: 'unprocessable-entity', errors: [{ in: 'body', field: 'event' }] })

  const other = (await call(app, 'GET', '/v1/events/october-shelling')).body as Event
  const moved = await call(app, 'PATCH', `/v1/claims/${claim.body.id}`, { event: other.id })
  t.equal(moved.status, 200)
  t.equal(moved.body.event.slug, 'october-shelling')
  const detached = await call(app, 'PATCH', `/v1/claims/${claim.body.id}`, { event: null })
  t.equal(detached.body.event, null)
  const badPatch = await call(app, 'PATCH', `/v1/claims/${claim.body.id}`, { event: 'no-such-event' })
  t.equal(badPatch.status, 422)
  t.match(badPatch.body.errors, [{ field: 'event' }])

  const history = await call(app, 'GET', `/v1/claims/${claim.body.id}/history`)
  t.same(
    history.body.data.map((entry: { claim: Claim }) => entry.claim.event?.slug ?? null),
    [null, 'october-shelling', 'btc-pipeline-strike'],
  )
  const noEvent = await claimAbout(undefined)
  t.equal(noEvent.body.event, null)
})

t.test('claims and disputes filter by event; the event counts its claims and disputed ones', async (t) => {
  await call(app, 'POST', '/v1/events', {
    slug: 'stepanakert-shelling',
    name: 'Shelling of Stepanakert',
    starts_at: '2020-10-04',
  })
  const said = await claimAbout('stepanakert-shelling', 'az-mod', 'Military targets only were hit.')
  const denial = await claimAbout('stepanakert-shelling', 'am-mfa', 'Civilian homes were hit.')
  await claimAbout('btc-pipeline-strike', 'az-mod', 'Another pipeline claim.')
  const link = await call(app, 'POST', `/v1/claims/${said.body.id}/rebuttals`, { claim_id: denial.body.id })
  t.equal(link.status, 201)

  const claims = await call(app, 'GET', '/v1/claims?event=stepanakert-shelling')
  t.equal(claims.status, 200)
  t.same(claims.body.data.map((claim: Claim) => claim.id).sort(), [said.body.id, denial.body.id].sort())
  const disputes = await call(app, 'GET', '/v1/disputes?event=stepanakert-shelling')
  t.equal(disputes.status, 200)
  t.same(
    disputes.body.data.map((dispute: { claim: Claim }) => dispute.claim.id),
    [said.body.id],
  )
  const event = await call(app, 'GET', '/v1/events/stepanakert-shelling')
  t.match(event.body, { claim_count: 2, disputed_claim_count: 1 })

  const unknown = await call(app, 'GET', '/v1/claims?event=no-such-event')
  t.equal(unknown.status, 422)
  t.match(unknown.body.errors, [{ in: 'query', field: 'event' }])
  const unknownDisputes = await call(app, 'GET', '/v1/disputes?event=no-such-event')
  t.equal(unknownDisputes.status, 422)

  const csv = await call(app, 'GET', '/v1/claims?event=stepanakert-shelling&format=csv')
  t.equal(csv.status, 200)
  t.match(csv.raw.split('\r\n')[0], /,event_slug,/)
})

t.test('the list filters by tag, words of the name and start, latest begun first, a page at a time', async (t) => {
  const all = await call(app, 'GET', '/v1/events')
  t.equal(all.status, 200)
  const starts = all.body.data.map((event: Event) => event.starts_at)
  t.same(starts, [...starts].sort().reverse(), 'latest begun first')
  const tagged = await call(app, 'GET', '/v1/events?tag=pipeline')
  t.same(
    tagged.body.data.map((event: Event) => event.slug),
    ['btc-pipeline-strike'],
  )
  const named = await call(app, 'GET', '/v1/events?q=STEPANAKERT%20shelling')
  t.same(
    named.body.data.map((event: Event) => event.slug),
    ['stepanakert-shelling'],
  )
  const after = await call(app, 'GET', '/v1/events?starts_after=2020-10-05')
  t.same(
    after.body.data.map((event: Event) => event.slug),
    ['btc-pipeline-strike'],
  )
  const before = await call(app, 'GET', '/v1/events?starts_before=2020-10-04')
  t.same(
    before.body.data.map((event: Event) => event.slug),
    ['october-shelling'],
  )

  const first = await call(app, 'GET', '/v1/events?limit=2')
  t.equal(first.body.data.length, 2)
  t.ok(first.body.next_cursor)
  const second = await call(app, 'GET', `/v1/events?limit=2&cursor=${first.body.next_cursor}`)
  t.same(
    [...first.body.data, ...second.body.data].map((event: Event) => event.id),
    all.body.data.map((event: Event) => event.id),
  )
  const csv = await call(app, 'GET', '/v1/events?format=csv')
  t.equal(csv.status, 200)
  t.match(csv.raw.split('\r\n')[0], /^id,slug,name,starts_at/)
})

t.test(
  'an event that live claims are about is not deleted (409 naming how many); once free, it answers 410',
  async (t) => {
    const refused = await call(app, 'DELETE', '/v1/events/stepanakert-shelling')
    t.equal(refused.status, 409)
    t.match(refused.body.detail, /2 live claim\(s\)/)
    t.equal((await call(app, 'GET', '/v1/events/stepanakert-shelling')).status, 200)

    const claims = await call(app, 'GET', '/v1/claims?event=stepanakert-shelling')
    for (const claim of claims.body.data as Claim[]) {
      await call(app, 'PATCH', `/v1/claims/${claim.id}`, { event: null }, { authorization: `Bearer ${keys.write}` })
    }
    const deleted = await call(app, 'DELETE', '/v1/events/stepanakert-shelling')
    t.equal(deleted.status, 204)
    const gone = await call(app, 'GET', '/v1/events/stepanakert-shelling')
    t.equal(gone.status, 410)
    t.match(gone.body.tombstone, { kind: 'event', label: 'Shelling of Stepanakert (stepanakert-shelling)' })
    const history = await call(app, 'GET', `/v1/events/${gone.body.tombstone.id}/history`)
    t.equal(history.status, 200)
    t.ok(history.body.data[0].deleted, 'its history keeps the deletion')
    const listed = await call(app, 'GET', '/v1/tombstones?kind=event')
    t.same(
      listed.body.data.map((tombstone: { id: string }) => tombstone.id),
      [gone.body.tombstone.id],
    )

    const attach = await claimAbout('stepanakert-shelling')
    t.equal(attach.status, 422, 'a deleted event takes no claims')
    const again = await call(app, 'POST', '/v1/events', {
      slug: 'stepanakert-shelling',
      name: 'Again',
      starts_at: '2020',
    })
    t.equal(again.status, 201, 'its slug is free again')
  },
)

t.test('a create retried with its Idempotency-Key replays the first answer and records one event', async (t) => {
  const body = { slug: 'agdam-villages', name: 'Shelling of villages in Agdam district', starts_at: '2020-10-06' }
  const headers = { 'idempotency-key': 'agdam-villages-1' }
  const first = await call(app, 'POST', '/v1/events', body, headers)
  const before = await countRows(database, 'events')
  const again = await call(app, 'POST', '/v1/events', body, headers)
  t.equal(first.status, 201)
  t.equal(again.status, 201)
  t.same(again.body, first.body)
  t.equal(await countRows(database, 'events'), before)
  const otherBody = await call(app, 'POST', '/v1/events', { ...body, name: 'Other' }, headers)
  t.equal(otherBody.status, 422)
})

t.test(
  'the figures table: each party’s latest figure and the ones before, a corrected one shown as such, the spread',
  async (t) => {
    await call(app, 'POST', '/v1/parties', { slug: 'us-intel', name: 'US intelligence', kind: 'government' })
    const made = await call(app, 'POST', '/v1/events', {
      slug: 'toll',
      name: 'The war’s toll',
      starts_at: '2020-09-27',
    })
    t.equal(made.status, 201)
    const state = async (party: string, stated_at: string, figures: unknown[], text = `${party} gives a toll.`) => {
      const claim = await call(app, 'POST', '/v1/claims', { party, text, stated_at, event: 'toll', figures })
      t.equal(claim.status, 201, claim.raw)
      return claim.body as Claim
    }
    const first = await state('am-mfa', '2020-10-06', [
      { measure: 'deaths', low: 500, qualifier: 'at least', unit: 'people' },
    ])
    const revised = await state('am-mfa', '2020-10-08', [{ measure: 'deaths', value: 471, unit: 'people' }])
    const correction = await call(app, 'POST', '/v1/links', {
      from_claim_id: revised.id,
      to_claim_id: first.id,
      kind: 'corrects',
    })
    t.equal(correction.status, 201, correction.raw)
    const intel = await state('us-intel', '2020-10-07', [
      { measure: 'deaths', low: 100, high: 300, unit: 'people' },
      { measure: 'displaced', value: 70000, qualifier: 'about' },
    ])
    const azerbaijan = await state('az-mod', '2020-10-07', [
      { measure: 'deaths', value: 24, unit: 'people', as_of: '2020-10-07' },
    ])
    await state(
      'az-mod',
      '2020-10-01',
      [{ measure: 'deaths', value: 5, unit: 'people' }],
      'An earlier toll, before the war’s first week was out.',
    )
    const unrelated = await claimAbout(undefined)
    await call(app, 'PATCH', `/v1/claims/${unrelated.body.id}`, { figures: [{ measure: 'deaths', value: 9999 }] })

    const table = await call(app, 'GET', '/v1/events/toll/figures')
    t.equal(table.status, 200)
    t.match(table.headers.etag, /^"/)
    t.same(
      table.body.measures.map((m: { measure: string; unit: string | null }) => [m.measure, m.unit]),
      [
        ['deaths', 'people'],
        ['displaced', null],
      ],
    )
    const deaths = table.body.measures[0]
    t.same(
      deaths.parties.map((p: { party: { slug: string } }) => p.party.slug),
      ['am-mfa', 'az-mod', 'us-intel'],
    )
    const armenia = deaths.parties[0]
    t.match(armenia.latest, { claim_id: revised.id, value: 471, standing: 'current', unit: 'people' })
    t.same(
      armenia.earlier.map((f: { claim_id: string; standing: string; low: number }) => [f.claim_id, f.standing, f.low]),
      [[first.id, 'corrected', 500]],
    )
    const az = deaths.parties[1]
    t.match(az.latest, {
      claim_id: azerbaijan.id,
      value: 24,
      as_of: '2020-10-07T00:00:00.000Z',
      as_of_precision: 'day',
    })
    t.equal(az.earlier.length, 1, 'its earlier figure is there too')
    t.match(deaths.parties[2].latest, { claim_id: intel.id, value: null, low: 100, high: 300 })
    t.same(deaths.spread, { low: 24, high: 471 }, 'the lowest and highest of the latest figures')
    t.same(table.body.measures[1].spread, { low: 70000, high: 70000 })

    const cached = await call(app, 'GET', '/v1/events/toll/figures', undefined, {
      'if-none-match': table.headers.etag as string,
    })
    t.equal(cached.status, 304)

    const csv = await call(app, 'GET', '/v1/events/toll/figures', undefined, { accept: 'text/csv' })
    t.equal(csv.status, 200)
    t.match(csv.headers['content-type'], /^text\/csv/)
    const [header, ...rows] = csv.raw.trimEnd().split('\r\n')
    const columns = header!.split(',')
    t.same(columns.slice(0, 4), ['measure', 'party_slug', 'party_name', 'latest'])
    const cell = (row: string, column: string) => row.split(',')[columns.indexOf(column)]
    t.equal(rows.length, 6, 'one row per figure')
    const corrected = rows.find((row) => cell(row, 'claim_id') === first.id)!
    t.equal(cell(corrected, 'standing'), 'corrected')
    t.equal(cell(corrected, 'latest'), 'false')
    t.equal(cell(corrected, 'low'), '500')
    t.equal(cell(corrected, 'spread_high'), '471')
    t.same(
      rows
        .filter((row) => cell(row, 'latest') === 'true')
        .map((row) => `${cell(row, 'measure')}:${cell(row, 'party_slug')}`),
      ['deaths:am-mfa', 'deaths:az-mod', 'deaths:us-intel', 'displaced:us-intel'],
    )
    const byFormat = await call(app, 'GET', '/v1/events/toll/figures?format=csv')
    t.equal(byFormat.raw, csv.raw)

    const retraction = await state('us-intel', '2020-10-09', [], 'We withdraw our estimate.')
    await call(app, 'POST', '/v1/links', { from_claim_id: retraction.id, to_claim_id: intel.id, kind: 'retracts' })
    const after = await call(app, 'GET', '/v1/events/toll/figures')
    const usDeaths = after.body.measures[0].parties[2]
    t.equal(usDeaths.latest, null, 'a retracted figure is no party’s latest')
    t.match(usDeaths.earlier, [{ claim_id: intel.id, standing: 'retracted' }])
    t.same(after.body.measures[0].spread, { low: 24, high: 471 })

    t.equal((await call(app, 'GET', '/v1/events/no-such-event/figures')).status, 404)
    const bad = await call(app, 'GET', '/v1/events/toll/figures?format=xml')
    t.equal(bad.status, 400)
    const empty = await call(app, 'GET', '/v1/events/october-shelling/figures')
    t.same(empty.body.measures, [])
  },
)

t.test(
  'the figures table keeps units apart, takes the later recorded of claims stated at one time, and the later as_of',
  async (t) => {
    t.equal(
      (await call(app, 'POST', '/v1/events', { slug: 'ties', name: 'Ties', starts_at: '2020-10-01' })).status,
      201,
    )
    const state = async (party: string, stated_at: string, figures: unknown[], text: string) => {
      const claim = await call(app, 'POST', '/v1/claims', { party, text, stated_at, event: 'ties', figures })
      t.equal(claim.status, 201, claim.raw)
      return claim.body as Claim
    }
    const recorded: Claim[] = []
    for (const value of [96, 97, 98, 99]) {
      recorded.push(await state('am-mfa', '2020-10-05', [{ measure: 'deaths', value }], `A toll of ${value}.`))
    }
    await state('az-mod', '2020-10-02', [{ measure: 'deaths', low: 1000, unit: 'people' }], 'At least 1000 people.')
    await state('az-mod', '2020-10-02T10:00:00Z', [{ measure: 'deaths', value: 50, unit: 'soldiers' }], 'Fifty.')
    const ranged = await state(
      'us-intel',
      '2020-10-06',
      [
        { measure: 'deaths', low: 80, high: 120, as_of: '2020-10-04' },
        { measure: 'deaths', value: 85, as_of: '2020-10-05' },
      ],
      'Two estimates, the later one firmer.',
    )

    const table = (await call(app, 'GET', '/v1/events/ties/figures')).body as {
      measures: Array<{
        measure: string
        unit: string | null
        parties: Array<{ party: { slug: string }; latest: { claim_id: string; value: number | null } | null }>
        spread: { low: number | null; high: number | null }
      }>
    }
    t.same(
      table.measures.map((m) => [m.measure, m.unit]),
      [
        ['deaths', null],
        ['deaths', 'people'],
        ['deaths', 'soldiers'],
      ],
      'one entry per measure and unit, no unit first',
    )
    const [plain, people, soldiers] = table.measures
    const latestOf = (slug: string) => plain!.parties.find((p) => p.party.slug === slug)!.latest
    t.match(
      latestOf('am-mfa'),
      { claim_id: recorded[3]!.id, value: 99 },
      'of four stated on one day, the last recorded',
    )
    t.match(latestOf('us-intel'), { claim_id: ranged.id, value: 85 }, 'of two figures of one claim, the later as_of')
    t.same(plain!.spread, { low: 85, high: 99 }, 'the spread compares numbers of one unit only')
    t.same(people!.spread, { low: 1000, high: 1000 })
    t.same(soldiers!.spread, { low: 50, high: 50 })

    const listed = await call(app, 'GET', '/v1/figures?event=ties&limit=200')
    t.equal(listed.status, 200)
    t.equal(listed.body.data.length, 8, 'the figures list takes the event as a filter: its claims’ figures only')
    const unknown = await call(app, 'GET', '/v1/figures?event=no-such-event')
    t.equal(unknown.status, 422)
    t.match(unknown.body.errors, [{ in: 'query', field: 'event' }])
  },
)

t.test('an import makes events by ref, claims name them by ref or slug, and a deletion line deletes one', async (t) => {
  const post = (lines: unknown[], mode = 'all-or-nothing') =>
    callRaw(app, 'POST', `/v1/import?mode=${mode}`, lines.map((line) => JSON.stringify(line)).join('\n'), {
      'content-type': 'application/x-ndjson',
    })
  const lines = [
    {
      type: 'event',
      ref: 'ev-1',
      slug: 'imported-strike',
      name: 'An imported strike',
      starts_at: '2020-10-10',
      tags: ['import'],
    },
    {
      type: 'claim',
      ref: 'c-1',
      party: 'az-mod',
      text: 'The strike was imported.',
      stated_at: '2020-10-10',
      event: { ref: 'ev-1' },
    },
    {
      type: 'claim',
      ref: 'c-2',
      party: 'am-mfa',
      text: 'No strike.',
      stated_at: '2020-10-11',
      event: 'imported-strike',
    },
  ]
  const first = await post(lines)
  t.equal(first.status, 200, first.raw)
  t.match(first.body.counts, { events: { created: 1 }, claims: { created: 2 } })
  const event = await call(app, 'GET', '/v1/events/imported-strike')
  t.match(event.body, { name: 'An imported strike', claim_count: 2, starts_at_precision: 'day' })

  const again = await post(lines)
  t.match(again.body.counts, { events: { unchanged: 1 }, claims: { unchanged: 2 } })

  const byId = await post([{ ...lines[0], ref: 'ev-uuid', slug: event.body.id }])
  t.equal(byId.status, 422, 'an event line whose slug is an id is refused, not taken for that event')
  t.match(byId.body.line_errors, [{ line: 1, problem: { errors: [{ field: 'slug' }] } }])
  t.equal(
    (await call(app, 'GET', `/v1/events/${event.body.id}`)).body.slug,
    'imported-strike',
    'the event is as it was',
  )

  const renamed = await post([{ ...lines[0], name: 'An imported strike, renamed', ends_at: '2020-10-11' }])
  t.match(renamed.body.counts, { events: { updated: 1 } })
  t.match((await call(app, 'GET', '/v1/events/imported-strike')).body, {
    name: 'An imported strike, renamed',
    ends_at: '2020-10-11T00:00:00.000Z',
    tags: ['import'],
    version: 2,
  })

  const backwards = await post([{ ...lines[0], ends_at: '2020-10-01' }])
  t.equal(backwards.status, 422)
  t.match(backwards.body.line_errors, [{ line: 1, ref: 'ev-1', problem: { errors: [{ field: 'ends_at' }] } }])
  const unknown = await post([{ ...lines[1], ref: 'c-3', event: { ref: 'no-such-ref' } }])
  t.equal(unknown.status, 422)
  t.match(unknown.body.line_errors, [{ problem: { errors: [{ field: 'event.ref' }] } }])

  const refused = await post([{ type: 'deletion', of: 'event', ref: 'ev-1' }])
  t.equal(refused.status, 422, 'an event that live claims are about is not deleted by import either')
  t.match(refused.body.line_errors, [{ problem: { code: 'conflict' } }])
  const detached = await post([
    { ...lines[1], event: undefined },
    { ...lines[2], event: undefined },
    { type: 'deletion', of: 'event', ref: 'ev-1', deleted_at: '2021-01-01T00:00:00Z' },
  ])
  t.equal(detached.status, 200, detached.raw)
  t.match(detached.body.counts, { claims: { updated: 2 }, events: { deleted: 1 } })
  const gone = await call(app, 'GET', '/v1/events/imported-strike')
  t.equal(gone.status, 410)
  t.equal(gone.body.tombstone.deleted_at, '2021-01-01T00:00:00.000Z')
})
