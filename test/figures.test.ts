import t from 'tap'
import { sql } from 'kysely'
import { parse } from 'csv-parse/sync'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'
import { FIGURE_CSV_COLUMNS } from '../src/schemas/export.schema.js'
import type { Claim, ClaimVersion, Page, Problem, StatedFigure } from './helpers/wire-types.js'

/** Figures that claims state: one number or a range, versioned with the claim, and filterable by measure. */
const { app, database, keys } = await buildTestApp(t)

const storedFigures = async (claimId: string) =>
  (
    await sql<{
      measure: string
    }>`SELECT measure FROM claim_figures WHERE claim_id = ${claimId} ORDER BY position`.execute(database.db)
  ).rows.map((row) => row.measure)

for (const slug of ['moh', 'us-intel']) {
  const response = await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'official' })
  if (response.status !== 201) throw new Error(`creating party ${slug}: ${response.raw}`)
}

const claimBody = (figures: unknown, party = 'moh') => ({
  party,
  text: 'People were killed in the strike.',
  stated_at: '2023-10-17',
  figures,
})

async function claimWith(figures: unknown, party = 'moh'): Promise<Claim> {
  const response = await call(app, 'POST', '/v1/claims', claimBody(figures, party))
  if (response.status !== 201) throw new Error(`creating a claim: ${response.raw}`)
  return response.body
}

const none = { value: null, low: null, high: null, unit: null, qualifier: null, as_of: null, as_of_precision: null }

t.test('a claim states one number, a range, and a range open at one end, and reads them back in order', async (t) => {
  const made = await call(
    app,
    'POST',
    '/v1/claims',
    claimBody([
      { measure: 'deaths', value: 471, unit: 'people', as_of: '2023-10-18' },
      { measure: 'injured', low: 100, high: 300.5, qualifier: 'between' },
      { measure: 'displaced', low: 500, qualifier: 'at least', as_of: '2023-10-18T09:30:00+03:00' },
      { measure: 'missiles-fired', high: 20, qualifier: 'up to' },
    ]),
  )
  t.equal(made.status, 201, made.raw)
  const expected = [
    {
      ...none,
      measure: 'deaths',
      value: 471,
      unit: 'people',
      as_of: '2023-10-18T00:00:00.000Z',
      as_of_precision: 'day',
    },
    { ...none, measure: 'injured', low: 100, high: 300.5, qualifier: 'between' },
    {
      ...none,
      measure: 'displaced',
      low: 500,
      qualifier: 'at least',
      as_of: '2023-10-18T06:30:00.000Z',
      as_of_precision: 'second',
    },
    { ...none, measure: 'missiles-fired', high: 20, qualifier: 'up to' },
  ]
  t.same(made.body.figures, expected, 'the create answers with every member, null where not stated')
  const read = await call(app, 'GET', `/v1/claims/${made.body.id}`)
  t.same(read.body.figures, expected, 'a read gives the same figures')

  const nobody = await call(app, 'POST', '/v1/claims', claimBody([{ measure: 'deaths', value: 1 }], 'nobody'))
  t.equal(nobody.status, 422, `an unknown party writes no figure either: ${nobody.raw}`)
  t.match(nobody.body.errors, [{ field: 'party' }])

  const plain = await claimWith(undefined)
  t.same(plain.figures, [], 'a claim without figures states none')
})

t.test('numbers keep what was sent: decimals, negatives and the largest magnitudes', async (t) => {
  const claim = await claimWith([
    { measure: 'area', value: 0.125, unit: 'km2' },
    { measure: 'balance', value: -42 },
    { measure: 'budget', value: 1e15 },
    { measure: 'debt', low: -1e15, high: 123456789.987654 },
  ])
  t.same(
    claim.figures.map((figure) => [figure.value, figure.low, figure.high]),
    [
      [0.125, null, null],
      [-42, null, null],
      [1e15, null, null],
      [null, -1e15, 123456789.987654],
    ],
  )
  const read = await call(app, 'GET', `/v1/claims/${claim.id}`)
  t.same(read.body.figures, claim.figures)

  const huge = await call(app, 'POST', '/v1/claims', claimBody([{ measure: 'deaths', value: 1e16 }]))
  t.equal(huge.status, 400, huge.raw)
  t.match(huge.body.errors, [{ field: 'figures[0].value' }])
})

