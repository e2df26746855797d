import { randomBytes } from 'node:crypto'
import { copyFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import t from 'tap'
import { type DatabaseHandle, openPgliteDatabase, openServerDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import { databaseUrl, serverUrl, withAdminClient } from './helpers/test-database.js'
import type { Claim, Dispute, Link, Page, Problem } from './helpers/wire-types.js'
import { PGLITE_EXTENSIONS } from '../src/db/pglite-extensions.js'

/**
 * Dates at the precision their source gives (a year, a month, a day, a local time, an instant), the filters that
 * take them as spans, and the time order of a response and the claim it answers.
 */
const { app, database } = await buildTestApp(t)

for (const [slug, name] of [
  ['date-a', 'Party A'],
  ['date-b', 'Party B'],
  ['date-c', 'Party C'],
]) {
  const party = await call(app, 'POST', '/v1/parties', { slug, name, kind: 'organisation' })
  if (party.status !== 201) throw new Error(party.raw)
}

async function claim(party: string, fields: Record<string, unknown>): Promise<Claim> {
  const response = await call(app, 'POST', '/v1/claims', { party, text: `A claim by ${party}`, ...fields })
  if (response.status !== 201) throw new Error(`creating a claim: ${response.raw}`)
  return response.body as Claim
}

const link = (from: Claim, to: Claim, extra: Record<string, unknown> = {}) =>
  call(app, 'POST', '/v1/links', { from_claim_id: from.id, to_claim_id: to.id, kind: 'rebuts', ...extra })

const fieldsOf = (problem: Problem) => (problem.errors ?? []).map((error) => `${error.in}:${error.field}`)

t.test('a time is taken at the precision it is written to, and read back with it', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['2020', '2020-01-01T00:00:00.000Z', 'year'],
    ['2020-10', '2020-10-01T00:00:00.000Z', 'month'],
    ['2020-10-07', '2020-10-07T00:00:00.000Z', 'day'],
    ['2020-10-07T14', '2020-10-07T14:00:00.000Z', 'hour'],
    ['2020-10-07T14:30', '2020-10-07T14:30:00.000Z', 'minute'],
    ['2020-10-07T14:30:15', '2020-10-07T14:30:15.000Z', 'second'],
    ['2020-10-07T14:30+04:00', '2020-10-07T10:30:00.000Z', 'minute'],
    ['2020-10-07T14:30:15.123456Z', '2020-10-07T14:30:15.123Z', 'second'],
    ['2020-10-07t01:00:00-05:30', '2020-10-07T06:30:00.000Z', 'second'],
    ['0001', '0001-01-01T00:00:00.000Z', 'year'],
    ['0099-12-31', '0099-12-31T00:00:00.000Z', 'day'],
  ]
  for (const [text, instant, precision] of cases) {
    const made = await claim('date-a', { stated_at: text, event_at: text })
    t.match(
      made,
      { stated_at: instant, stated_at_precision: precision, event_at: instant, event_at_precision: precision },
      text,
    )
    const read = (await call(app, 'GET', `/v1/claims/${made.id}`)).body as Claim
    t.same([read.stated_at, read.stated_at_precision], [instant, precision], `${text} reads back`)
  }
  const noEvent = await claim('date-a', { stated_at: '2020-10-07' })
  t.same([noEvent.event_at, noEvent.event_at_precision], [null, null], 'no event, no precision')
})

t.test('a time no calendar holds, or in no known form, is a 400 naming its field', async (t) => {
  for (const text of [
    '2020-02-30',
    '2021-02-29',
    '2020-13',
    '2020-00',
    '0000',
    '10000',
    '20',
    '2020-10-07T24:00',
    '2020-10-07T23:60',
    '2020-10-07T23:59:60Z',
    '2020-10-07T14:30+24:00',
    '2020-10-07+04:00',
    '2020-10-07T',
    '7 October 2020',
    'yesterday',
    '9999-12-31T23:30-01:00',
  ]) {
    const response = await call(app, 'POST', '/v1/claims', { party: 'date-a', text: 'x', stated_at: text })
    t.equal(response.status, 400, text)
    t.same(fieldsOf(response.body), ['body:stated_at'], `${text}: names stated_at`)
    const filter = await call(app, 'GET', `/v1/claims?stated_after=${encodeURIComponent(text)}`)
    t.equal(filter.status, 400, `stated_after=${text}`)
    t.same(fieldsOf(filter.body), ['query:stated_after'])
  }
})

