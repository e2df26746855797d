import t from 'tap'
import { parse } from 'csv-parse/sync'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import type { Claim, Dispute, Link, Matrix, Page, Problem, Thread } from './helpers/wire-types.js'

/**
 * Corrections and retractions: a later claim of the same party (or of a party on its side chain) that corrects or
 * withdraws an earlier one, and the standing they give it.
 */
const { app, database } = await buildTestApp(t)

// A state, its health ministry, the ministry's spokesperson, and its foreign ministry; and another side's army.
const parties: Array<[string, string | undefined]> = [
  ['ps', undefined],
  ['moh', 'ps'],
  ['moh-spokes', 'moh'],
  ['mofa', 'ps'],
  ['army', undefined],
]
for (const [slug, side] of parties) {
  const response = await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'official', side })
  if (response.status !== 201) throw new Error(`creating party ${slug}: ${response.raw}`)
}

let hour = 0
/** A claim by `party`, each stated an hour after the one before. */
async function claimBy(party: string, text = `A claim by ${party}`): Promise<Claim> {
  hour++
  const stated_at = new Date(Date.UTC(2023, 9, 17, hour)).toISOString()
  const response = await call(app, 'POST', '/v1/claims', { party, text, stated_at, tags: ['hospital'] })
  if (response.status !== 201) throw new Error(`creating a claim: ${response.raw}`)
  return response.body
}

const getClaim = async (id: string): Promise<Claim> => (await call(app, 'GET', `/v1/claims/${id}`)).body

const linkBody = (from: string, to: string, kind: string) => ({ from_claim_id: from, to_claim_id: to, kind })

async function link(from: string, to: string, kind: string): Promise<Link> {
  const response = await call(app, 'POST', '/v1/links', linkBody(from, to, kind))
  if (response.status !== 201) throw new Error(`linking: ${response.status} ${response.raw}`)
  return response.body
}

const ids = (claims: Claim[]) => claims.map((claim) => claim.id)

t.test('a correction: the earlier claim is corrected, keeps its words, and counts no response', async (t) => {
  const first = await claimBy('moh', 'At least 500 people were killed.')
  const revised = await claimBy('moh', '471 people were killed.')
  t.match(first, { standing: 'current', corrected_by: [], retracted_by: [], corrects: [], retracts: [] })

  const made = await call(app, 'POST', '/v1/links', linkBody(revised.id, first.id, 'corrects'))
  t.equal(made.status, 201, made.raw)
  t.match(made.body, { kind: 'corrects', from_party: { slug: 'moh' }, to_party: { slug: 'moh' } })

  const corrected = await getClaim(first.id)
  t.match(corrected, {
    text: 'At least 500 people were killed.',
    standing: 'corrected',
    corrected_by: [revised.id],
    retracted_by: [],
    status: 'unchallenged',
    rebuttal_count: 0,
    support_count: 0,
    last_response_at: null,
    version: first.version,
    updated_at: first.updated_at,
  })
  t.match(await getClaim(revised.id), { standing: 'current', corrects: [first.id], retracts: [] })
  const history = await call(app, 'GET', `/v1/claims/${first.id}/history`)
  t.equal(history.body.data.length, 1, 'a correction is no edit: the history holds the one version')

  const listed = await call(app, 'GET', '/v1/claims?party=moh&standing=corrected')
  t.same(ids(listed.body.data), [first.id], 'the list filters by standing')
  const current = await call(app, 'GET', '/v1/claims?party=moh&standing=current')
  t.same(ids(current.body.data), [revised.id])
  const links = await call(app, 'GET', `/v1/links?kind=corrects&claim=${first.id}`)
  t.same(
    links.body.data.map((l: Link) => l.id),
    [made.body.id],
    'links list by the new kind',
  )

  const thread = await call(app, 'GET', `/v1/claims/${first.id}/thread`)
  t.equal(thread.status, 200)
  t.match((thread.body as Thread).responses, [{ depth: 1, link: { kind: 'corrects' }, claim: { id: revised.id } }])

  await call(app, 'DELETE', `/v1/links/${made.body.id}`)
  t.match(await getClaim(first.id), { standing: 'current', corrected_by: [] }, 'removing the link restores it')
  t.match(await getClaim(revised.id), { corrects: [] })
})

