import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import { countRows } from './helpers/test-database.js'
import type { Claim, Problem, Rebuttal } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

for (const slug of ['az-ministry', 'news-agency', 'observer']) {
  const party = await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'organisation' })
  if (party.status !== 201) throw new Error(`party: ${party.status} ${party.raw}`)
}

async function createClaim(body: Record<string, unknown>): Promise<Claim> {
  const response = await call(app, 'POST', '/v1/claims', body)
  if (response.status !== 201) throw new Error(`claim: ${response.status} ${response.raw}`)
  return response.body as Claim
}

const PIPELINE = 'Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan oil pipeline near Yevlakh.'
const base = await createClaim({ party: 'az-ministry', text: PIPELINE, stated_at: '2020-10-06' })
const reported = await createClaim({
  party: 'news-agency',
  text: 'Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan pipeline near Yevlakh, the ministry said.',
  stated_at: '2020-10-07',
})
const earlier = await createClaim({
  party: 'az-ministry',
  text: 'Armenian forces fired missiles at the Baku-Tbilisi-Ceyhan oil pipeline.',
  stated_at: '2020-09-01',
})
const unrelated = await createClaim({
  party: 'az-ministry',
  text: 'Shelling of Stepanakert continued overnight.',
  stated_at: '2020-10-06',
})

interface Searched {
  words: string[]
  claims: number
  complete: boolean
}
interface Similar {
  data: Array<{ score: number; claim: Claim }>
  searched: Searched
}
const similarAnswer = async (id: string, query = '') => {
  const response = await call(app, 'GET', `/v1/claims/${id}/similar${query}`)
  t.equal(response.status, 200, `similar${query}: ${response.raw.slice(0, 200)}`)
  return response.body as Similar
}
const similarTo = async (id: string, query = '') => (await similarAnswer(id, query)).data

t.test('/similar scores the live claims most like a claim, best first, and filters them', async (t) => {
  const all = await similarTo(base.id)
  t.same(
    all.map((entry) => entry.claim.id),
    [reported.id, earlier.id],
    'the two rewordings, the closer first; neither the claim itself nor an unrelated one',
  )
  t.ok(
    all.every((entry) => entry.score > 0.3 && entry.score < 1),
    'scores between the threshold and 1',
  )
  t.ok(all[0]!.score >= all[1]!.score, 'best first')

  t.same(
    (await similarTo(base.id, '?party=news-agency')).map((entry) => entry.claim.id),
    [reported.id],
    'by party',
  )
  t.same(
    (await similarTo(base.id, '?stated_after=2020-10')).map((entry) => entry.claim.id),
    [reported.id],
    'by time window',
  )
  t.same(
    (await similarTo(base.id, '?stated_before=2020-10-07')).map((entry) => entry.claim.id),
    [earlier.id],
    'the window end is the start of the time given',
  )
  t.equal((await similarTo(base.id, '?limit=1')).length, 1, 'limited')
  const { searched } = await similarAnswer(base.id)
  t.match(searched, { claims: 2, complete: true }, 'the two claims sharing two of its words compared; not the other')
  t.ok(
    ['yevlakh', 'pipelin', 'armenian'].every((word) => searched.words.includes(word)),
    `the words, as the full-text index reads them: ${searched.words.join(' ')}`,
  )
  t.same(await similarTo(base.id, '?min_score=0.99'), [], 'a higher bar')
  t.same(await similarTo(unrelated.id), [], 'nothing like it')
  const awkward = "O'Brien's \\ \"quote\" a:* !b & (c | d) <-> e:AB'' — 3.5% of C:\\temp\\x'y"
  const first = await createClaim({ party: 'observer', text: awkward, stated_at: '2020-10-01', language: 'hy' })
  await createClaim({ party: 'observer', text: `${awkward}!`, stated_at: '2020-10-02', language: 'hy' })
  t.equal((await similarTo(first.id)).length, 1, 'words with quotes, backslashes and tsquery operators match')

  const unknown = await call(app, 'GET', '/v1/claims/00000000-0000-4000-8000-000000000000/similar')
  t.equal(unknown.status, 404)
  const badScore = await call(app, 'GET', `/v1/claims/${base.id}/similar?min_score=0.1`)
  t.equal(badScore.status, 400)
  t.match(badScore.body as Problem, { errors: [{ in: 'query', field: 'min_score' }] })
  const badParty = await call(app, 'GET', `/v1/claims/${base.id}/similar?party=nobody`)
  t.equal(badParty.status, 422)
  t.match(badParty.body as Problem, { errors: [{ in: 'query', field: 'party' }] })

  const doomed = await createClaim({ party: 'observer', text: PIPELINE, stated_at: '2020-10-06' })
  t.ok(
    (await similarTo(base.id)).some((entry) => entry.claim.id === doomed.id && entry.score === 1),
    'the same words score 1',
  )
  t.equal((await call(app, 'DELETE', `/v1/claims/${doomed.id}`)).status, 204)
  t.notOk(
    (await similarTo(base.id)).some((entry) => entry.claim.id === doomed.id),
    'a deleted claim is left out',
  )
  t.equal((await call(app, 'GET', `/v1/claims/${doomed.id}/similar`)).status, 410, 'and has no similar claims: 410')
})