t.test('a precision given beside the time: coarser than it is written, and at the start of its span', async (t) => {
  const read = await claim('date-a', { stated_at: '2020-10-07T00:00:00.000Z', stated_at_precision: 'day' })
  t.match(read, { stated_at: '2020-10-07T00:00:00.000Z', stated_at_precision: 'day' }, 'a claim as read, sent again')
  const month = await claim('date-a', { stated_at: '2020-10-01', stated_at_precision: 'month' })
  t.match(month, { stated_at: '2020-10-01T00:00:00.000Z', stated_at_precision: 'month' })
  const refused: Array<[Record<string, unknown>, string]> = [
    [{ stated_at: '2020-10-07T14:00:00Z', stated_at_precision: 'day' }, 'body:stated_at'],
    [{ stated_at: '2020-10-07', stated_at_precision: 'month' }, 'body:stated_at'],
    [{ stated_at: '2020-10-07', stated_at_precision: 'minute' }, 'body:stated_at_precision'],
    [{ stated_at: '2020-10-07', event_at_precision: 'day' }, 'body:event_at_precision'],
    [{ stated_at: '2020-10-07', stated_at_precision: 'week' }, 'body:stated_at_precision'],
  ]
  for (const [fields, field] of refused) {
    const response = await call(app, 'POST', '/v1/claims', { party: 'date-a', text: 'x', ...fields })
    t.equal(response.status, 400, JSON.stringify(fields))
    t.same(fieldsOf(response.body), [field], `${JSON.stringify(fields)}: names ${field}`)
  }
  const rebuttal = await call(app, 'POST', `/v1/claims/${read.id}/rebuttals`, {
    claim: { party: 'date-b', text: 'x', stated_at: '2020-10-08T10:00:00Z', stated_at_precision: 'day' },
  })
  t.equal(rebuttal.status, 400)
  t.same(fieldsOf(rebuttal.body), ['body:claim.stated_at'], 'a counter-claim names its member')
})

t.test('an edit sets a time, a precision or both; history keeps each', async (t) => {
  const made = await claim('date-a', { stated_at: '2020-10-07T14:30:00Z', event_at: '2020-10-06' })
  const patch = async (body: Record<string, unknown>) => call(app, 'PATCH', `/v1/claims/${made.id}`, body)
  t.match((await patch({ stated_at: '2020-10' })).body, {
    stated_at: '2020-10-01T00:00:00.000Z',
    stated_at_precision: 'month',
  })
  t.equal((await patch({ stated_at_precision: 'year' })).status, 400, 'October is not the start of a year')
  t.equal((await patch({ stated_at_precision: 'day' })).status, 400, 'no finer than it is known')
  t.match((await patch({ stated_at: '2020-01-01', stated_at_precision: 'year' })).body, {
    stated_at: '2020-01-01T00:00:00.000Z',
    stated_at_precision: 'year',
  })
  t.equal((await patch({ event_at_precision: 'month' })).status, 400, 'the 6th is not the start of a month')
  t.match((await patch({ event_at: null })).body, { event_at: null, event_at_precision: null })
  t.equal((await patch({ event_at_precision: 'day' })).status, 400, 'no event to be precise about')
  t.equal((await patch({ event_at: null, event_at_precision: 'day' })).status, 400)
  const history = (await call(app, 'GET', `/v1/claims/${made.id}/history`)).body as Page<{
    claim: Pick<Claim, 'stated_at' | 'stated_at_precision' | 'event_at' | 'event_at_precision'>
  }>
  t.same(
    history.data.map(({ claim }) => [claim.stated_at_precision, claim.event_at_precision]),
    [
      ['year', null],
      ['year', 'day'],
      ['month', 'day'],
      ['second', 'day'],
    ],
    'each version with the precisions it had',
  )
})