t.test('a retraction wins over a correction; a rebuttal of a retracted claim stays on record', async (t) => {
  const claim = await claimBy('moh', 'An Israeli air strike hit the hospital.')
  const rebuttal = await claimBy('army', 'A misfired rocket hit the hospital.')
  const rebutted = await link(rebuttal.id, claim.id, 'rebuts')
  const correction = await claimBy('moh-spokes', 'The strike hit the car park, not the hospital.')
  await link(correction.id, claim.id, 'corrects')
  t.match(await getClaim(claim.id), { standing: 'corrected', corrected_by: [correction.id] })
  const retraction = await claimBy('moh', 'We withdraw the statement on the strike.')
  const retracted = await link(retraction.id, claim.id, 'retracts')

  const read = await getClaim(claim.id)
  t.match(read, {
    standing: 'retracted',
    corrected_by: [correction.id],
    retracted_by: [retraction.id],
    status: 'disputed',
    rebuttal_count: 1,
    support_count: 0,
    last_response_at: rebuttal.stated_at,
  })
  t.same(
    read.rebutted_by.map((party) => party.slug),
    ['army'],
  )
  t.match(await getClaim(retraction.id), { retracts: [claim.id], corrects: [] })

  const disputes = await call(app, 'GET', '/v1/disputes?party=moh&standing=retracted')
  t.equal(disputes.status, 200)
  const [dispute] = (disputes.body as Page<Dispute>).data
  t.match(dispute, { claim: { id: claim.id, standing: 'retracted' } })
  t.same(
    dispute?.latest_rebuttals.map((r) => r.claim.id),
    [rebuttal.id],
    'its rebuttals are the rebuttals alone',
  )
  const none = await call(app, 'GET', '/v1/disputes?party=moh&standing=current&standing=corrected')
  t.notOk(
    (none.body as Page<Dispute>).data.some((d) => d.claim.id === claim.id),
    'and other standings leave it out',
  )
  const both = await call(app, 'GET', '/v1/claims?party=moh&standing=retracted&standing=corrected')
  t.ok(ids(both.body.data).includes(claim.id), 'the standing filter repeats')
  const matrix = (await call(app, 'GET', '/v1/disputes/matrix')).body as Matrix
  t.same(
    matrix.cells.map((cell) => `${cell.responder.slug}>${cell.claimant.slug}:${cell.count}`),
    ['army>moh:1'],
    'the matrix counts the rebuttal only',
  )
  const rebuttals = await call(app, 'GET', `/v1/claims/${claim.id}/rebuttals`)
  t.same(
    rebuttals.body.data.map((r: { link: Link }) => r.link.id),
    [rebutted.id],
  )

  await call(app, 'DELETE', `/v1/links/${retracted.id}`)
  t.match(await getClaim(claim.id), { standing: 'corrected', retracted_by: [] }, 'without the retraction: corrected')
  const deleted = await call(app, 'DELETE', `/v1/claims/${correction.id}`)
  t.equal(deleted.status, 204)
  t.match(
    await getClaim(claim.id),
    { standing: 'current', corrected_by: [], rebuttal_count: 1, version: claim.version },
    'deleting the correcting claim restores it',
  )
})

