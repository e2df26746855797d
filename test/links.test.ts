import { randomUUID } from 'node:crypto'
import t from 'tap'
import { schemaViolations } from './helpers/contract.js'
import { buildTestApp, call } from './helpers/test-app.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { countRows } from './helpers/test-database.js'
import type { Claim, Link, Problem, Rebuttal } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

const fieldsOf = (body: Problem | undefined) => (body?.errors ?? []).map((e) => `${e.in}:${e.field}`).sort()

for (const slug of ['az-mod', 'am-mfa', 'tr-mfa', 'ru-mfa']) {
  const response = await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'official' })
  if (response.status !== 201) throw new Error(`creating party ${slug}: ${response.raw}`)
}

let day = 0
/** A claim by `party`, each stated a day after the one before. */
async function claimBy(party: string, extra: Record<string, unknown> = {}): Promise<Claim> {
  day++
  const stated_at = new Date(Date.UTC(2020, 8, day, 12)).toISOString()
  const response = await call(app, 'POST', '/v1/claims', { party, text: `A claim by ${party}`, stated_at, ...extra })
  if (response.status !== 201) throw new Error(`creating a claim: ${response.raw}`)
  return response.body
}

async function getClaim(id: string): Promise<Claim> {
  return (await call(app, 'GET', `/v1/claims/${id}`)).body
}

async function link(from: string, to: string, kind = 'rebuts', note?: string): Promise<Link> {
  const response = await call(app, 'POST', '/v1/links', { from_claim_id: from, to_claim_id: to, kind, note })
  if (response.status !== 201) throw new Error(`linking: ${response.status} ${response.raw}`)
  return response.body
}

t.test('a rebuttal link makes a claim disputed, and its derived state shows on every read', async (t) => {
  const claim = await claimBy('az-mod')
  const rebuttal = await claimBy('am-mfa')
  t.equal(claim.status, 'unchallenged')
  t.same(claim.rebutted_by, [])
  const before = await call(app, 'GET', `/v1/claims/${claim.id}`)

  const response = await call(app, 'POST', '/v1/links', {
    from_claim_id: rebuttal.id,
    to_claim_id: claim.id,
    kind: 'rebuts',
    note: 'Calls it another lie.',
  })
  t.equal(response.status, 201)
  t.equal(response.headers.location, `/v1/links/${response.body.id}`)
  t.ok(response.headers.etag)
  t.match(response.body, {
    kind: 'rebuts',
    from_claim_id: rebuttal.id,
    to_claim_id: claim.id,
    from_party: { slug: 'am-mfa' },
    to_party: { slug: 'az-mod' },
    note: 'Calls it another lie.',
    version: 1,
  })
  t.same((await call(app, 'GET', `/v1/links/${response.body.id}`)).body, response.body, 'the link reads back')

  const after = await call(app, 'GET', `/v1/claims/${claim.id}`)
  t.match(after.body, {
    status: 'disputed',
    rebuttal_count: 1,
    support_count: 0,
    last_response_at: rebuttal.stated_at,
    version: claim.version,
    updated_at: claim.updated_at,
  })
  t.same(after.body.rebutted_by, [rebuttal.party], 'the rebutting party, as a reference')
  t.not(after.headers.etag, before.headers.etag, 'the ETag changes with the derived state, the version does not')
  t.equal(
    (await call(app, 'GET', `/v1/claims/${claim.id}`, undefined, { 'if-none-match': String(before.headers.etag) }))
      .status,
    200,
    'a cached copy from before the rebuttal is stale',
  )
  const listed = await call(app, 'GET', `/v1/claims?party=az-mod&status=disputed`)
  t.same(
    listed.body.data.map((c: Claim) => c.id),
    [claim.id],
    'the list filters by status',
  )
  t.match(listed.body.data[0], { rebuttal_count: 1 })
  t.same(listed.body.data[0].rebutted_by, [rebuttal.party], 'lists carry the same derived state')
  const unchallenged = await call(app, 'GET', `/v1/claims?party=az-mod&status=unchallenged`)
  t.notOk(
    unchallenged.body.data.some((c: Claim) => c.id === claim.id),
    'and leaves it out of the unchallenged ones',
  )
})