t.test('a create that closely matches a claim of its party, days apart, names it; strict refuses it', async (t) => {
  const again = { party: 'az-ministry', text: `${PIPELINE.slice(0, -1)}!`, stated_at: '2020-10-08' }
  const warned = await call(app, 'POST', '/v1/claims', again)
  t.equal(warned.status, 201, 'recorded all the same')
  t.equal(
    warned.headers.link,
    `</v1/claims/${base.id}>; rel="duplicate"`,
    'the duplicate named; not the one a month off',
  )
  t.equal(warned.headers['preference-applied'], undefined)

  const otherParty = await call(app, 'POST', '/v1/claims', { ...again, party: 'observer' })
  t.equal(otherParty.status, 201)
  t.equal(otherParty.headers.link, undefined, "another party's claim is no duplicate")
  const monthLater = await call(app, 'POST', '/v1/claims', { ...again, stated_at: '2020-11-20' })
  t.equal(monthLater.headers.link, undefined, 'nor is one stated more than 7 days away')

  const before = await countRows(database, 'claims')
  const strict = await call(
    app,
    'POST',
    '/v1/claims',
    { ...again, stated_at: '2020-10-09' },
    {
      prefer: 'return=representation, handling=strict',
    },
  )
  t.equal(strict.status, 409)
  t.equal(strict.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(strict.headers['preference-applied'], 'handling=strict')
  const problem = strict.body as Problem & { duplicates: Array<{ id: string; score: number; href: string }> }
  t.equal(problem.code, 'duplicate-claim')
  t.same(
    problem.duplicates.map((duplicate) => duplicate.id).sort(),
    [base.id, (warned.body as Claim).id].sort(),
    'names every candidate',
  )
  t.ok(problem.duplicates.every((duplicate) => duplicate.score >= 0.8 && duplicate.href.endsWith(duplicate.id)))
  t.equal(await countRows(database, 'claims'), before, 'nothing written')

  const fresh = await call(
    app,
    'POST',
    '/v1/claims',
    { party: 'az-ministry', text: 'Ganja was shelled at dawn.', stated_at: '2020-10-09' },
    { prefer: 'handling=strict' },
  )
  t.equal(fresh.status, 201, 'strict records a claim that duplicates nothing')
  t.equal(fresh.headers['preference-applied'], 'handling=strict')
  t.equal(fresh.headers.link, undefined)
})

t.test('a counter-claim is checked as a claim is, and a replay repeats the warning', async (t) => {
  const counter = { claim: { party: 'az-ministry', text: PIPELINE, stated_at: '2020-10-08' }, note: 'Denies it.' }
  const claimsBefore = await countRows(database, 'claims')
  const linksBefore = await countRows(database, 'links')
  const strict = await call(app, 'POST', `/v1/claims/${reported.id}/rebuttals`, counter, { prefer: 'handling=strict' })
  t.equal(strict.status, 409)
  t.match(strict.body, { code: 'duplicate-claim', detail: /^claim closely matches/ })
  t.equal(await countRows(database, 'claims'), claimsBefore, 'no claim written')
  t.equal(await countRows(database, 'links'), linksBefore, 'no link written')

  const key = { 'idempotency-key': 'counter-claim-1' }
  const warned = await call(app, 'POST', `/v1/claims/${reported.id}/rebuttals`, counter, key)
  t.equal(warned.status, 201)
  t.match(warned.headers.link, `</v1/claims/${base.id}>; rel="duplicate"`)
  const replay = await call(app, 'POST', `/v1/claims/${reported.id}/rebuttals`, counter, key)
  t.equal(replay.status, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.headers.link, warned.headers.link, 'the replay names the same duplicates')
  t.equal((replay.body as Rebuttal).claim.id, (warned.body as Rebuttal).claim.id)
})

t.test('/similar scores 2,000 candidates at most, and a word most claims have finds none', async (t) => {
  // Statistics only when the test takes them: before, every word counts as distinctive.
  await sql`ALTER TABLE claims SET (autovacuum_enabled = false)`.execute(database.db)
  t.equal((await call(app, 'POST', '/v1/parties', { slug: 'wire', name: 'Wire', kind: 'media' })).status, 201)
  const bulletins = Array.from({ length: 2000 }, (_, i) => ({
    type: 'claim',
    ref: `wire-${i}`,
    party: 'wire',
    text: `Bulletin ${i}: the Mingachevir reservoir fell ${i % 7} centimetres overnight.`,
    stated_at: new Date(Date.UTC(2021, 0, 1) + i * 60_000).toISOString(),
  }))
  const imported = await callRaw(
    app,
    'POST',
    '/v1/import',
    bulletins.map((line) => JSON.stringify(line)).join('\n') + '\n',
    { 'content-type': 'application/x-ndjson' },
  )
  t.equal(imported.status, 200, imported.raw.slice(0, 300))

  const fresh = await createClaim({
    party: 'az-ministry',
    text: 'A drone struck the Mingachevir reservoir dam overnight, officials in Baku said.',
    stated_at: '2021-01-01T12:00:00Z',
  })
  const reworded = await createClaim({
    party: 'observer',
    text: 'A drone struck the Mingachevir reservoir dam overnight, according to officials in Baku.',
    stated_at: '2019-05-01',
  })

  const capped = await similarAnswer(fresh.id)
  t.match(capped.searched, { claims: 2000, complete: false }, 'every bulletin shares three of its words: 2,000 scored')
  const byParty = await similarAnswer(fresh.id, '?party=observer')
  t.same(
    byParty.data.map((entry) => entry.claim.id),
    [reworded.id],
    'a party narrows the candidates',
  )
  t.match(byParty.searched, { claims: 1, complete: true })
  const byWindow = await similarAnswer(fresh.id, '?stated_before=2020')
  t.same(
    byWindow.data.map((entry) => entry.claim.id),
    [reworded.id],
    'so does a window',
  )
  t.ok(byWindow.data[0]!.score > 0.6, `scored ${byWindow.data[0]!.score}`)

  await sql`ANALYZE claims`.execute(database.db)
  const analysed = await similarAnswer(fresh.id)
  t.notOk(
    ['mingachevir', 'reservoir', 'overnight'].some((word) => analysed.searched.words.includes(word)),
    `words nearly every claim has are not distinctive: ${analysed.searched.words.join(' ')}`,
  )
  t.same(
    analysed.data.map((entry) => entry.claim.id),
    [reworded.id],
    'and the rewording is found by the words it shares with no bulletin',
  )
  t.equal(analysed.searched.complete, true)
  const generic = await createClaim({
    party: 'observer',
    text: 'The Mingachevir reservoir fell overnight.',
    stated_at: '2021-01-03',
  })
  t.same(
    (await similarAnswer(generic.id)).searched,
    { words: [], claims: 0, complete: false },
    'a claim made only of words nearly every claim has is not searched, and the answer says it is incomplete',
  )
  t.ok(analysed.searched.claims < 10, `${analysed.searched.claims} candidates`)
})