t.test('who may correct or retract, and when', async (t) => {
  const ministry = await claimBy('moh')
  const problemOf = async (from: string, to: string, kind: string) => {
    const response = await call(app, 'POST', '/v1/links', linkBody(from, to, kind))
    return { status: response.status, body: response.body as Problem }
  }

  const sibling = await claimBy('mofa')
  const bySibling = await problemOf(sibling.id, ministry.id, 'corrects')
  t.equal(bySibling.status, 422, 'two parties that only speak for the same state are not on one chain')
  t.match(bySibling.body, { code: 'unprocessable-entity', detail: /\bmofa\b.*\bmoh\b/ })
  t.same(
    bySibling.body.errors?.map((e) => `${e.in}:${e.field}`),
    ['body:from_claim_id'],
  )
  const other = await claimBy('army')
  const byOther = await problemOf(other.id, ministry.id, 'retracts')
  t.equal(byOther.status, 422)
  t.match(byOther.body.detail, /\barmy\b.*\bmoh\b.*retracts only/)

  const earlier = await claimBy('moh')
  const later = await claimBy('moh')
  const backwards = await problemOf(earlier.id, later.id, 'corrects')
  t.equal(backwards.status, 422, 'a correction is not stated before what it corrects')
  t.match(backwards.body.detail, new RegExp(`${earlier.stated_at}.*${later.stated_at}`))

  t.equal((await problemOf(later.id, earlier.id, 'rebuts')).status, 422, 'a party still cannot rebut itself')
  t.equal((await problemOf(later.id, earlier.id, 'supports')).status, 422, 'nor support itself')
  t.equal((await problemOf(later.id, later.id, 'retracts')).status, 422, 'nor retract a claim by itself')

  const spokesperson = await claimBy('moh-spokes')
  const upwards = await problemOf(spokesperson.id, ministry.id, 'retracts')
  t.equal(upwards.status, 201, 'who speaks for the party withdraws its claim')
  const downwards = await problemOf((await claimBy('ps')).id, spokesperson.id, 'corrects')
  t.equal(downwards.status, 201, 'the party its speaker speaks for, directly or not, corrects the speaker')

  await link(later.id, earlier.id, 'corrects')
  const twice = await problemOf(later.id, earlier.id, 'retracts')
  t.equal(twice.status, 409, 'one live link between two claims, of any kind')
  const sameTime = await claimBy('moh')
  const response = await call(app, 'PATCH', `/v1/claims/${sameTime.id}`, { stated_at: ministry.stated_at })
  t.equal(response.status, 200)
  t.equal((await problemOf(sameTime.id, ministry.id, 'corrects')).status, 201, 'a claim stated at the same time may')
})

t.test('an edit of stated_at keeps a correction after what it corrects', async (t) => {
  const earlier = await claimBy('moh')
  const later = await claimBy('moh')
  await link(later.id, earlier.id, 'retracts')
  const tooEarly = await call(app, 'PATCH', `/v1/claims/${later.id}`, { stated_at: '2023-10-01T00:00:00Z' })
  t.equal(tooEarly.status, 422, 'the retraction may not move before the claim it retracts')
  t.match(tooEarly.body, {
    code: 'unprocessable-entity',
    detail: new RegExp(`2023-10-01T00:00:00.000Z.*${earlier.stated_at}.*retracts`),
    errors: [{ in: 'body', field: 'stated_at' }],
  })
  const tooLate = await call(app, 'PATCH', `/v1/claims/${earlier.id}`, { stated_at: '2023-12-01T00:00:00Z' })
  t.equal(tooLate.status, 422, 'nor the retracted claim after its retraction')
  t.match(tooLate.body.detail, new RegExp(`${later.stated_at}.*2023-12-01T00:00:00.000Z`))
  t.match(await getClaim(later.id), { stated_at: later.stated_at, version: later.version }, 'nothing changed')
  const fine = await call(app, 'PATCH', `/v1/claims/${earlier.id}`, { stated_at: later.stated_at })
  t.equal(fine.status, 200, 'the same time is allowed')
  t.match(await getClaim(earlier.id), { standing: 'retracted', retracted_by: [later.id] })
})