t.test('a PATCH replaces every figure, null or [] clears them, and the history keeps the old ones', async (t) => {
  const claim = await claimWith([{ measure: 'deaths', low: 500, qualifier: 'at least' }])
  const revised = await call(app, 'PATCH', `/v1/claims/${claim.id}`, {
    figures: [
      { measure: 'deaths', value: 471 },
      { measure: 'injured', value: 342 },
    ],
    edit_note: 'The ministry revised its toll',
  })
  t.equal(revised.status, 200, revised.raw)
  t.same(
    revised.body.figures.map((figure: { measure: string; value: number | null }) => [figure.measure, figure.value]),
    [
      ['deaths', 471],
      ['injured', 342],
    ],
  )
  t.equal(revised.body.version, claim.version + 1, 'figures alone make a new version')

  const untouched = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { text: 'People died in the strike.' })
  t.equal(untouched.body.figures.length, 2, 'a PATCH without figures keeps them')

  const cleared = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { figures: null })
  t.same(cleared.body.figures, [], 'null clears')
  await call(app, 'PATCH', `/v1/claims/${claim.id}`, { figures: [{ measure: 'deaths', value: 1 }] })
  const emptied = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { figures: [] })
  t.same(emptied.body.figures, [], '[] clears')

  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.equal(history.status, 200, history.raw)
  const figuresByVersion = (history.body as Page<ClaimVersion>).data.map((version) => [
    version.version,
    version.claim.figures.map((figure) => `${figure.measure}:${figure.value ?? `${figure.low}..${figure.high}`}`),
  ])
  t.same(figuresByVersion, [
    [6, []],
    [5, ['deaths:1']],
    [4, []],
    [3, ['deaths:471', 'injured:342']],
    [2, ['deaths:471', 'injured:342']],
    [1, ['deaths:500..null']],
  ])
  t.equal(history.body.data[4].edit_note, 'The ministry revised its toll')
})

t.test('a figure read back can be sent again as it reads', async (t) => {
  const claim = await claimWith([{ measure: 'deaths', value: 12, as_of: '2023-10', unit: 'people' }])
  const again = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { figures: claim.figures })
  t.equal(again.status, 200, again.raw)
  t.same(again.body.figures, claim.figures)
  t.equal(again.body.figures[0].as_of_precision, 'month')
})

t.test('bad figures are refused, naming the field, and change nothing', async (t) => {
  const cases: Array<[string, unknown, number, string]> = [
    ['low above high', [{ measure: 'deaths', low: 500, high: 100 }], 422, 'figures[0].low'],
    ['a value with a low end', [{ measure: 'deaths', value: 471, low: 400 }], 422, 'figures[0].value'],
    ['a value with a high end', [{ measure: 'deaths', value: 471, high: 500 }], 422, 'figures[0].value'],
    ['no number at all', [{ measure: 'deaths', unit: 'people' }], 422, 'figures[0]'],
    ['an empty figure', [{}], 400, 'figures[0].measure'],
    ['a measure that is no slug', [{ measure: 'Deaths Total', value: 1 }], 400, 'figures[0].measure'],
    ['a number as text', [{ measure: 'deaths', value: '471' }], 400, 'figures[0].value'],
    ['an unknown member', [{ measure: 'deaths', value: 1, source: 'x' }], 400, 'figures[0].source'],
    ['an impossible as_of', [{ measure: 'deaths', value: 1, as_of: '2023-02-30' }], 400, 'figures[0].as_of'],
    [
      'a precision finer than as_of',
      [{ measure: 'deaths', value: 1, as_of: '2023-10', as_of_precision: 'day' }],
      400,
      'figures[0].as_of_precision',
    ],
    [
      'a precision without as_of',
      [{ measure: 'deaths', value: 1, as_of_precision: 'day' }],
      400,
      'figures[0].as_of_precision',
    ],
    [
      'the same measure, unit and as_of twice',
      [
        { measure: 'deaths', value: 1, as_of: '2023-10-18' },
        { measure: 'injured', value: 2 },
        { measure: 'deaths', value: 3, as_of: '2023-10-18T00:00:00Z' },
      ],
      422,
      'figures[2]',
    ],
    ['more than 50 figures', Array.from({ length: 51 }, (_, i) => ({ measure: `m${i}`, value: i })), 400, 'figures'],
  ]
  const claim = await claimWith([{ measure: 'deaths', value: 10 }])
  const before = await call(app, 'GET', '/v1/claims?limit=200')
  for (const [name, figures, status, field] of cases) {
    const created = await call(app, 'POST', '/v1/claims', claimBody(figures))
    t.equal(created.status, status, `${name}: ${created.raw}`)
    t.match(created.headers['content-type'], /^application\/problem\+json/, name)
    t.ok(
      (created.body as Problem).errors?.some((error) => error.field === field),
      `${name} names ${field}: ${created.raw}`,
    )
    const patched = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { figures })
    t.equal(patched.status, status, `${name}, in a PATCH: ${patched.raw}`)
  }
  const after = await call(app, 'GET', '/v1/claims?limit=200')
  t.same(after.body.data, before.body.data, 'nothing was written')

  const sameMeasureElsewhere = await call(
    app,
    'POST',
    '/v1/claims',
    claimBody([
      { measure: 'deaths', value: 1, as_of: '2023-10-18' },
      { measure: 'deaths', value: 3, as_of: '2023-10-19' },
      { measure: 'deaths', value: 4, unit: 'soldiers', as_of: '2023-10-19' },
    ]),
  )
  t.equal(sameMeasureElsewhere.status, 201, 'a measure may come again at another time or in another unit')
})