t.test('date filters bound by the start of the span they name; a day is all of it', async (t) => {
  const tag = 'span-filter'
  const day6 = await claim('date-c', { stated_at: '2020-10-06', tags: [tag] })
  const day7 = await claim('date-c', { stated_at: '2020-10-07', tags: [tag] })
  const minute7 = await claim('date-c', { stated_at: '2020-10-07T23:59', tags: [tag] })
  const month = await claim('date-c', { stated_at: '2020-10', tags: [tag] })
  const nov = await claim('date-c', { stated_at: '2020-11-01T00:00:00Z', tags: [tag] })
  const ids = async (query: string) =>
    ((await call(app, 'GET', `/v1/claims?tag=${tag}&sort=stated_at&${query}`)).body as Page<Claim>).data.map(
      (c) => c.id,
    )
  t.same(await ids('stated_after=2020-10-07'), [day7.id, minute7.id, nov.id], 'stated_after takes in the whole day')
  t.same(await ids('stated_before=2020-10-07'), [month.id, day6.id], 'stated_before leaves out the whole day')
  t.same(await ids('stated_after=2020-10-07&stated_before=2020-10-08'), [day7.id, minute7.id], 'one day, as a span')
  t.same(
    await ids('stated_after=2020-10&stated_before=2020-11'),
    [month.id, day6.id, day7.id, minute7.id],
    'October, whatever the precision of its claims',
  )
  t.same(await ids('stated_after=2020-10-07T23:59'), [minute7.id, nov.id], 'a local minute, read as UTC')
  t.same(await ids('stated_before=2021'), [month.id, day6.id, day7.id, minute7.id, nov.id], 'a year')
  t.same(await ids('stated_after=2020-10-06T23:00:00-01:00'), [day7.id, minute7.id, nov.id], 'an offset')

  // The order by stated_at is total: claims of one instant follow their ids, page after page.
  const same = [
    await claim('date-c', { stated_at: '2020-10-07', tags: ['span-order'] }),
    await claim('date-c', { stated_at: '2020-10-07', tags: ['span-order'] }),
    await claim('date-c', { stated_at: '2020-10-07', tags: ['span-order'] }),
  ]
  const seen: string[] = []
  let url: string | null = '/v1/claims?tag=span-order&limit=1'
  while (url !== null) {
    const page = (await call(app, 'GET', url)).body as Page<Claim>
    seen.push(...page.data.map((c) => c.id))
    url = page.next_cursor === null ? null : `/v1/claims?tag=span-order&limit=1&cursor=${page.next_cursor}`
  }
  t.same(
    seen,
    same
      .map((c) => c.id)
      .sort()
      .reverse(),
    'newest first, then by id, each once',
  )
})

t.test('a response stated before what it answers needs prebuttal; spans are compared honestly', async (t) => {
  const target = await claim('date-a', { stated_at: '2020-10-07T15:00:00Z' })
  const dayBefore = await claim('date-b', { stated_at: '2020-10-06' })
  const sameDay = await claim('date-b', { stated_at: '2020-10-07' })
  const hourBefore = await claim('date-c', { stated_at: '2020-10-07T14:00:00Z' })

  const refused = await link(dayBefore, target)
  t.equal(refused.status, 422)
  t.match(refused.body, {
    code: 'out-of-time-order',
    detail: `claim ${dayBefore.id}, stated 2020-10-06 (day), was stated before claim ${target.id} it answers, stated 2020-10-07T15:00:00.000Z (second)`,
  })
  t.same(fieldsOf(refused.body), ['body:prebuttal'])

  const prebuttal = await link(dayBefore, target, { prebuttal: true, note: 'Said ahead of it.' })
  t.equal(prebuttal.status, 201)
  t.match(prebuttal.body, { prebuttal: true })
  t.match((await call(app, 'GET', `/v1/links/${(prebuttal.body as Link).id}`)).body, { prebuttal: true })

  const ofTheDay = await link(sameDay, target)
  t.equal(ofTheDay.status, 201, 'a response of the same day is not earlier, whatever the hour')
  t.match(ofTheDay.body, { prebuttal: false })
  t.equal((await link(hourBefore, target)).status, 422, 'an hour earlier, to the second, is earlier')

  // The same rule for a counter-claim recorded with its rebuttal, and for a rebuttal of an existing claim.
  const counter = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
    claim: { party: 'date-c', text: 'Before it.', stated_at: '2020-10' },
  })
  t.equal(counter.status, 201, 'October is not before the 7th of October')
  const early = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
    claim: { party: 'date-c', text: 'Long before it.', stated_at: '2020-09' },
  })
  t.equal(early.status, 422)
  t.match(early.body, { code: 'out-of-time-order' })
  t.match(
    early.body.detail,
    /^the new claim, stated 2020-09 \(month\), was stated before claim \S+ it answers, stated 2020-10-07T15:00:00.000Z \(second\);/,
    'the counter-claim, never recorded, is named as the new claim',
  )
  const earlyPrebuttal = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
    claim: { party: 'date-c', text: 'Long before it.', stated_at: '2020-09' },
    prebuttal: true,
  })
  t.equal(earlyPrebuttal.status, 201)
  t.match(earlyPrebuttal.body, { link: { prebuttal: true } })
  const existing = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, { claim_id: hourBefore.id })
  t.equal(existing.status, 422)
  const rebuttals = (await call(app, 'GET', `/v1/claims/${target.id}/rebuttals`)).body as Page<{ link: Link }>
  t.same(
    rebuttals.data.map((r) => r.link.prebuttal).sort(),
    [false, false, true, true],
    'the rebuttals list says which are prebuttals',
  )
})

