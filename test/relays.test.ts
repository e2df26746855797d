import t from 'tap'
import { bearer, buildTestApp, call } from './helpers/test-app.js'
import { countRows } from './helpers/test-database.js'
import type { Claim, ClaimVersion, Dispute, Problem } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)

const fieldsOf = (body: Problem | undefined) => (body?.errors ?? []).map((e) => `${e.in}:${e.field}`).sort()

for (const [slug, kind] of [
  ['ps-side', 'government'],
  ['il-side', 'military'],
  ['nyt', 'media'],
  ['afp', 'media'],
] as const) {
  const response = await call(app, 'POST', '/v1/parties', { slug, name: slug.toUpperCase(), kind })
  if (response.status !== 201) throw new Error(`creating party ${slug}: ${response.raw}`)
}
const nyt = (await call(app, 'GET', '/v1/parties/nyt')).body as { id: string }

async function claim(body: Record<string, unknown>): Promise<Claim> {
  const response = await call(app, 'POST', '/v1/claims', {
    text: 'A strike hit the hospital.',
    stated_at: '2023-10-17',
    ...body,
  })
  if (response.status !== 201) throw new Error(`creating a claim: ${response.raw}`)
  return response.body
}

t.test('a claim relayed by outlets keeps its claimant, names them in order, and versions them', async (t) => {
  const relayed = await claim({ party: 'ps-side', relayed_by: ['nyt', 'AFP'] })
  t.same(relayed.party.slug, 'ps-side', 'the claimant is who asserted it')
  t.same(
    relayed.relayed_by.map((party) => party.slug),
    ['nyt', 'afp'],
  )
  const edited = await call(app, 'PATCH', `/v1/claims/${relayed.id}`, {
    relayed_by: [nyt.id],
    edit_note: 'AFP did not.',
  })
  t.equal(edited.status, 200)
  t.same(
    edited.body.relayed_by.map((party: { slug: string }) => party.slug),
    ['nyt'],
  )
  const cleared = await call(app, 'PATCH', `/v1/claims/${relayed.id}`, { relayed_by: null })
  t.same(cleared.body.relayed_by, [])
  const history = (await call(app, 'GET', `/v1/claims/${relayed.id}/history`)).body.data as ClaimVersion[]
  t.same(
    history.map((version) => version.claim.relayed_by.map((party) => party.slug)),
    [[], ['nyt'], ['nyt', 'afp']],
    'each version keeps who relayed it',
  )
})

t.test('relayed_by filters the claims and the disputes; party still filters by claimant', async (t) => {
  const relayed = await claim({ party: 'ps-side', text: 'Hundreds died.', relayed_by: ['nyt'] })
  const own = await claim({ party: 'nyt', text: 'Our reporters saw the site.' })
  const denial = await claim({ party: 'il-side', text: 'No strike of ours hit it.', stated_at: '2023-10-18' })
  const link = { from_claim_id: denial.id, to_claim_id: relayed.id, kind: 'rebuts' }
  t.equal((await call(app, 'POST', '/v1/links', link)).status, 201)
  const ids = async (url: string) => ((await call(app, 'GET', url)).body.data as Claim[]).map((c) => c.id)
  t.same(await ids('/v1/claims?relayed_by=nyt'), [relayed.id], "the NYT's relay, not its own claim")
  t.ok((await ids('/v1/claims?party=nyt')).includes(own.id))
  t.notOk((await ids('/v1/claims?party=nyt')).includes(relayed.id), 'a relay is not a claim of the outlet')
  const disputes = (await call(app, 'GET', `/v1/disputes?relayed_by=${nyt.id}`)).body.data as Dispute[]
  t.same(
    disputes.map((d) => d.claim.id),
    [relayed.id],
  )
  t.same((await call(app, 'GET', '/v1/disputes?relayed_by=afp')).body.data, [])
  const csv = await call(app, 'GET', '/v1/claims?relayed_by=nyt', undefined, { accept: 'text/csv' })
  t.match(csv.raw, /,nyt,/, 'the CSV names who relayed it')
  const unknown = await call(app, 'GET', '/v1/claims?relayed_by=nobody')
  t.equal(unknown.status, 422)
  t.same(fieldsOf(unknown.body), ['query:relayed_by'])
})