t.test('import lines carry corrections and retractions', async (t) => {
  const lines = [
    { type: 'claim', ref: 'figure', party: 'moh', text: 'At least 500 dead.', stated_at: '2023-10-17T18:00:00Z' },
    { type: 'claim', ref: 'revised', party: 'moh', text: '471 dead.', stated_at: '2023-10-18T09:00:00Z' },
    { type: 'claim', ref: 'withdrawn', party: 'moh', text: 'We withdraw it.', stated_at: '2023-10-19T09:00:00Z' },
    { type: 'claim', ref: 'other', party: 'mofa', text: 'No.', stated_at: '2023-10-19T10:00:00Z' },
    { type: 'link', ref: 'fix', kind: 'corrects', from: { ref: 'revised' }, to: { ref: 'figure' } },
    { type: 'link', ref: 'pull', kind: 'retracts', from: { ref: 'withdrawn' }, to: { ref: 'revised' } },
    { type: 'link', ref: 'bad', kind: 'corrects', from: { ref: 'other' }, to: { ref: 'figure' } },
  ]
  const body = lines.map((line) => JSON.stringify(line)).join('\n')
  const response = await callRaw(app, 'POST', '/v1/import', body, { 'content-type': 'application/x-ndjson' })
  t.equal(response.status, 422, 'the import refuses the correction by a party off the chain, and applies nothing')
  t.match(response.body, { line_errors: [{ line: 7, ref: 'bad', problem: { detail: /of mofa.*of moh/ } }] })
  const applied = await callRaw(
    app,
    'POST',
    '/v1/import',
    lines
      .slice(0, 6)
      .map((l) => JSON.stringify(l))
      .join('\n'),
    {
      'content-type': 'application/x-ndjson',
    },
  )
  t.equal(applied.status, 200, applied.raw)
  const claims = (await call(app, 'GET', '/v1/claims?party=moh&q=dead&sort=stated_at')).body.data as Claim[]
  t.same(
    claims.map((claim) => [claim.text, claim.standing]),
    [
      ['At least 500 dead.', 'corrected'],
      ['471 dead.', 'retracted'],
    ],
  )
})

t.test('exports carry standing: a CSV column, and the NDJSON claim', async (t) => {
  const csv = await callRaw(app, 'GET', '/v1/claims?party=moh&format=csv')
  t.equal(csv.status, 200)
  const rows = parse(csv.raw, { columns: true }) as Array<Record<string, string>>
  const claims = (await call(app, 'GET', '/v1/claims?party=moh&limit=200')).body.data as Claim[]
  t.same(
    rows.map((row) => [row.id, row.standing, row.corrected_by, row.retracted_by]),
    claims.map((claim) => [claim.id, claim.standing, claim.corrected_by.join(';'), claim.retracted_by.join(';')]),
  )
  t.ok(
    rows.some((row) => row.standing === 'retracted'),
    'retracted claims among them',
  )
  const ndjson = await callRaw(app, 'GET', '/v1/disputes?format=ndjson')
  const disputes = ndjson.raw
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Dispute)
  t.ok(disputes.length > 0)
  t.ok(disputes.every((dispute) => typeof dispute.claim.standing === 'string'))
})

t.test('after all of the above, the stored derived state equals a fresh count of the live links', async (t) => {
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test(
  'a correction dated to the day of the claim it corrects is not before it, and no edit may make it so',
  async (t) => {
    const original = await claimBy('moh')
    const day = original.stated_at.slice(0, 10)
    const response = await call(app, 'POST', '/v1/claims', {
      party: 'moh',
      text: 'The figure, revised.',
      stated_at: day,
    })
    t.equal(response.status, 201, response.raw)
    const revised = response.body as Claim
    t.equal(revised.stated_at_precision, 'day')
    t.ok(revised.stated_at < original.stated_at, 'its instant, the start of the day, is earlier than the original')
    await link(revised.id, original.id, 'corrects')
    t.equal(
      (await call(app, 'GET', `/v1/claims/${original.id}`)).body.standing,
      'corrected',
      'the same day is not before',
    )
    const dayBefore = new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10)
    const moved = await call(app, 'PATCH', `/v1/claims/${revised.id}`, { stated_at: dayBefore })
    t.equal(moved.status, 422, 'the day before is')
    t.match(moved.body.detail, new RegExp(`${dayBefore} \\(day\\).*corrects`))
  },
)