t.test('an edit of a time that would put a link out of order is refused', async (t) => {
  const target = await claim('date-a', { stated_at: '2020-10-07' })
  const response = await claim('date-b', { stated_at: '2020-10-08' })
  t.equal((await link(response, target)).status, 201)
  const moveResponse = await call(app, 'PATCH', `/v1/claims/${response.id}`, { stated_at: '2020-10-06T23:59:59Z' })
  t.equal(moveResponse.status, 422)
  t.match(moveResponse.body, { code: 'out-of-time-order' })
  t.same(fieldsOf(moveResponse.body), ['body:stated_at'])
  const moveTarget = await call(app, 'PATCH', `/v1/claims/${target.id}`, { stated_at: '2020-10-09' })
  t.equal(moveTarget.status, 422, 'nor the claim answered, later than its response')
  t.equal(
    (await call(app, 'PATCH', `/v1/claims/${target.id}`, { stated_at: '2020-10' })).status,
    200,
    'to the month: the spans overlap',
  )
  t.equal((await call(app, 'PATCH', `/v1/claims/${response.id}`, { stated_at: '2020-10-07T08:00' })).status, 200)
  t.match((await call(app, 'GET', `/v1/claims/${response.id}`)).body, { stated_at_precision: 'minute', version: 2 })

  const early = await claim('date-c', { stated_at: '2020-09-01' })
  t.equal((await link(early, target, { prebuttal: true })).status, 201)
  t.equal(
    (await call(app, 'PATCH', `/v1/claims/${early.id}`, { stated_at: '2019' })).status,
    200,
    'a prebuttal may move further back',
  )
})

t.test('disputes and the matrix take dates; a rebuttal summary carries its precision', async (t) => {
  const target = await claim('date-a', { stated_at: '2021-03-04', tags: ['dispute-dates'] })
  const answer = await claim('date-b', { stated_at: '2021-03-04', tags: ['dispute-dates'] })
  t.equal((await link(answer, target)).status, 201)
  const disputes = (await call(app, 'GET', '/v1/disputes?tag=dispute-dates&since=2021-03-04&until=2021-03-05'))
    .body as Page<Dispute>
  t.same(
    disputes.data.map((d) => d.claim.id),
    [target.id],
  )
  t.match(disputes.data[0]?.latest_rebuttals, [{ claim: { id: answer.id, stated_at_precision: 'day' } }])
  t.same(
    ((await call(app, 'GET', '/v1/disputes?tag=dispute-dates&until=2021-03-04')).body as Page<Dispute>).data,
    [],
    'until leaves out the whole day',
  )
  for (const [query, expected] of [
    ['disputed_after=2021-03-04', [target.id]],
    ['disputed_before=2021-03-04', []],
    ['answered_after=2021-03', [target.id]],
    ['answered_before=2021-03-05', [target.id]],
  ] as const) {
    const page = (await call(app, 'GET', `/v1/disputes?tag=dispute-dates&${query}`)).body as Page<Dispute>
    t.same(
      page.data.map((d) => d.claim.id),
      expected,
      query,
    )
  }
  const matrix = await call(app, 'GET', '/v1/disputes/matrix?tag=dispute-dates&since=2021-03')
  t.match(matrix.body, { cells: [{ claimant: { slug: 'date-a' }, rebutter: { slug: 'date-b' }, rebuttals: 1 }] })
  t.equal((await call(app, 'GET', '/v1/disputes?since=2021-02-29')).status, 400)
})