t.test(
  'a relay naming the claimant itself, a party twice or no party is refused, and nothing is written',
  async (t) => {
    const claimsBefore = await countRows(database, 'claims')
    const versionsBefore = await countRows(database, 'claim_versions')
    const psSide = (await call(app, 'GET', '/v1/parties/ps-side')).body as { id: string }
    const refused = [
      [{ party: 'ps-side', relayed_by: ['nyt', 'ps-side'] }, 422, 'body:relayed_by[1]', /claimant itself/],
      [{ party: psSide.id, relayed_by: ['ps-side'] }, 422, 'body:relayed_by[0]', /claimant itself/],
      [{ party: 'ps-side', relayed_by: ['nyt', nyt.id] }, 422, 'body:relayed_by[1]', /again/],
      [{ party: 'ps-side', relayed_by: ['nobody'] }, 422, 'body:relayed_by[0]', /no party/],
      [{ party: 'ps-side', relayed_by: ['nyt', 'nyt'] }, 400, 'body:relayed_by', /duplicate|identical/],
    ] as const
    for (const [body, status, field, detail] of refused) {
      const response = await call(app, 'POST', '/v1/claims', { text: 'Said.', stated_at: '2023-10-17', ...body })
      t.equal(response.status, status, JSON.stringify(body))
      t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
      t.same(fieldsOf(response.body), [field])
      t.match(JSON.stringify(response.body), detail)
    }
    const existing = await claim({ party: 'il-side' })
    const patch = await call(app, 'PATCH', `/v1/claims/${existing.id}`, { relayed_by: ['afp', 'il-side'] })
    t.equal(patch.status, 422, 'an edit is held to the same rule')
    t.same(fieldsOf(patch.body), ['body:relayed_by[1]'])
    t.same((await call(app, 'GET', `/v1/claims/${existing.id}`)).body.relayed_by, [], 'and changes nothing')
    t.equal(await countRows(database, 'claims'), claimsBefore + 1)
    t.equal(await countRows(database, 'claim_versions'), versionsBefore + 1)
  },
)

t.test('ClaimReview JSON-LD shows a relaying party as where the claim appeared, not as its author', async (t) => {
  await call(app, 'POST', '/v1/parties', { slug: 'checker', name: 'Checker', kind: 'fact-checker' })
  const relayed = await claim({ party: 'ps-side', text: 'Five hundred died.', relayed_by: ['nyt'] })
  const review = await call(app, 'POST', `/v1/claims/${relayed.id}/reviews`, {
    reviewer: 'checker',
    verdict: 'unproven',
    rating_label: 'Unproven',
    url: 'https://checker.example/1',
    published_at: '2023-10-20T00:00:00Z',
  })
  t.equal(review.status, 201, review.raw)
  const ld = await call(app, 'GET', `/v1/claims/${relayed.id}`, undefined, { accept: 'application/ld+json' })
  const node = ld.body['@graph'][0].itemReviewed
  t.match(node.author, { name: 'PS-SIDE' })
  t.same(node.appearance, [{ '@type': 'CreativeWork', publisher: { '@type': 'Organization', name: 'NYT' } }])
})

t.test('erasing a party that relayed a claim takes it out of the claim and of its versions', async (t) => {
  t.equal((await call(app, 'POST', '/v1/parties', { slug: 'wire', name: 'Wire', kind: 'media' })).status, 201)
  const relayed = await claim({ party: 'il-side', text: 'The launch failed.', relayed_by: ['wire', 'afp'] })
  const erased = await call(app, 'POST', '/v1/parties/wire/erase', undefined, bearer(keys.admin))
  t.equal(erased.status, 200, erased.raw)
  const read = (await call(app, 'GET', `/v1/claims/${relayed.id}`)).body as Claim
  t.same(
    read.relayed_by.map((party) => party.slug),
    ['afp'],
  )
  const history = (await call(app, 'GET', `/v1/claims/${relayed.id}/history`)).body.data as ClaimVersion[]
  t.same(
    history.map((version) => version.claim.relayed_by.map((party) => party.slug)),
    [['afp']],
    'no version keeps its name',
  )
})

t.test('a party that relays a live claim is not deleted until the claim no longer names it', async (t) => {
  t.equal((await call(app, 'POST', '/v1/parties', { slug: 'echo-desk', name: 'Echo', kind: 'media' })).status, 201)
  const relayed = await claim({ party: 'il-side', text: 'The convoy turned back.', relayed_by: ['echo-desk'] })
  const refused = await call(app, 'DELETE', '/v1/parties/echo-desk', undefined, bearer(keys.admin))
  t.equal(refused.status, 409, refused.raw)
  t.match(refused.body.detail, /1 claim\(s\) it relayed/)
  t.equal((await call(app, 'GET', '/v1/parties/echo-desk')).status, 200, 'the party is still there')
  t.equal((await call(app, 'PATCH', `/v1/claims/${relayed.id}`, { relayed_by: [] })).status, 200)
  t.equal((await call(app, 'DELETE', '/v1/parties/echo-desk', undefined, bearer(keys.admin))).status, 204)
})