t.test('the claim and disputes lists filter by measure', async (t) => {
  const tolls = await claimWith([{ measure: 'casualties', value: 471 }])
  const both = await claimWith([
    { measure: 'casualties', low: 100, high: 300 },
    { measure: 'shells', value: 5 },
  ])
  await claimWith([{ measure: 'shells', value: 9 }])
  const listed = await call(app, 'GET', '/v1/claims?measure=casualties&sort=created_at')
  t.equal(listed.status, 200, listed.raw)
  t.same(
    listed.body.data.map((claim: Claim) => claim.id),
    [tolls.id, both.id],
  )
  const either = await call(app, 'GET', '/v1/claims?measure=casualties&measure=shells')
  t.equal(either.body.data.length, 3, 'repeated, a claim of any of the measures')
  const unknown = await call(app, 'GET', '/v1/claims?measure=nothing-stated')
  t.same(unknown.body.data, [])
  const bad = await call(app, 'GET', '/v1/claims?measure=Not%20A%20Slug')
  t.equal(bad.status, 400, bad.raw)
  t.match(bad.body.errors, [{ in: 'query', field: 'measure[0]' }])

  const rebuttal = await call(app, 'POST', `/v1/claims/${both.id}/rebuttals`, {
    claim: { party: 'us-intel', text: 'Far fewer were killed.', stated_at: '2023-10-18', figures: [] },
  })
  t.equal(rebuttal.status, 201, rebuttal.raw)
  const disputed = await call(app, 'GET', '/v1/disputes?measure=casualties')
  t.equal(disputed.status, 200, disputed.raw)
  t.same(
    disputed.body.data.map((dispute: { claim: Claim }) => dispute.claim.id),
    [both.id],
  )
})

t.test('a deleted claim keeps its figures in its history; an erased one leaves none behind', async (t) => {
  const claim = await claimWith([
    { measure: 'deaths', value: 3 },
    { measure: 'injured', value: 7 },
  ])
  t.same(await storedFigures(claim.id), ['deaths', 'injured'], 'one row per figure, in order')
  t.equal((await call(app, 'DELETE', `/v1/claims/${claim.id}`)).status, 204)
  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.same(
    history.body.data.map((entry: ClaimVersion) => entry.claim.figures.length),
    [2, 2],
  )
  const filtered = await call(app, 'GET', '/v1/claims?measure=injured')
  t.notOk(
    filtered.body.data.some((listed: Claim) => listed.id === claim.id),
    'a deleted claim leaves the lists',
  )
  const erased = await call(app, 'POST', `/v1/claims/${claim.id}/erase`, undefined, bearer(keys.admin))
  t.equal(erased.status, 200, erased.raw)
  t.same(await storedFigures(claim.id), [])
})

