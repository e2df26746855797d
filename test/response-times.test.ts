import { parse } from 'csv-parse/sync'
import t from 'tap'
import { derivedStateErrors } from './helpers/derived-state.js'
import { allResponseTimes } from '../src/services/response-times.service.js'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import type { Claim, Page, ResponseTimes } from './helpers/wire-types.js'

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

for (const slug of ['claimant', 'rebutter', 'supporter']) {
  await post('/v1/parties', { slug, name: slug, kind: 'official' })
}
const at = (minutes: number) => new Date(Date.UTC(2023, 9, 17, 12, 0) + minutes * 60_000).toISOString()
const claim = (party: string, minutes: number, text: string): Promise<Claim> =>
  post('/v1/claims', { party, text, stated_at: at(minutes) })
const link = (from: Claim, to: Claim, kind: 'rebuts' | 'supports') =>
  post('/v1/links', { from_claim_id: from.id, to_claim_id: to.id, kind })

// The claimant speaks at noon; a supporter answers after 30 minutes, a rebutter after an hour and again after five.
const said = await claim('claimant', 0, 'The hospital was struck by an air strike.')
const ignored = await claim('claimant', 10, 'A second statement nobody answers.')
const support = await claim('supporter', 30, 'We confirm the strike.')
const rebuttal = await claim('rebutter', 60, 'It was a misfired rocket.')
const again = await claim('rebutter', 300, 'Audio proves the misfire.')
await link(support, said, 'supports')
await link(rebuttal, said, 'rebuts')
await link(again, said, 'rebuts')

t.test('a claim says when it was first answered and since when it is disputed', async (t) => {
  const read = (await get(`/v1/claims/${said.id}`)) as Claim
  t.equal(read.first_response_at, at(30), 'the first response of any kind: the support')
  t.equal(read.disputed_since, at(60), 'the first rebuttal')
  t.equal(read.last_response_at, at(300))
  t.equal(read.response_time_seconds, 1800)
  const alone = (await get(`/v1/claims/${ignored.id}`)) as Claim
  t.same([alone.first_response_at, alone.disputed_since, alone.response_time_seconds], [null, null, null])
})

t.test('the disputes list filters on when a claim became disputed and when it was last answered', async (t) => {
  const ids = async (query: string) =>
    ((await get(`/v1/disputes?${query}`)) as Page<{ claim: Claim }>).data.map((dispute) => dispute.claim.id)
  t.same(await ids(`disputed_after=${at(59)}`), [said.id])
  t.same(await ids(`disputed_after=${at(61)}`), [])
  t.same(await ids(`disputed_before=${at(61)}`), [said.id])
  t.same(await ids(`answered_after=${at(299)}`), [said.id], 'what flared up since')
  t.same(await ids(`answered_before=${at(299)}`), [])
  t.same(await ids('sort=-disputed_since'), [said.id])
})

t.test('status=unanswered lists the claims nothing answers, supports included', async (t) => {
  const ids = async (query: string) =>
    ((await get(`/v1/claims?${query}`)) as Page<Claim>).data.map((claim) => claim.id).sort()
  t.same(await ids('party=claimant&status=unanswered'), [ignored.id])
  t.same(await ids('party=claimant&status=unchallenged'), [ignored.id])
  t.same(await ids('party=supporter&status=unchallenged'), [support.id], 'unchallenged: no rebuttal')
  t.same(await ids('party=supporter&status=unanswered'), [support.id])
  const supported = await claim('supporter', 400, 'Supported but never rebutted.')
  const echo = await claim('claimant', 410, 'We agree with the supporter.')
  await link(echo, supported, 'supports')
  t.same(await ids('party=supporter&status=unchallenged'), [support.id, supported.id].sort())
  t.same(await ids('party=supporter&status=unanswered'), [support.id], 'a supported claim is answered')
})

