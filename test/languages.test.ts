import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'
import type { Claim, ClaimVersion, Dispute, Page, Problem } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

/** `in:field` of every error a problem names, sorted. */
const fieldsOf = (body: Problem | undefined) => (body?.errors ?? []).map((e) => `${e.in}:${e.field}`).sort()

for (const [slug, kind] of [
  ['monitor', 'organisation'],
  ['ministry', 'government'],
] as const) {
  const party = await call(app, 'POST', '/v1/parties', { slug, name: slug, kind })
  if (party.status !== 201) throw new Error(`party: ${party.status} ${party.raw}`)
}

async function createClaim(body: Record<string, unknown>): Promise<Claim> {
  const response = await call(app, 'POST', '/v1/claims', { party: 'monitor', stated_at: '2020-10-07', ...body })
  if (response.status !== 201) throw new Error(`claim: ${response.status} ${response.raw}`)
  return response.body as Claim
}

const idsOf = async (query: string) => {
  const response = await call(app, 'GET', `/v1/claims?${query}`)
  if (response.status !== 200) throw new Error(`list: ${response.status} ${response.raw}`)
  return (response.body as Page<Claim>).data.map((claim) => claim.id).sort()
}
const q = (words: string) => `q=${encodeURIComponent(words)}`

const claimCount = async () =>
  Number((await sql<{ n: string }>`SELECT count(*) AS n FROM claims`.execute(database.db)).rows[0]?.n)

t.test('each claim is stemmed in its own language, and a language without a configuration by simple', async (t) => {
  const russian = await createClaim({ text: 'Ракеты обстреляли нефтепровод', language: 'ru' })
  const french = await createClaim({ text: 'Les frappes ont détruit les oléoducs', language: 'fr-FR' })
  const english = await createClaim({ text: 'Pipelines were shelled near Ganja', language: 'en' })
  const azerbaijani = await createClaim({ text: 'Pipelines were shelled near Tartar', language: 'az-Latn' })

  t.same(await idsOf(q('ракета')), [russian.id], 'a Russian claim is found by another form of its word')
  t.same(await idsOf(q('oléoduc')), [french.id], 'a French claim by the singular of its plural')
  t.same(await idsOf(q('pipeline shelling')), [english.id], 'an English one by English stems')
  t.same(
    await idsOf(q('pipelines shelled')),
    [english.id, azerbaijani.id].sort(),
    'a language PostgreSQL has no configuration for is matched word for word',
  )
  t.same(await idsOf(q('ракета') + '&language=ru'), [russian.id], 'a language filter reads the query in that language')
  t.same(await idsOf(q('pipeline') + '&language=az-Latn'), [], 'and simple does not stem')
  t.same(await idsOf(q('ракета oléoduc')), [], 'every word of the query is still required')
  t.same(await idsOf(q('pipelines -ganja')), [azerbaijani.id], 'a word excluded is excluded in every language')
  t.same(await idsOf(q('нефтепровод -ракета')), [], 'in any form of it')

  const ranked = await call(app, 'GET', `/v1/claims?${q('pipelines')}&sort=relevance`)
  t.equal(ranked.status, 200, 'relevance still ranks claims of different languages')
  t.equal((ranked.body as Page<Claim>).data.length, 2)
})

t.test('a quote is stemmed in its own language', async (t) => {
  const quoted = await createClaim({
    text: 'The ministry says the pipeline was hit by rockets.',
    quote: 'Ракеты обстреляли нефтепровод в Евлахе',
    quote_language: 'ru',
  })
  t.equal(quoted.quote_language, 'ru')
  const unmarked = await createClaim({ text: 'A second report.', quote: 'Ракеты падали у Евлаха' })
  t.equal(unmarked.quote_language, null, 'a quote without a language is in the claim’s')
  const found = await idsOf(q('Евлах'))
  t.ok(found.includes(quoted.id), 'the Russian quote is found by a Russian form of its word')
  t.notOk(found.includes(unmarked.id), 'a quote read as English is not stemmed as Russian')
})