t.test('GET /v1/figures: one item per figure, latest stated claim first, filtered, paged', async (t) => {
  for (const slug of ['az-mod', 'am-mod']) {
    t.equal((await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'military' })).status, 201)
  }
  const stated = async (party: string, stated_at: string, figures: unknown[]) => {
    const response = await call(app, 'POST', '/v1/claims', { party, text: `${party} counts.`, stated_at, figures })
    if (response.status !== 201) throw new Error(response.raw)
    return response.body as Claim
  }
  const first = await stated('az-mod', '2020-10-05', [
    { measure: 'tanks-destroyed', value: 130, unit: 'tanks' },
    { measure: 'soldiers-killed', low: 2300, qualifier: 'over' },
  ])
  const revised = await stated('az-mod', '2020-10-06T08:00:00Z', [
    { measure: 'soldiers-killed', value: 2700, as_of: '2020-10-06' },
  ])
  const answer = await stated('am-mod', '2020-10-06T10:00:00Z', [
    { measure: 'soldiers-killed', low: 100, high: 300, qualifier: 'between' },
    { measure: 'drones-downed', value: 12 },
    { measure: 'tanks-destroyed', high: 10, qualifier: 'up to' },
  ])
  t.equal(
    (await call(app, 'POST', '/v1/links', { from_claim_id: revised.id, to_claim_id: first.id, kind: 'corrects' }))
      .status,
    201,
  )

  const listed = await call(
    app,
    'GET',
    '/v1/figures?measure=soldiers-killed&measure=tanks-destroyed&measure=drones-downed',
  )
  t.equal(listed.status, 200, listed.raw)
  const rows = (listed.body as Page<StatedFigure>).data.map((f) => [
    f.party.slug,
    f.measure,
    f.value,
    f.low,
    f.high,
    f.standing,
  ])
  t.same(rows, [
    ['am-mod', 'soldiers-killed', null, 100, 300, 'current'],
    ['am-mod', 'drones-downed', 12, null, null, 'current'],
    ['am-mod', 'tanks-destroyed', null, null, 10, 'current'],
    ['az-mod', 'soldiers-killed', 2700, null, null, 'current'],
    ['az-mod', 'tanks-destroyed', 130, null, null, 'corrected'],
    ['az-mod', 'soldiers-killed', null, 2300, null, 'corrected'],
  ])
  t.match(listed.body.data[3], {
    claim_id: revised.id,
    party: { slug: 'az-mod', name: 'az-mod' },
    stated_at: '2020-10-06T08:00:00.000Z',
    stated_at_precision: 'second',
    unit: null,
    as_of: '2020-10-06T00:00:00.000Z',
    as_of_precision: 'day',
  })

  const byParty = await call(app, 'GET', '/v1/figures?party=az-mod&measure=soldiers-killed')
  t.same(
    byParty.body.data.map((f: StatedFigure) => f.value ?? f.low),
    [2700, 2300],
    'by party and measure',
  )
  const ofClaim = await call(app, 'GET', `/v1/figures?claim=${answer.id}`)
  t.same(
    ofClaim.body.data.map((f: StatedFigure) => f.measure),
    ['soldiers-killed', 'drones-downed', 'tanks-destroyed'],
    'one claim, its figures in order',
  )
  const current = await call(app, 'GET', '/v1/figures?party=az-mod&standing=current')
  t.same(
    current.body.data.map((f: StatedFigure) => f.claim_id),
    [revised.id],
    'by standing',
  )

  // Pages of two cut through the middle of a claim's figures.
  const seen: string[] = []
  let url: string | null = '/v1/figures?party=am-mod&limit=2'
  let pages = 0
  while (url !== null && pages < 5) {
    const page = await call(app, 'GET', url)
    t.equal(page.status, 200, page.raw)
    seen.push(...page.body.data.map((f: StatedFigure) => f.measure))
    url = page.body.next_cursor === null ? null : `/v1/figures?party=am-mod&limit=2&cursor=${page.body.next_cursor}`
    if (url !== null) t.match(page.headers.link, /rel="next"/)
    pages++
  }
  t.same(seen, ['soldiers-killed', 'drones-downed', 'tanks-destroyed'], 'each figure once, in order')
  t.equal(pages, 2)

  const csv = await callRaw(app, 'GET', '/v1/figures?party=az-mod', undefined, { accept: 'text/csv' })
  t.equal(csv.status, 200, csv.raw)
  t.match(csv.headers['content-type'], /^text\/csv/)
  t.match(csv.headers['content-disposition'], /filename="figures.csv"/)
  const records = parse(csv.raw, { columns: true }) as Array<Record<string, string>>
  t.same(
    records.map((r) => [r.claim_id, r.party_slug, r.measure, r.value, r.low, r.high, r.unit, r.qualifier, r.standing]),
    [
      [revised.id, 'az-mod', 'soldiers-killed', '2700', '', '', '', '', 'current'],
      [first.id, 'az-mod', 'tanks-destroyed', '130', '', '', 'tanks', '', 'corrected'],
      [first.id, 'az-mod', 'soldiers-killed', '', '2300', '', '', 'over', 'corrected'],
    ],
    'CSV: one row per figure',
  )
  t.same(
    Object.keys(records[0]!),
    FIGURE_CSV_COLUMNS.map((c) => c.name),
  )

  const ndjson = await callRaw(app, 'GET', '/v1/figures?party=am-mod&format=ndjson')
  t.equal(ndjson.status, 200, ndjson.raw)
  const lines = ndjson.raw
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StatedFigure)
  t.same(lines, ofClaim.body.data, 'NDJSON: the items of the JSON list')

  t.equal((await call(app, 'DELETE', `/v1/claims/${answer.id}`)).status, 204)
  const afterDelete = await call(app, 'GET', '/v1/figures?party=am-mod')
  t.same(afterDelete.body.data, [], "a deleted claim's figures leave the list")

  for (const [query, status, field] of [
    ['party=nobody', 422, 'party'],
    ['claim=not-a-uuid', 400, 'claim'],
    ['measure=Bad%20Slug', 400, 'measure[0]'],
    ['cursor=bm9wZQ', 400, 'cursor'],
    ['format=csv&limit=1000001', 400, 'limit'],
  ] as const) {
    const bad = await call(app, 'GET', `/v1/figures?${query}`)
    t.equal(bad.status, status, `${query}: ${bad.raw}`)
    t.match(bad.body.errors, [{ in: 'query', field }], query)
  }
  const firstTwo = await call(app, 'GET', '/v1/figures?format=csv&limit=2')
  t.equal(firstTwo.status, 200)
  t.equal(firstTwo.raw.trim().split('\n').length, 3, 'an export with limit: the header and its first 2 rows')
  const otherCursor = await call(app, 'GET', '/v1/claims?limit=1')
  const foreign = await call(app, 'GET', `/v1/figures?cursor=${otherCursor.body.next_cursor}`)
  t.equal(foreign.status, 400, 'a cursor of another list is refused')
})