t.test('exports carry the precisions, and an import line the precisions and prebuttal', async (t) => {
  const csv = await callRaw(app, 'GET', '/v1/claims?tag=span-filter&format=csv&sort=stated_at')
  const [header = '', first = ''] = csv.raw.split('\r\n')
  const columns = header.split(',')
  const row = first.split(',')
  t.equal(row[columns.indexOf('stated_at')], '2020-10-01T00:00:00.000Z')
  t.equal(row[columns.indexOf('stated_at_precision')], 'month')
  t.equal(row[columns.indexOf('event_at_precision')], '')

  const lines = [
    { type: 'claim', ref: 'i-1', party: 'date-a', text: 'Said in May.', stated_at: '2022-05', event_at: '2022' },
    {
      type: 'claim',
      ref: 'i-2',
      party: 'date-b',
      text: 'Said before, on purpose.',
      stated_at: '2022-04-30T00:00:00.000Z',
      stated_at_precision: 'day',
    },
    { type: 'link', ref: 'i-l', kind: 'rebuts', from: { ref: 'i-2' }, to: { ref: 'i-1' }, prebuttal: true },
  ]
  const ndjson = lines.map((line) => JSON.stringify(line)).join('\n')
  const post = (body: string) => callRaw(app, 'POST', '/v1/import', body, { 'content-type': 'application/x-ndjson' })
  const first1 = await post(ndjson)
  t.equal(first1.status, 200, first1.raw)
  t.match(first1.body, { counts: { claims: { created: 2 }, links: { created: 1 } } })
  const again = await post(ndjson)
  t.match(
    again.body,
    { counts: { claims: { unchanged: 2 }, links: { unchanged: 1 } } },
    'the same lines change nothing',
  )
  const dropped = lines.map((line) => (line.type === 'link' ? { ...line, prebuttal: false } : line))
  const refused = await post(dropped.map((line) => JSON.stringify(line)).join('\n'))
  t.equal(refused.status, 422)
  t.match(refused.body, { line_errors: [{ line: 3, problem: { code: 'out-of-time-order' } }] })
  const claims = (await call(app, 'GET', '/v1/claims?party=date-a&stated_after=2022')).body as Page<Claim>
  t.match(claims.data, [
    { stated_at: '2022-05-01T00:00:00.000Z', stated_at_precision: 'month', event_at_precision: 'year' },
  ])
})

t.test('after all of the above, the stored derived state equals a fresh count', async (t) => {
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

/** An empty database, not cloned from the migrated template, closed (and dropped) at the end. */
async function openEmptyDatabase(teardown: (fn: () => unknown) => void): Promise<DatabaseHandle> {
  if (serverUrl === undefined) {
    const handle = await openPgliteDatabase(new PGlite({ extensions: PGLITE_EXTENSIONS }), () => undefined)
    teardown(() => handle.close())
    return handle
  }
  const name = `counterclaim_dates_${randomBytes(6).toString('hex')}`
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name} TEMPLATE template0`))
  teardown(() => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))
  const handle = openServerDatabase({ url: databaseUrl(serverUrl, name), poolMax: 2, statementTimeoutMs: 60_000 })
  teardown(() => handle.close())
  return handle
}

t.test('the migration gives existing times `second`, and marks earlier responses as prebuttals', async (t) => {
  const all = fileURLToPath(new URL('../migrations/', import.meta.url))
  const earlier = t.testdir({})
  for (const file of readdirSync(all).filter((name) => name.endsWith('.sql') && name < '20261204120000')) {
    copyFileSync(join(all, file), join(earlier, file))
  }
  const handle = await openEmptyDatabase((fn) => t.teardown(fn))
  await migrateToLatest(handle.db, earlier)
  await sql`
    INSERT INTO parties (id, slug, name, kind) VALUES
      ('00000000-0000-4000-8000-0000000000a1', 'm-a', 'A', 'other'),
      ('00000000-0000-4000-8000-0000000000b1', 'm-b', 'B', 'other');
    INSERT INTO claims (id, party_id, text, stated_at, event_at) VALUES
      ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1', 'Claim.', '2020-10-07T12:00:00Z', '2020-10-06T00:00:00Z'),
      ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000b1', 'Later answer.', '2020-10-07T12:00:00.500Z', NULL),
      ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-0000000000b1', 'Earlier answer.', '2020-10-06T12:00:00Z', NULL);
    INSERT INTO links (from_claim_id, to_claim_id, from_party_id, to_party_id, kind, to_claim_tags, to_claim_stated_at, from_claim_stated_at) VALUES
      ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000a1', 'rebuts', '{}', '2020-10-07T12:00:00Z', '2020-10-07T12:00:00.500Z'),
      ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000a1', 'supports', '{}', '2020-10-07T12:00:00Z', '2020-10-06T12:00:00Z')`.execute(
    handle.db,
  )
  await migrateToLatest(handle.db, all)
  const claims = await sql<{ text: string; stated_at_precision: string; event_at_precision: string | null }>`
    SELECT text, stated_at_precision, event_at_precision FROM claims ORDER BY id`.execute(handle.db)
  t.same(
    claims.rows.map((row) => [row.text, row.stated_at_precision, row.event_at_precision]),
    [
      ['Claim.', 'second', 'second'],
      ['Later answer.', 'second', null],
      ['Earlier answer.', 'second', null],
    ],
  )
  const links = await sql<{ kind: string; prebuttal: boolean; version: number }>`
    SELECT kind, prebuttal, version FROM links ORDER BY kind`.execute(handle.db)
  t.same(
    links.rows,
    [
      { kind: 'rebuts', prebuttal: false, version: 1 },
      { kind: 'supports', prebuttal: true, version: 2 },
    ],
    'only the response stated a day earlier is marked, in a new version',
  )
})