t.test('quote_language is a language tag, needs a quote, and leaves with it', async (t) => {
  const before = await claimCount()
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['not a tag', { text: 'x', quote: 'y', quote_language: 'arabic!' }, 'body:quote_language'],
    ['without a quote', { text: 'x', quote_language: 'ar' }, 'body:quote_language'],
    ['a certainty that is not one', { text: 'x', certainty: 'certain' }, 'body:certainty'],
  ]
  for (const [name, body, field] of cases) {
    const response = await call(app, 'POST', '/v1/claims', { party: 'monitor', stated_at: '2020-10-07', ...body })
    t.equal(response.status, 400, `${name}: 400`)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', `${name}: a problem`)
    t.same(fieldsOf(response.body), [field], `${name}: names ${field}`)
  }
  const target = await createClaim({ party: 'ministry', text: 'A claim to answer.' })
  const counter = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
    claim: { party: 'monitor', text: 'No.', stated_at: '2020-10-08', quote_language: 'ar' },
  })
  t.equal(counter.status, 400, 'a counter-claim is held to the same rule')
  t.same(fieldsOf(counter.body), ['body:claim.quote_language'])
  t.equal(await claimCount(), before + 1, 'nothing refused was written')

  const claim = await createClaim({ text: 'Quoted.', quote: 'قصفت الصواريخ', quote_language: 'ar' })
  const onlyLanguage = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { quote_language: 'ar-EG' })
  t.equal(onlyLanguage.status, 200)
  t.equal((onlyLanguage.body as Claim).quote_language, 'ar-EG')
  const cleared = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { quote: null })
  t.equal(cleared.status, 200)
  t.match(cleared.body, { quote: null, quote_language: null }, 'clearing the quote clears its language')
  const orphan = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { quote_language: 'ar' })
  t.equal(orphan.status, 400, 'a quote language without a quote is refused')
  t.same(fieldsOf(orphan.body), ['body:quote_language'])
  const both = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { quote: null, quote_language: 'ar' })
  t.equal(both.status, 400, 'also when the same patch clears the quote')
  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  const versions = (history.body as Page<ClaimVersion>).data
  t.same(
    versions.map((version) => version.claim.quote_language),
    [null, 'ar-EG', 'ar'],
    'each version keeps its quote language; the refused edits made none',
  )
})

t.test('certainty is recorded, versioned and filtered on', async (t) => {
  const firm = await createClaim({ text: 'Certainty: a firm claim.', certainty: 'asserted', tags: ['certainty'] })
  const hedged = await createClaim({ text: 'Certainty: it appears so.', certainty: 'hedged', tags: ['certainty'] })
  const unrecorded = await createClaim({ text: 'Certainty: not said.', tags: ['certainty'] })
  t.equal(firm.certainty, 'asserted')
  t.equal(unrecorded.certainty, null, 'not recorded unless given')

  t.same(await idsOf('tag=certainty&certainty=hedged'), [hedged.id])
  t.same(await idsOf('tag=certainty&certainty=hedged&certainty=asserted'), [firm.id, hedged.id].sort())
  t.same(await idsOf('tag=certainty&certainty=speculative'), [], 'unrecorded certainty matches no value')
  const bad = await call(app, 'GET', '/v1/claims?certainty=sure')
  t.equal(bad.status, 400)
  t.same(fieldsOf(bad.body), ['query:certainty[0]'])

  const edited = await call(app, 'PATCH', `/v1/claims/${unrecorded.id}`, { certainty: 'speculative' })
  t.equal((edited.body as Claim).certainty, 'speculative')
  t.same(await idsOf('tag=certainty&certainty=speculative'), [unrecorded.id])
  const unset = await call(app, 'PATCH', `/v1/claims/${firm.id}`, { certainty: null })
  t.equal((unset.body as Claim).certainty, null, 'null clears it')
  const history = await call(app, 'GET', `/v1/claims/${firm.id}/history`)
  t.same(
    (history.body as Page<ClaimVersion>).data.map((version) => version.claim.certainty),
    [null, 'asserted'],
  )
  const badEdit = await call(app, 'PATCH', `/v1/claims/${firm.id}`, { certainty: 'likely' })
  t.equal(badEdit.status, 400)
  t.same(fieldsOf(badEdit.body), ['body:certainty'])

  const rebuttal = await call(app, 'POST', `/v1/claims/${hedged.id}/rebuttals`, {
    claim: { party: 'ministry', text: 'It is not so.', stated_at: '2020-10-08', certainty: 'asserted' },
  })
  t.equal(rebuttal.status, 201)
  const disputes = await call(app, 'GET', '/v1/disputes?certainty=hedged')
  t.equal(disputes.status, 200)
  t.same(
    (disputes.body as Page<Dispute>).data.map((dispute) => dispute.claim.id),
    [hedged.id],
    'disputes filter on the certainty of the disputed claim',
  )
  t.same(((await call(app, 'GET', '/v1/disputes?certainty=asserted')).body as Page<Dispute>).data, [])
})