t.test('an import line states figures as a create does, and a bad figure is a line error naming it', async (t) => {
  const post = (lines: unknown[]) =>
    callRaw(app, 'POST', '/v1/import', lines.map((line) => JSON.stringify(line)).join('\n'), {
      'content-type': 'application/x-ndjson',
    })
  const line = {
    type: 'claim',
    ref: 'imported-toll',
    party: 'moh',
    text: 'The toll, imported.',
    stated_at: '2023-10-20',
    figures: [{ measure: 'imported-deaths', low: 40, qualifier: 'at least', as_of: '2023-10-19' }],
  }
  const first = await post([line])
  t.equal(first.status, 200, first.raw)
  t.match(JSON.parse(first.raw), { counts: { claims: { created: 1 } } })
  const listed = await call(app, 'GET', '/v1/figures?measure=imported-deaths')
  t.match(listed.body.data, [{ low: 40, high: null, qualifier: 'at least', as_of: '2023-10-19T00:00:00.000Z' }])

  const again = await post([line])
  t.match(JSON.parse(again.raw), { counts: { claims: { unchanged: 1 } } }, 'the same figures: unchanged')
  const revised = await post([{ ...line, figures: [{ measure: 'imported-deaths', value: 43 }] }])
  t.match(JSON.parse(revised.raw), { counts: { claims: { updated: 1 } } }, 'other figures: updated')
  const relisted = await call(app, 'GET', '/v1/figures?measure=imported-deaths')
  t.match(relisted.body.data, [{ value: 43, low: null }])

  const bad = await post([
    { ...line, ref: 'bad-range', figures: [{ measure: 'imported-deaths', low: 9, high: 3 }] },
    { ...line, ref: 'bad-measure', figures: [{ measure: 'Imported Deaths', value: 3 }] },
    // Any rule a new claim's values break is its line's error, not the whole import's.
    { ...line, ref: 'bad-precision', stated_at: '2023-10', stated_at_precision: 'day' },
  ])
  t.equal(bad.status, 422, bad.raw)
  const errors = JSON.parse(bad.raw).line_errors as Array<{ line: number; problem: Problem }>
  t.same(
    errors.map((error) => [error.line, error.problem.status, error.problem.errors?.map((e) => e.field)]),
    [
      [1, 422, ['figures[0].low']],
      [2, 400, ['figures[0].measure']],
      [3, 400, ['stated_at_precision']],
    ],
  )
  const unchanged = await call(app, 'GET', '/v1/figures?measure=imported-deaths')
  t.same(unchanged.body.data, relisted.body.data, 'nothing was written')
})