t.test("a party's response times, and every party's, fastest first, as JSON and CSV", async (t) => {
  const rebutter = (await get('/v1/parties/rebutter/response-times')) as ResponseTimes
  t.same(rebutter.answering, { count: 1, median_seconds: 3600, p90_seconds: 3600 }, 'its first response counts once')
  const claimant = (await get('/v1/parties/claimant/response-times')) as ResponseTimes
  t.equal(claimant.answered.count, 1)
  t.equal(claimant.answered.median_seconds, 1800)
  t.equal(claimant.claims, 3)
  t.equal(claimant.unanswered, 2)
  t.equal((await call(app, 'GET', '/v1/parties/nobody/response-times')).status, 404)

  const all = (await get('/v1/response-times')) as { data: ResponseTimes[] }
  t.same(
    all.data.map((row) => row.party.slug),
    ['claimant', 'supporter', 'rebutter'],
    'fastest answering first: the claimant (its echo, after 10 min), the supporter (30 min), the rebutter (1 h)',
  )
  const csv = await callRaw(app, 'GET', '/v1/response-times?format=csv')
  t.equal(csv.status, 200)
  const rows = parse(csv.raw, { columns: true }) as Array<Record<string, string>>
  t.same(
    rows.map((row) => [row.party_slug, row.answering_median_seconds]),
    all.data.map((row) => [
      row.party.slug,
      row.answering.median_seconds === null ? '' : String(row.answering.median_seconds),
    ]),
  )
})

t.test("requests for every party's times at once share one reading; the next reads again", async (t) => {
  const [first, second] = await Promise.all([allResponseTimes(database.db), allResponseTimes(database.db)])
  t.equal(first, second, 'the second request shares the reading the first started')
  const own = allResponseTimes(database.db, { ownRead: true })
  const joining = allResponseTimes(database.db)
  t.not(await own, await joining, 'a client reading its own write back reads on its own')
  const later = await allResponseTimes(database.db)
  t.not(later, first, 'a request after the reading has ended reads again')
  t.same(later, first)

  // A write answered while a reading runs: the requests after it do not share that reading.
  const before = app.writesAnswered()
  const running = allResponseTimes(database.db, { writes: before })
  const written = await claim('claimant', 20, 'A third statement, recorded while the report is read.')
  t.equal(app.writesAnswered(), before + 1, 'a write answered with success is counted')
  t.equal((await call(app, 'GET', `/v1/claims/${written.id}`)).status, 200)
  const refused = await call(app, 'POST', '/v1/claims', { party: 'nobody' })
  t.ok(refused.status >= 400 && refused.status < 500, `a write the service refuses (${refused.status})`)
  t.equal(app.writesAnswered(), before + 1, 'reads and refused writes are not')
  const afterWrite = allResponseTimes(database.db, { writes: app.writesAnswered() })
  const alongside = allResponseTimes(database.db, { writes: app.writesAnswered() })
  t.not(await afterWrite, await running, 'a request after the write reads again')
  t.equal(await alongside, await afterWrite, 'and shares with the requests after the same write')
  const claimant = (await afterWrite).find((row) => row.party.slug === 'claimant')!
  t.equal(claimant.claims, 4, 'the reading after the write counts the new claim')

  // A response recorded after a reading ended is in the next one.
  const quick = await claim('supporter', 15, 'Confirmed within minutes.')
  await link(quick, ignored, 'supports')
  const after = await allResponseTimes(database.db)
  const supporter = after.find((row) => row.party.slug === 'supporter')!
  t.equal(supporter.answering.count, 2, "the new support is counted in the supporter's answering times")
  const concurrent = await Promise.all(Array.from({ length: 5 }, () => call(app, 'GET', '/v1/response-times')))
  t.same(
    concurrent.map((response) => response.status),
    [200, 200, 200, 200, 200],
    'five clients asking at once are all answered',
  )
  t.same(new Set(concurrent.map((response) => response.raw)).size, 1, 'with the same report')
})

t.test('removing the first response moves the times, and the derived state stays right', async (t) => {
  t.equal((await call(app, 'DELETE', `/v1/claims/${support.id}`)).status, 204)
  const read = (await get(`/v1/claims/${said.id}`)) as Claim
  t.equal(read.first_response_at, at(60))
  t.equal(read.response_time_seconds, 3600)
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('delays of centuries are answered, not refused as out of range', async (t) => {
  await post('/v1/parties', { slug: 'historian', name: 'historian', kind: 'official' })
  const ancient = await post('/v1/claims', {
    party: 'historian',
    text: 'Said long ago.',
    stated_at: '0100-01-01T00:00:00Z',
  })
  const late = await claim('rebutter', 600, 'Answered much later.')
  await link(late, ancient as Claim, 'rebuts')
  const times = (await get('/v1/parties/historian/response-times')) as ResponseTimes
  t.ok(times.answered.median_seconds! > 2 ** 31, `${times.answered.median_seconds} s`)
  t.equal((await call(app, 'GET', '/v1/response-times')).status, 200)
})