t.test('supports count apart and do not make a claim disputed', async (t) => {
  const claim = await claimBy('az-mod')
  const support = await claimBy('tr-mfa')
  await link(support.id, claim.id, 'supports')
  const supported = await getClaim(claim.id)
  t.match(supported, {
    status: 'unchallenged',
    rebuttal_count: 0,
    support_count: 1,
    last_response_at: support.stated_at,
  })
  t.same(supported.rebutted_by, [])
  const rebuttal = await claimBy('am-mfa')
  await link(rebuttal.id, claim.id, 'rebuts')
  await link(rebuttal.id, support.id, 'rebuts')
  t.match(await getClaim(claim.id), { status: 'disputed', rebuttal_count: 1, support_count: 1 })
})

t.test('rebutting parties are listed once each, by slug', async (t) => {
  const claim = await claimBy('am-mfa')
  for (const party of ['tr-mfa', 'az-mod', 'tr-mfa']) await link((await claimBy(party)).id, claim.id)
  const read = await getClaim(claim.id)
  t.equal(read.rebuttal_count, 3)
  t.same(
    read.rebutted_by.map((p) => p.slug),
    ['az-mod', 'tr-mfa'],
  )
})

t.test('the link rules: different parties, no self-link, live claims only, no duplicates', async (t) => {
  const claim = await claimBy('az-mod')
  const sameParty = await claimBy('az-mod')
  const other = await claimBy('am-mfa')

  const self = await call(app, 'POST', '/v1/links', { from_claim_id: claim.id, to_claim_id: claim.id, kind: 'rebuts' })
  t.equal(self.status, 422, 'a claim cannot answer itself')
  t.equal(self.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.same(fieldsOf(self.body), ['body:from_claim_id'])

  const same = await call(app, 'POST', '/v1/links', {
    from_claim_id: sameParty.id,
    to_claim_id: claim.id,
    kind: 'supports',
  })
  t.equal(same.status, 422, 'a party cannot answer itself')
  t.match(same.body.detail, /different parties/)

  const missing = randomUUID()
  const unknownTo = await call(app, 'POST', '/v1/links', {
    from_claim_id: other.id,
    to_claim_id: missing,
    kind: 'rebuts',
  })
  t.equal(unknownTo.status, 422)
  t.same(fieldsOf(unknownTo.body), ['body:to_claim_id'], 'the problem names the missing end')
  const unknownFrom = await call(app, 'POST', '/v1/links', {
    from_claim_id: missing,
    to_claim_id: claim.id,
    kind: 'rebuts',
  })
  t.same(fieldsOf(unknownFrom.body), ['body:from_claim_id'])

  const deleted = await claimBy('tr-mfa')
  t.equal((await call(app, 'DELETE', `/v1/claims/${deleted.id}`)).status, 204)
  const toDeleted = await call(app, 'POST', '/v1/links', {
    from_claim_id: deleted.id,
    to_claim_id: claim.id,
    kind: 'rebuts',
  })
  t.equal(toDeleted.status, 410, 'a deleted claim cannot be linked: it is gone')
  t.same(fieldsOf(toDeleted.body), ['body:from_claim_id'])

  const first = await link(other.id, claim.id, 'rebuts')
  const duplicate = await call(app, 'POST', '/v1/links', {
    from_claim_id: other.id,
    to_claim_id: claim.id,
    kind: 'rebuts',
  })
  t.equal(duplicate.status, 409, 'the same (from, to, kind) twice is a conflict')
  t.match(duplicate.body.detail, first.id, 'naming the link that exists')
  const otherKind = await call(app, 'POST', '/v1/links', {
    from_claim_id: other.id,
    to_claim_id: claim.id,
    kind: 'supports',
  })
  t.equal(otherKind.status, 409, 'a claim cannot both rebut and support the same claim')
  t.match(otherKind.body.detail, `already rebuts claim ${claim.id} (link ${first.id})`)
  const upper = await call(app, 'POST', '/v1/links', {
    from_claim_id: claim.id.toUpperCase(),
    to_claim_id: other.id.toUpperCase(),
    kind: 'rebuts',
    // Stated a day before the other: a prebuttal.
    prebuttal: true,
  })
  t.equal(upper.status, 201, 'ids are matched whatever their case')
  t.match(upper.body, { from_claim_id: claim.id, to_claim_id: other.id })
  const selfUpper = await call(app, 'POST', '/v1/links', {
    from_claim_id: claim.id.toUpperCase(),
    to_claim_id: claim.id,
    kind: 'rebuts',
  })
  t.equal(selfUpper.status, 422, 'a self-link in two cases is still a self-link')
  t.equal((await getClaim(claim.id)).rebuttal_count, 1, 'the refused requests counted nothing')

  const bad = await call(app, 'POST', '/v1/links', {
    from_claim_id: 'x',
    to_claim_id: claim.id,
    kind: 'refutes',
    extra: 1,
  })
  t.equal(bad.status, 400)
  t.same(fieldsOf(bad.body), ['body:extra', 'body:from_claim_id', 'body:kind'])
  const note = await call(app, 'POST', '/v1/links', {
    from_claim_id: other.id,
    to_claim_id: sameParty.id,
    kind: 'rebuts',
    note: 'n'.repeat(2001),
  })
  t.equal(note.status, 400)
  t.same(fieldsOf(note.body), ['body:note'])
})

t.test('deleting the rebuttal or its link makes a claim unchallenged again', async (t) => {
  const claim = await claimBy('az-mod')
  const first = await claimBy('am-mfa')
  const second = await claimBy('tr-mfa')
  const firstLink = await link(first.id, claim.id)
  await link(second.id, claim.id)
  t.match(await getClaim(claim.id), { rebuttal_count: 2, last_response_at: second.stated_at })

  t.equal((await call(app, 'DELETE', `/v1/claims/${second.id}`)).status, 204)
  const halved = await getClaim(claim.id)
  t.match(halved, { status: 'disputed', rebuttal_count: 1, last_response_at: first.stated_at })
  t.same(halved.rebutted_by, [first.party])
  const links = await call(app, 'GET', `/v1/links?claim=${second.id}`)
  t.same(links.body.data, [], 'the links of a deleted claim are gone with it')

  const stale = await call(app, 'DELETE', `/v1/links/${firstLink.id}`, undefined, { 'if-match': '"stale"' })
  t.equal(stale.status, 412, 'a stale If-Match keeps the link')
  const etag = String((await call(app, 'GET', `/v1/links/${firstLink.id}`)).headers.etag)
  t.equal((await call(app, 'DELETE', `/v1/links/${firstLink.id}`, undefined, { 'if-match': etag })).status, 204)
  const cleared = await getClaim(claim.id)
  t.match(cleared, { status: 'unchallenged', rebuttal_count: 0, last_response_at: null })
  t.same(cleared.rebutted_by, [])
  t.equal((await call(app, 'GET', `/v1/links/${firstLink.id}`)).status, 410)
  t.equal(
    (await call(app, 'DELETE', `/v1/links/${firstLink.id}`)).status,
    410,
    'a deleted link cannot be deleted again',
  )
  t.equal((await call(app, 'DELETE', `/v1/links/not-a-uuid`)).status, 400)
  await link(first.id, claim.id)
  t.equal((await getClaim(claim.id)).rebuttal_count, 1, 'the same pair can be linked again after a delete')
})

t.test('deleting a rebutted claim takes its incoming links with it', async (t) => {
  const claim = await claimBy('az-mod')
  const rebuttal = await claimBy('am-mfa')
  const support = await claimBy('tr-mfa')
  await link(rebuttal.id, claim.id)
  await link(support.id, rebuttal.id, 'supports')
  t.equal((await call(app, 'DELETE', `/v1/claims/${claim.id}`)).status, 204)
  t.same((await call(app, 'GET', `/v1/links?claim=${claim.id}`)).body.data, [])
  t.match(await getClaim(rebuttal.id), { support_count: 1 }, 'links between other claims stay')
})

t.test("editing when a response was stated moves the answered claim's last response time", async (t) => {
  const claim = await claimBy('az-mod')
  const rebuttal = await claimBy('am-mfa')
  await link(rebuttal.id, claim.id)
  const response = await call(app, 'PATCH', `/v1/claims/${rebuttal.id}`, { stated_at: '2021-01-01T00:00:00Z' })
  t.equal(response.status, 200)
  t.equal((await getClaim(claim.id)).last_response_at, '2021-01-01T00:00:00.000Z')
  await call(app, 'PATCH', `/v1/claims/${rebuttal.id}`, { text: 'Edited, and stated when it was.' })
  t.equal((await getClaim(claim.id)).last_response_at, '2021-01-01T00:00:00.000Z', 'other edits leave it')
})

t.test('the link list filters by claim, party and kind, newest first, page by page', async (t) => {
  await call(app, 'POST', '/v1/parties', { slug: 'listing-a', name: 'A', kind: 'media' })
  await call(app, 'POST', '/v1/parties', { slug: 'listing-b', name: 'B', kind: 'media' })
  const root = await claimBy('listing-a')
  const made: Link[] = []
  for (let i = 0; i < 5; i++) {
    const response = await claimBy('listing-b')
    made.push(await link(response.id, root.id, i % 2 === 0 ? 'rebuts' : 'supports'))
  }
  const newestFirst = made.map((l) => l.id).reverse()
  const seen: string[] = []
  let url: string | undefined = `/v1/links?claim=${root.id}&limit=2`
  while (url !== undefined) {
    const page = await call(app, 'GET', url)
    t.equal(page.status, 200)
    seen.push(...page.body.data.map((l: Link) => l.id))
    url = page.body.next_cursor === null ? undefined : String(page.headers.link).match(/<([^>]+)>/)?.[1]
  }
  t.same(seen, newestFirst, 'every link once, newest first')
  const rebuts = await call(app, 'GET', `/v1/links?claim=${root.id}&kind=rebuts`)
  t.equal(rebuts.body.data.length, 3)
  const byParty = await call(app, 'GET', '/v1/links?party=listing-b')
  t.same(
    byParty.body.data.map((l: Link) => l.id),
    newestFirst,
    'party matches either end',
  )
  t.equal((await call(app, 'GET', '/v1/links?party=nobody')).status, 422)
  t.equal((await call(app, 'GET', '/v1/links?cursor=abc')).status, 400)
  const linksCursor = (await call(app, 'GET', `/v1/links?claim=${root.id}&limit=1`)).body.next_cursor
  const claimsCursor = (await call(app, 'GET', '/v1/claims?limit=1&sort=-created_at')).body.next_cursor
  t.equal((await call(app, 'GET', `/v1/links?cursor=${claimsCursor}`)).status, 400, "a claim list's cursor")
  t.equal((await call(app, 'GET', `/v1/claims?sort=-created_at&cursor=${linksCursor}`)).status, 400, 'and back')
  t.equal((await call(app, 'GET', '/v1/links?kind=refutes')).status, 400)
  t.equal((await call(app, 'GET', '/v1/links?claim=nope')).status, 400)
  t.equal((await call(app, 'GET', `/v1/links?claim=${randomUUID()}`)).status, 422, 'a claim that never existed')
})

t.test('POST /v1/claims/{id}/rebuttals links an existing claim', async (t) => {
  const claim = await claimBy('az-mod')
  const existing = await claimBy('am-mfa')
  const response = await call(app, 'POST', `/v1/claims/${claim.id}/rebuttals`, {
    claim_id: existing.id,
    note: 'A denial.',
  })
  t.equal(response.status, 201)
  t.equal(response.headers.location, `/v1/links/${response.body.link.id}`)
  t.match(response.body, {
    link: { kind: 'rebuts', from_claim_id: existing.id, to_claim_id: claim.id, note: 'A denial.' },
    claim: { id: existing.id, party: { slug: 'am-mfa' } },
  })
  t.equal((await getClaim(claim.id)).status, 'disputed')
  t.equal(response.headers.etag, (await call(app, 'GET', response.headers.location as string)).headers.etag)
  t.equal(response.headers['claim-etag'], (await call(app, 'GET', `/v1/claims/${existing.id}`)).headers.etag)
  const again = await call(app, 'POST', `/v1/claims/${claim.id}/rebuttals`, { claim_id: existing.id })
  t.equal(again.status, 409)
})

t.test('POST /v1/claims/{id}/rebuttals records a counter-claim and its link together, or neither', async (t) => {
  const claim = await claimBy('az-mod')
  const counter = {
    party: 'am-mfa',
    text: 'The pipeline report is another lie.',
    quote: 'another lie',
    stated_at: '2020-10-06T20:00:00Z',
    tags: ['pipeline'],
  }
  const response = await call(app, 'POST', `/v1/claims/${claim.id}/rebuttals`, { claim: counter, note: 'Denial.' })
  t.equal(response.status, 201)
  t.match(response.body.claim, { text: counter.text, party: { slug: 'am-mfa' }, version: 1, tags: ['pipeline'] })
  t.equal(response.body.link.from_claim_id, response.body.claim.id)
  t.equal((await call(app, 'GET', `/v1/claims/${response.body.claim.id}/history`)).body.data.length, 1)
  t.match(await getClaim(claim.id), { status: 'disputed', last_response_at: '2020-10-06T20:00:00.000Z' })
  const read = await call(app, 'GET', `/v1/claims/${response.body.claim.id}`)
  t.same(response.body.claim, read.body, 'the answer holds the new claim as a GET reads it')
  t.equal(response.headers['claim-etag'], read.headers.etag, "Claim-ETag is the claim's ETag")
  t.equal(response.headers.etag, (await call(app, 'GET', response.headers.location as string)).headers.etag)
  t.not(response.headers['claim-etag'], response.headers.etag)
  const edited = await call(
    app,
    'PATCH',
    `/v1/claims/${response.body.claim.id}`,
    { quote: 'yet another lie' },
    { 'if-match': response.headers['claim-etag'] as string },
  )
  t.equal(edited.status, 200, 'the new claim is edited with If-Match at once')
  const stale = await call(
    app,
    'PATCH',
    `/v1/claims/${response.body.claim.id}`,
    { quote: 'a lie' },
    { 'if-match': response.headers['claim-etag'] as string },
  )
  t.equal(stale.status, 412, 'and the tag is stale after the edit')

  const claimsBefore = await countRows(database, 'claims')
  const linksBefore = await countRows(database, 'links')
  const versionsBefore = await countRows(database, 'claim_versions')
  const refused = [
    [{ claim: { ...counter, party: 'az-mod' } }, 422, ['body:claim.party'], 'a counter-claim by the same party'],
    [{ claim: { ...counter, party: 'nobody' } }, 422, ['body:claim.party'], 'a counter-claim by no party'],
    [{ claim: { ...counter, text: '' } }, 400, ['body:claim.text'], 'an invalid counter-claim'],
    [{ claim: counter, claim_id: claim.id }, 400, ['body:claim', 'body:claim_id'], 'both forms at once'],
    [{ note: 'only a note' }, 400, ['body:claim', 'body:claim_id'], 'neither form'],
    [{ claim_id: randomUUID() }, 422, ['body:claim_id'], 'an unknown rebutting claim'],
  ] as const
  for (const [body, status, fields, what] of refused) {
    const answer = await call(app, 'POST', `/v1/claims/${claim.id}/rebuttals`, body)
    t.equal(answer.status, status, what)
    t.same(fieldsOf(answer.body), fields, `${what}: the problem names the field`)
  }
  // The document says the same as the service: exactly one of the two forms (its oneOf).
  const rebuttalSchema = { $ref: '#/components/schemas/CreateRebuttal' }
  t.same(schemaViolations(rebuttalSchema, { claim: counter, note: 'Denial.' }), [], 'a counter-claim fits the document')
  t.same(schemaViolations(rebuttalSchema, { claim_id: claim.id }), [], 'an existing claim too')
  t.match(schemaViolations(rebuttalSchema, { claim: counter, claim_id: claim.id }), [/must match exactly one schema/])
  t.match(schemaViolations(rebuttalSchema, { note: 'only a note' }), [/must have required property/])
  const toNothing = await call(app, 'POST', `/v1/claims/${randomUUID()}/rebuttals`, { claim: counter })
  t.equal(toNothing.status, 404, 'rebutting a claim that does not exist')
  t.equal(toNothing.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(await countRows(database, 'claims'), claimsBefore, 'no claim was left behind')
  t.equal(await countRows(database, 'links'), linksBefore, 'no link either')
  t.equal(await countRows(database, 'claim_versions'), versionsBefore, 'nor a version')
})

t.test('GET /v1/claims/{id}/rebuttals lists the rebutting claims with their link, latest stated first', async (t) => {
  const claim = await claimBy('az-mod')
  const rebuttals: Claim[] = []
  for (const party of ['am-mfa', 'tr-mfa', 'ru-mfa']) {
    const rebuttal = await claimBy(party)
    rebuttals.push(rebuttal)
    await link(rebuttal.id, claim.id, 'rebuts', `by ${party}`)
  }
  await link((await claimBy('tr-mfa')).id, claim.id, 'supports')
  const first = await call(app, 'GET', `/v1/claims/${claim.id}/rebuttals?limit=2`)
  t.equal(first.status, 200)
  t.same(
    first.body.data.map((r: Rebuttal) => r.claim.id),
    [rebuttals[2]!.id, rebuttals[1]!.id],
  )
  t.match(first.body.data[0], { link: { note: 'by ru-mfa', kind: 'rebuts' }, claim: { party: { slug: 'ru-mfa' } } })
  const second = await call(app, 'GET', `/v1/claims/${claim.id}/rebuttals?limit=2&cursor=${first.body.next_cursor}`)
  t.same(
    second.body.data.map((r: Rebuttal) => r.claim.id),
    [rebuttals[0]!.id],
  )
  t.equal(second.body.next_cursor, null)
  const foreign = await call(app, 'GET', `/v1/claims?sort=-stated_at&cursor=${first.body.next_cursor}`)
  t.equal(foreign.status, 400, 'the claim list refuses the cursor of a rebuttals list')
  t.equal((await call(app, 'GET', `/v1/claims/${randomUUID()}/rebuttals`)).status, 404)
})

t.test('a repeat is an echo by another party: counted apart, never as a support or a rebuttal', async (t) => {
  const claim = await claimBy('az-mod')
  const echo = await claimBy('tr-mfa')
  const second = await claimBy('ru-mfa')
  const repeat = await link(echo.id, claim.id, 'repeats', 'Says the same, a day later.')
  t.match(repeat, { kind: 'repeats', from_party: { slug: 'tr-mfa' }, to_party: { slug: 'az-mod' } })
  await link(second.id, claim.id, 'repeats')
  t.match(await getClaim(claim.id), {
    repeat_count: 2,
    support_count: 0,
    rebuttal_count: 0,
    status: 'unchallenged',
    last_response_at: null,
    first_response_at: null,
  })
  const listed = await call(app, 'GET', `/v1/links?claim=${claim.id}&kind=repeats`)
  t.same(listed.body.data.map((l: Link) => l.from_claim_id).sort(), [echo.id, second.id].sort(), 'the kind filter')
  t.same((await call(app, 'GET', `/v1/links?claim=${claim.id}&kind=supports`)).body.data, [])
  const thread = await call(app, 'GET', `/v1/claims/${claim.id}/thread`)
  t.equal(thread.status, 200)
  t.match(JSON.stringify(thread.body), /"kind":"repeats"/, 'the thread shows the repeats with their kind')

  const linksBefore = await countRows(database, 'links')
  const sameParty = await claimBy('az-mod')
  const refused = [
    [{ from_claim_id: sameParty.id, to_claim_id: claim.id }, 422, /same party: a repeat is an echo by another party/],
    [{ from_claim_id: claim.id, to_claim_id: claim.id }, 422, /cannot answer itself/],
    [{ from_claim_id: echo.id, to_claim_id: claim.id }, 409, /already repeats/],
    [{ from_claim_id: echo.id, to_claim_id: claim.id, kind: 'supports' }, 409, /already repeats/],
    [{ from_claim_id: claim.id, to_claim_id: echo.id }, 422, /out-of-time-order|before/],
  ] as const
  for (const [body, status, detail] of refused) {
    const answer = await call(app, 'POST', '/v1/links', { kind: 'repeats', ...body })
    t.equal(answer.status, status, String(detail))
    t.equal(answer.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(answer.body.detail ?? JSON.stringify(answer.body.errors), detail)
  }
  const samePartyAnswer = await call(app, 'POST', '/v1/links', {
    from_claim_id: sameParty.id,
    to_claim_id: claim.id,
    kind: 'repeats',
  })
  t.same(fieldsOf(samePartyAnswer.body), ['body:from_claim_id'], 'the problem names the repeating claim')
  t.equal(await countRows(database, 'links'), linksBefore, 'nothing refused was written')

  t.equal((await call(app, 'DELETE', `/v1/claims/${echo.id}`)).status, 204)
  t.match(await getClaim(claim.id), { repeat_count: 1, support_count: 0 }, 'a deleted repeating claim counts no more')
  const again = await claimBy('tr-mfa')
  const made = await link(again.id, claim.id, 'repeats')
  t.match(await getClaim(claim.id), { repeat_count: 2 }, 'a new echo of the same party counts again')
  t.equal((await call(app, 'DELETE', `/v1/links/${made.id}`)).status, 204)
  t.match(await getClaim(claim.id), { repeat_count: 1 }, 'deleting the link takes it out of the count')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('an aspect goes on rebuttals and supports only, and a measure with the figure aspect only', async (t) => {
  const claim = await claimBy('az-mod')
  const answer = await claimBy('am-mfa')
  const linksBefore = await countRows(database, 'links')
  const versionsBefore = await countRows(database, 'link_versions')
  const refused = [
    [{ kind: 'rebuts', aspect: 'cause', measure: 'deaths' }, 422, 'body:measure', 'a measure of no figure'],
    [{ kind: 'rebuts', measure: 'deaths' }, 422, 'body:measure', 'a measure without an aspect'],
    [{ kind: 'repeats', aspect: 'figure' }, 422, 'body:aspect', 'an aspect on a repeat'],
    [{ kind: 'rebuts', aspect: 'tone' }, 400, 'body:aspect', 'an unknown aspect'],
    [{ kind: 'rebuts', aspect: 'figure', measure: 'Deaths!' }, 400, 'body:measure', 'a measure that is no slug'],
  ] as const
  for (const [fields, status, field, what] of refused) {
    const response = await call(app, 'POST', '/v1/links', {
      from_claim_id: answer.id,
      to_claim_id: claim.id,
      ...fields,
    })
    t.equal(response.status, status, what)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.same(fieldsOf(response.body), [field], `${what}: the problem names the field`)
  }
  const asRebuttal = await call(app, 'POST', `/v1/claims/${claim.id}/rebuttals`, {
    claim_id: answer.id,
    measure: 'deaths',
  })
  t.equal(asRebuttal.status, 422, 'the rebuttals route holds to the same rule')
  t.same(fieldsOf(asRebuttal.body), ['body:measure'])
  t.equal(await countRows(database, 'links'), linksBefore, 'nothing refused was written')
  t.equal(await countRows(database, 'link_versions'), versionsBefore)

  const support = await link(answer.id, claim.id, 'supports')
  const patched = await call(app, 'PATCH', `/v1/links/${support.id}`, { aspect: 'figure', measure: 'injured' })
  t.match(patched.body, { aspect: 'figure', measure: 'injured', version: 2 }, 'a support may name an aspect too')
  t.same((await getClaim(claim.id)).disputed_aspects, [], 'a support disputes nothing')
  const badPatch = await call(app, 'PATCH', `/v1/links/${support.id}`, { aspect: 'cause', measure: 'injured' })
  t.equal(badPatch.status, 422)
  t.same(fieldsOf(badPatch.body), ['body:measure'])
  const counter = await call(app, 'POST', `/v1/claims/${claim.id}/rebuttals`, {
    claim: { party: 'tr-mfa', text: 'The attack came a day later.', stated_at: '2020-12-01' },
    aspect: 'timing',
  })
  t.equal(counter.status, 201, counter.raw)
  t.match(counter.body.link, { aspect: 'timing', measure: null })
  t.same((await getClaim(claim.id)).disputed_aspects, ['timing'])
  const rebuttals = await call(app, 'GET', `/v1/claims/${claim.id}/rebuttals`)
  t.match(rebuttals.body.data[0].link, { aspect: 'timing' })
})

t.test('after all of the above, the stored derived state equals a fresh count of the live links', async (t) => {
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})
