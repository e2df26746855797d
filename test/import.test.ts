import { connect, type AddressInfo } from 'node:net'
import { Readable, Writable } from 'node:stream'
import { sql } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'
import { databaseUrl, openTestDatabase, serverUrl } from './helpers/test-database.js'
import type {
  ClaimVersion,
  ImportLineError,
  ImportRejected,
  ImportResult,
  ReviewVersion,
  Tombstone,
} from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)
const NDJSON = { 'content-type': 'application/x-ndjson' }

const ndjson = (lines: unknown[]) => lines.map((line) => JSON.stringify(line)).join('\n') + '\n'

function post(lines: unknown[] | string, mode?: string) {
  const url = mode === undefined ? '/v1/import' : `/v1/import?mode=${mode}`
  return callRaw(app, 'POST', url, typeof lines === 'string' ? lines : ndjson(lines), NDJSON)
}

/** Rows of every table an import writes, counted straight from the database. */
async function rowCounts() {
  const { rows } = await sql<Record<string, string>>`
    SELECT (SELECT count(*) FROM parties) AS parties, (SELECT count(*) FROM claims) AS claims,
           (SELECT count(*) FROM claim_versions) AS claim_versions, (SELECT count(*) FROM links) AS links,
           (SELECT count(*) FROM reviews) AS reviews, (SELECT count(*) FROM review_versions) AS review_versions,
           (SELECT count(*) FROM import_refs) AS import_refs,
           (SELECT coalesce(sum(rebuttals), 0) FROM rebuttal_pairs) AS pair_rebuttals`.execute(database.db)
  return rows[0]
}

/**
 * Imports `lines` all-or-nothing (a 422 naming the `expected` line errors, not a row written), then best-effort (a
 * 200 naming the same ones): what the best-effort import answered.
 */
async function rejectedThenKept(t: Test, lines: unknown[], expected: unknown[][]) {
  const errorsOf = (body: ImportResult | ImportRejected) =>
    body.line_errors.map((e) => [e.line, e.ref, e.problem.code, e.problem.errors?.[0]?.field])
  const before = await rowCounts()
  const rejected = await post(lines)
  t.equal(rejected.status, 422, rejected.raw)
  t.same(errorsOf(rejected.body), expected)
  t.same(await rowCounts(), before, 'all-or-nothing: not a row written')
  const kept = await post(lines, 'best-effort')
  t.equal(kept.status, 200, kept.raw)
  t.same(errorsOf(kept.body), expected, 'the same lines, by the same problems')
  return kept
}

const noDerivedErrors = { claims: [], links: [], pairs: [], copies: [] }
const counts = (created: number, updated: number, unchanged: number, deleted = 0) => ({
  created,
  updated,
  unchanged,
  deleted,
})

const firstImport = [
  { type: 'party', ref: 'azerbaijan', slug: 'azerbaijan', name: 'Azerbaijan', kind: 'state', country: 'AZ' },
  { type: 'party', ref: 'az-mod', slug: 'az-mod', name: 'AZ MoD', kind: 'military', side: { ref: 'azerbaijan' } },
  { type: 'party', ref: 'am-mfa', slug: 'am-mfa', name: 'AM MFA', kind: 'official', description: 'Ministry' },
  { type: 'party', ref: 'checker', slug: 'checker', name: 'Checker', kind: 'fact-checker' },
  {
    type: 'claim',
    ref: 'pipeline',
    party: { ref: 'az-mod' },
    text: 'A missile was fired at the pipeline.',
    stated_at: '2020-10-06T12:00:00Z',
    tags: ['pipeline'],
    sources: [{ url: 'https://example.org/1', title: 'Report', published_at: '2020-10-06T13:00:00+01:00' }],
  },
  '',
  {
    type: 'claim',
    ref: 'lie',
    party: 'am-mfa',
    text: 'Another lie.',
    quote: 'This is another lie.',
    stated_at: '2020-10-06T17:00:00Z',
  },
  { type: 'link', ref: 'lie-rebuts-pipeline', kind: 'rebuts', from: { ref: 'lie' }, to: { ref: 'pipeline' } },
  {
    type: 'review',
    ref: 'check-pipeline',
    claim: { ref: 'pipeline' },
    reviewer: { ref: 'checker' },
    verdict: 'unproven',
    rating_label: 'Unproven',
    published_at: '2020-10-09T00:00:00Z',
  },
]
const body = (lines: unknown[]) => lines.map((line) => (line === '' ? '' : JSON.stringify(line))).join('\n') + '\n'

t.test('an import creates records by refs, and later lines refer to earlier ones', async (t) => {
  const response = await post(body(firstImport))
  t.equal(response.status, 200, response.raw)
  t.same(response.body, {
    mode: 'all-or-nothing',
    lines: 9,
    counts: {
      parties: counts(4, 0, 0),
      events: counts(0, 0, 0),
      claims: counts(2, 0, 0),
      links: counts(1, 0, 0),
      reviews: counts(1, 0, 0),
    },
    line_errors: [],
    line_error_count: 0,
  })
  const ministry = await call(app, 'GET', '/v1/parties/az-mod')
  t.equal(ministry.body.side.slug, 'azerbaijan', 'a side given by ref')
  const claims = await call(app, 'GET', '/v1/claims?party=az-mod')
  t.match(claims.body.data[0], {
    text: 'A missile was fired at the pipeline.',
    status: 'disputed',
    rebuttal_count: 1,
    rebutted_by: [{ slug: 'am-mfa' }],
    sources: [{ published_at: '2020-10-06T12:00:00.000Z' }],
  })
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('importing the same lines again changes nothing', async (t) => {
  const before = await rowCounts()
  const { rows: versions } = await sql<{ v: string }>`SELECT sum(version) AS v FROM claims`.execute(database.db)
  const response = await post(body(firstImport))
  t.equal(response.status, 200)
  t.same(response.body.counts, {
    parties: counts(0, 0, 4),
    events: counts(0, 0, 0),
    claims: counts(0, 0, 2),
    links: counts(0, 0, 1),
    reviews: counts(0, 0, 1),
  })
  t.same(await rowCounts(), before, 'not a row more')
  const { rows: after } = await sql<{ v: string }>`SELECT sum(version) AS v FROM claims`.execute(database.db)
  t.same(after, versions, 'no claim got a new version')
})

t.test('each API key has its own refs: another key importing the same lines makes its own records', async (t) => {
  const lines = [
    { type: 'party', ref: 'own-space', slug: 'own-space-a', name: 'Own space', kind: 'media' },
    { type: 'claim', ref: 'own-claim', party: { ref: 'own-space' }, text: 'Mine.', stated_at: '2020-10-06T12:00:00Z' },
  ]
  const first = await post(body(lines))
  t.equal(first.status, 200, first.raw)
  const other = await callRaw(app, 'POST', '/v1/import', ndjson([{ ...lines[0], slug: 'own-space-b' }, lines[1]]), {
    ...NDJSON,
    ...bearer(keys.otherWrite),
  })
  t.equal(other.status, 200, other.raw)
  t.same(other.body.counts.parties, counts(1, 0, 0), 'the same ref under another key is another party')
  t.same(other.body.counts.claims, counts(1, 0, 0))
  const again = await post(body(lines))
  t.same(again.body.counts.claims, counts(0, 0, 1), "the first key's refs still name its own records")
  const { rows } = await sql<{ n: number }>`
    SELECT count(DISTINCT namespace)::int AS n FROM import_refs WHERE ref = 'own-claim'`.execute(database.db)
  t.equal(rows[0]?.n, 2)
})

t.test('changed lines update their records, and what a line leaves out is cleared', async (t) => {
  const claimId = (await call(app, 'GET', '/v1/claims?party=am-mfa')).body.data[0].id
  const changed = [
    { type: 'party', ref: 'am-mfa', slug: 'am-mfa', name: 'Armenian Foreign Ministry', kind: 'official' },
    { type: 'claim', ref: 'lie', party: 'am-mfa', text: 'Another lie, again.', stated_at: '2020-10-06T18:00:00Z' },
    {
      type: 'link',
      ref: 'lie-rebuts-pipeline',
      kind: 'rebuts',
      from: claimId,
      to: { ref: 'pipeline' },
      note: 'Calls it a lie.',
    },
    {
      type: 'review',
      ref: 'check-pipeline',
      claim: { ref: 'pipeline' },
      reviewer: 'checker',
      verdict: 'false',
      rating_label: 'False',
      rating_value: 1,
      best_rating: 5,
      worst_rating: 1,
      published_at: '2020-10-09T00:00:00Z',
    },
  ]
  const response = await post(changed)
  t.equal(response.status, 200, response.raw)
  t.same(response.body.counts, {
    parties: counts(0, 1, 0),
    events: counts(0, 0, 0),
    claims: counts(0, 1, 0),
    links: counts(0, 1, 0),
    reviews: counts(0, 1, 0),
  })
  const party = await call(app, 'GET', '/v1/parties/am-mfa')
  t.match(party.body, { name: 'Armenian Foreign Ministry', description: null, version: 2 })
  const claim = await call(app, 'GET', `/v1/claims/${claimId}`)
  t.match(claim.body, { text: 'Another lie, again.', quote: null, version: 2 })
  const history = await call(app, 'GET', `/v1/claims/${claimId}/history`)
  t.same(
    history.body.data.map((v: ClaimVersion) => v.version),
    [2, 1],
    'the claim history grows',
  )
  t.same(
    history.body.data.map((v: ClaimVersion) => v.recorded_by?.name),
    ['test writer', 'test writer'],
    'each version names the importing key',
  )
  const pipeline = (await call(app, 'GET', '/v1/claims?party=az-mod')).body.data[0]
  t.equal(pipeline.last_response_at, '2020-10-06T18:00:00.000Z', 'the answered claim is recounted')
  const links = await call(app, 'GET', `/v1/links?claim=${claimId}`)
  t.match(links.body.data[0], { note: 'Calls it a lie.', version: 2 })
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('a new ref adopts the live party of its slug, and the link already there between two claims', async (t) => {
  const created = await call(app, 'POST', '/v1/parties', { slug: 'tr-mfa', name: 'TR MFA', kind: 'official' })
  t.equal(created.status, 201)
  const before = await rowCounts()
  const response = await post([
    { type: 'party', ref: 'turkey-mfa', slug: 'tr-mfa', name: 'TR MFA', kind: 'official' },
    { type: 'link', ref: 'same-link-new-ref', kind: 'rebuts', from: { ref: 'lie' }, to: { ref: 'pipeline' } },
    {
      type: 'claim',
      ref: 'tr-claim',
      party: { ref: 'turkey-mfa' },
      text: 'Turkey says so.',
      stated_at: '2020-10-07T00:00:00Z',
    },
  ])
  t.equal(response.status, 200, response.raw)
  t.same(response.body.counts.parties, counts(0, 0, 1))
  t.same(response.body.counts.links, counts(0, 1, 0), 'the adopted link takes the line’s note (none)')
  const after = await rowCounts()
  t.equal(Number(after?.parties), Number(before?.parties), 'no second party with the slug')
  t.equal(Number(after?.links), Number(before?.links), 'no second link')
  t.equal(Number(after?.import_refs), Number(before?.import_refs) + 3)
})

t.test('in all-or-nothing mode bad lines are reported by number, and nothing is written', async (t) => {
  const before = await rowCounts()
  const response = await post(
    [
      { type: 'party', ref: 'new-party', slug: 'new-party', name: 'New', kind: 'media' },
      '{"type": "claim", "ref": "broken"',
      { type: 'claim', ref: 'no-text', party: 'new-party', stated_at: 'yesterday', colour: 'red' },
      { type: 'claim', ref: 'orphan', party: { ref: 'nobody' }, text: 'x', stated_at: '2020-10-07T00:00:00Z' },
      { type: 'claim', ref: 'good', party: { ref: 'new-party' }, text: 'Good', stated_at: '2020-10-07T00:00:00Z' },
      { type: 'claim', ref: 'good-2', party: 'new-party', text: 'Good too', stated_at: '2020-10-07T01:00:00Z' },
      { type: 'link', ref: 'same-party', kind: 'rebuts', from: { ref: 'good' }, to: { ref: 'good-2' } },
      { type: 'link', ref: 'other-kind', kind: 'supports', from: { ref: 'lie' }, to: { ref: 'pipeline' } },
      { type: 'link', ref: 'lie-rebuts-pipeline', kind: 'supports', from: { ref: 'lie' }, to: { ref: 'pipeline' } },
      { type: 'comment', ref: 'what' },
      [1, 2],
    ]
      .map((line) => (typeof line === 'string' ? line : JSON.stringify(line)))
      .join('\n'),
  )
  t.equal(response.status, 422, response.raw)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.match(response.body, {
    type: 'urn:counterclaim:problem:import-rejected',
    code: 'import-rejected',
    status: 422,
    mode: 'all-or-nothing',
    lines: 11,
    line_error_count: 8,
  })
  const errors: ImportLineError[] = response.body.line_errors
  t.same(
    errors.map((e) => [e.line, e.ref, e.problem.status, e.problem.code]),
    [
      [2, null, 400, 'malformed-request'],
      [3, 'no-text', 400, 'validation-failed'],
      [4, 'orphan', 422, 'unprocessable-entity'],
      [7, 'same-party', 422, 'unprocessable-entity'],
      [8, 'other-kind', 409, 'conflict'],
      [9, 'lie-rebuts-pipeline', 422, 'unprocessable-entity'],
      [10, 'what', 400, 'validation-failed'],
      [11, null, 400, 'validation-failed'],
    ],
  )
  t.same(
    errors[1]?.problem.errors?.map((e) => e.field).sort(),
    ['colour', 'stated_at', 'text'],
    'every bad field of a line is named',
  )
  t.same(
    errors[2]?.problem.errors?.map((e) => e.field),
    ['party.ref'],
  )
  t.match(errors[5]?.problem.detail, /cannot change/)
  t.equal(errors.length, 8)
  t.same(await rowCounts(), before, 'not a row written, not even by the good lines')
  t.equal((await call(app, 'GET', '/v1/parties/new-party')).status, 404)
})

t.test('in best-effort mode the good lines are kept and the bad ones reported', async (t) => {
  const before = await rowCounts()
  const response = await post(
    [
      { type: 'party', ref: 'kept', slug: 'kept-party', name: 'Kept', kind: 'media' },
      { type: 'claim', ref: 'kept-claim', party: { ref: 'kept' }, text: 'Kept', stated_at: '2020-10-07T00:00:00Z' },
      { type: 'claim', ref: 'lost-claim', party: { ref: 'missing' }, text: 'x', stated_at: '2020-10-07T00:00:00Z' },
      { type: 'link', ref: 'kept-link', kind: 'supports', from: { ref: 'kept-claim' }, to: { ref: 'pipeline' } },
    ],
    'best-effort',
  )
  t.equal(response.status, 200, response.raw)
  t.match(response.body, {
    mode: 'best-effort',
    lines: 4,
    counts: { parties: counts(1, 0, 0), claims: counts(1, 0, 0), links: counts(1, 0, 0) },
    line_error_count: 1,
    line_errors: [{ line: 3, ref: 'lost-claim', problem: { status: 422 } }],
  })
  const after = await rowCounts()
  t.equal(Number(after?.parties), Number(before?.parties) + 1)
  t.equal(Number(after?.claims), Number(before?.claims) + 1)
  t.equal(Number(after?.links), Number(before?.links) + 1)
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('a ref of a deleted record is a bad line: an import does not bring it back', async (t) => {
  const claimId = (await call(app, 'GET', '/v1/claims?party=kept-party')).body.data[0].id
  t.equal((await call(app, 'DELETE', `/v1/claims/${claimId}`)).status, 204)
  const response = await post([
    { type: 'claim', ref: 'kept-claim', party: 'kept-party', text: 'Kept', stated_at: '2020-10-07T00:00:00Z' },
  ])
  t.equal(response.status, 422)
  t.match(response.body.line_errors, [
    {
      line: 1,
      ref: 'kept-claim',
      problem: {
        status: 410,
        code: 'gone',
        errors: [{ field: 'ref', message: /names a claim that was deleted/ }],
        detail: /deleted/,
        tombstone: { kind: 'claim', id: claimId, deleted_by: { name: String } },
      },
    },
  ])
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

const deletionRecords = [
  { type: 'party', ref: 'del-a', slug: 'del-a', name: 'Del A', kind: 'state' },
  { type: 'party', ref: 'del-b', slug: 'del-b', name: 'Del B', kind: 'official' },
  { type: 'party', ref: 'del-checker', slug: 'del-checker', name: 'Del Checker', kind: 'fact-checker' },
  { type: 'party', ref: 'del-lonely', slug: 'del-lonely', name: 'Del Lonely', kind: 'media' },
  { type: 'claim', ref: 'del-said', party: { ref: 'del-a' }, text: 'Said.', stated_at: '2021-05-01T10:00:00Z' },
  { type: 'claim', ref: 'del-denied', party: { ref: 'del-b' }, text: 'Denied.', stated_at: '2021-05-01T11:00:00Z' },
  { type: 'claim', ref: 'del-backed', party: { ref: 'del-b' }, text: 'Backed.', stated_at: '2021-05-01T12:00:00Z' },
  { type: 'link', ref: 'del-rebuts', kind: 'rebuts', from: { ref: 'del-denied' }, to: { ref: 'del-said' } },
  { type: 'link', ref: 'del-supports', kind: 'supports', from: { ref: 'del-backed' }, to: { ref: 'del-said' } },
  {
    type: 'review',
    ref: 'del-check',
    claim: { ref: 'del-said' },
    reviewer: { ref: 'del-checker' },
    verdict: 'false',
    rating_label: 'False',
    published_at: '2021-05-02T00:00:00Z',
  },
]
const deletions = [
  { type: 'deletion', of: 'link', ref: 'del-supports', deleted_at: '2021-06-01T08:00:00Z' },
  { type: 'deletion', of: 'review', ref: 'del-check', deleted_at: '2021-06-02T08:00:00.250+02:00' },
  { type: 'deletion', of: 'claim', ref: 'del-denied', deleted_at: '2021-06-03T08:00:00Z' },
  { type: 'deletion', of: 'party', ref: 'del-lonely', deleted_at: '2021-06-04T08:00:00Z' },
]

t.test('a deletion line deletes the record its ref names as DELETE does, at the time it gives', async (t) => {
  const response = await post([...deletionRecords, ...deletions])
  t.equal(response.status, 200, response.raw)
  t.same(response.body.counts, {
    parties: counts(4, 0, 0, 1),
    events: counts(0, 0, 0),
    claims: counts(3, 0, 0, 1),
    links: counts(2, 0, 0, 1),
    reviews: counts(1, 0, 0, 1),
  })
  const said = (await call(app, 'GET', '/v1/claims?party=del-a')).body.data[0]
  t.match(said, { text: 'Said.', status: 'unchallenged', rebuttal_count: 0, support_count: 0, review_count: 0 })

  // Each deleted record answers 410 with the time its line gave, and the importing key as its deleter.
  const tombstones = (await call(app, 'GET', '/v1/tombstones?deleted_after=2021-06&deleted_before=2021-07')).body
  // Newest deleted first; the claim and its rebuttal share their time, and their ids order them.
  t.same(
    tombstones.data
      .map((d: Tombstone) => [d.deleted_at, d.kind, d.label])
      .sort()
      .reverse(),
    [
      ['2021-06-04T08:00:00.000Z', 'party', 'Del Lonely (del-lonely)'],
      ['2021-06-03T08:00:00.000Z', 'link', "del-b's claim rebuts del-a's claim"],
      ['2021-06-03T08:00:00.000Z', 'claim', 'Del B: Denied.'],
      ['2021-06-02T06:00:00.250Z', 'review', `Del Checker's review of claim ${said.id}`],
      ['2021-06-01T08:00:00.000Z', 'link', "del-b's claim supports del-a's claim"],
    ],
    'the rebuttal of the deleted claim went with it, at its time',
  )
  t.same(
    tombstones.data.map((d: Tombstone) => d.deleted_at),
    tombstones.data
      .map((d: Tombstone) => d.deleted_at)
      .sort()
      .reverse(),
  )
  for (const tombstone of tombstones.data) {
    const path = { party: 'parties', claim: 'claims', review: 'reviews', link: 'links' }[tombstone.kind as 'claim']
    const gone = await call(app, 'GET', `/v1/${path}/${tombstone.id}`)
    t.equal(gone.status, 410, `${tombstone.kind} ${tombstone.label}`)
    t.same(gone.body.tombstone, tombstone)
    t.equal(tombstone.deleted_by?.name, 'test writer')
  }
  const claimId = tombstones.data.find((d: Tombstone) => d.kind === 'claim').id
  const history = await call(app, 'GET', `/v1/claims/${claimId}/history`)
  t.match(history.body.data[0], { version: 2, deleted: { deleted_at: '2021-06-03T08:00:00.000Z' } })
  const matrix = await call(app, 'GET', '/v1/disputes/matrix?kind=rebuts')
  t.notOk(
    matrix.body.cells.some((cell: { claimant: { slug: string } }) => cell.claimant.slug === 'del-a'),
    'the matrix no longer counts the deleted rebuttal',
  )
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('deletion lines: already deleted is unchanged; a bad kind, ref or time is a bad line', async (t) => {
  const before = await rowCounts()
  const again = await post(deletions)
  t.equal(again.status, 200, again.raw)
  t.same(again.body.counts, {
    parties: counts(0, 0, 1),
    events: counts(0, 0, 0),
    claims: counts(0, 0, 1),
    links: counts(0, 0, 1),
    reviews: counts(0, 0, 1),
  })
  // The rebuttal went with its claim: a line deleting it is unchanged too, and keeps the claim's time.
  const withClaim = await post([
    { type: 'deletion', of: 'link', ref: 'del-rebuts', deleted_at: '2021-06-09T00:00:00Z' },
  ])
  t.same(withClaim.body.counts.links, counts(0, 0, 1))
  const kept = await call(app, 'GET', '/v1/tombstones?kind=link&deleted_after=2021-06-03&deleted_before=2021-06-04')
  t.equal(kept.body.data.length, 1, 'the link keeps the time it was deleted with its claim')
  t.same(await rowCounts(), before)

  const response = await post([
    { type: 'deletion', of: 'claim', ref: 'del-backed', deleted_at: '2021-06-05T00:00:00Z' },
    { type: 'deletion', of: 'comment', ref: 'del-said' },
    { type: 'deletion', of: 'claim', ref: 'no-such-ref' },
    { type: 'deletion', of: 'party', ref: 'del-said' },
    { type: 'deletion', of: 'claim', ref: 'del-said', deleted_at: '2999-01-01T00:00:00Z' },
    { type: 'deletion', of: 'claim', ref: 'del-said', deleted_at: 'yesterday' },
    { type: 'deletion', of: 'party', ref: 'del-a' },
    { type: 'deletion', of: 'claim', ref: 'del-said', note: 'why' },
  ])
  t.equal(response.status, 422, response.raw)
  const errors: ImportLineError[] = response.body.line_errors
  t.same(
    errors.map((e) => [e.line, e.ref, e.problem.status, e.problem.errors?.map((f) => f.field) ?? e.problem.code]),
    [
      [2, 'del-said', 400, ['of']],
      [3, 'no-such-ref', 422, ['ref']],
      [4, 'del-said', 422, ['ref']],
      [5, 'del-said', 422, ['deleted_at']],
      [6, 'del-said', 400, ['deleted_at']],
      [7, 'del-a', 409, 'conflict'],
      [8, 'del-said', 400, ['note']],
    ],
  )
  t.match(errors[1]?.problem.detail, /no claim has the import ref no-such-ref/)
  t.match(errors[5]?.problem.detail, /still has 1 claim/)
  const backed = await call(app, 'GET', '/v1/claims?party=del-b')
  t.same(
    backed.body.data.map((claim: { text: string }) => claim.text),
    ['Backed.'],
    'all or nothing: the good deletion line was rolled back with the rest',
  )
  t.same(await rowCounts(), before, 'not a row changed')
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('other bodies: empty, wrong type, too large', async (t) => {
  const empty = await post('')
  t.equal(empty.status, 200)
  t.match(empty.body, { lines: 0, line_error_count: 0 })

  for (const type of ['application/json', 'text/plain', 'text/csv']) {
    const response = await callRaw(app, 'POST', '/v1/import', '{}', { 'content-type': type })
    t.equal(response.status, 415, type)
    t.equal(response.body?.code, 'unsupported-media-type')
  }
  const bare = await callRaw(app, 'POST', '/v1/import')
  t.equal(bare.status, 415, 'no body type at all')

  const badMode = await post([], 'sometimes')
  t.equal(badMode.status, 400)

  const long = JSON.stringify({ type: 'party', ref: 'long', slug: 'long', name: 'x'.repeat(1024 * 1024 + 10) })
  const tooLong = await post(`{"type":"party"}\n${long}\n`)
  t.equal(tooLong.status, 413)
  t.match(tooLong.body, { code: 'payload-too-large', detail: /^line 2 / })

  const small = await buildTestApp(t, { IMPORT_BODY_LIMIT_BYTES: '2048' })
  const lines = Array.from({ length: 40 }, (_, i) => ({
    type: 'party',
    ref: `p${i}`,
    slug: `party-${i}`,
    name: `Party ${i}`,
    kind: 'media',
  }))
  const tooLarge = await callRaw(small.app, 'POST', '/v1/import', ndjson(lines), NDJSON)
  t.equal(tooLarge.status, 413)
  t.equal(tooLarge.body?.code, 'payload-too-large')
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM parties`.execute(small.database.db)
  t.equal(Number(rows[0]?.n), 0, 'nothing of it was written')
})

t.test('a large import streams through, and the derived state is right afterwards', async (t) => {
  // Each line is a few round trips: the embedded database, one query at a time in WebAssembly, gets fewer.
  const CLAIMS = serverUrl === undefined ? 1_000 : 6_000
  const PARTIES = 100
  const LINKS = CLAIMS - 100
  function* generate() {
    for (let p = 0; p < PARTIES; p++) {
      yield JSON.stringify({ type: 'party', ref: `bulk-p${p}`, slug: `bulk-${p}`, name: `Bulk ${p}`, kind: 'media' })
    }
    for (let c = 0; c < CLAIMS; c++) {
      const stated_at = new Date(Date.UTC(2021, 0, 1) + c * 60_000).toISOString()
      yield JSON.stringify({
        type: 'claim',
        ref: `bulk-c${c}`,
        party: { ref: `bulk-p${c % PARTIES}` },
        text: `Bulk claim ${c}`,
        stated_at,
        tags: [`t${c % 7}`],
      })
    }
    for (let l = 0; l < LINKS; l++) {
      // Each claim answers the one before it, a claim of the previous party.
      yield JSON.stringify({
        type: 'link',
        ref: `bulk-l${l}`,
        kind: l % 3 === 0 ? 'supports' : 'rebuts',
        from: { ref: `bulk-c${l + 1}` },
        to: { ref: `bulk-c${l}` },
      })
    }
  }
  const stream = Readable.from(
    (function* () {
      for (const line of generate()) yield `${line}\n`
    })(),
  )
  const response = await app.inject({
    method: 'POST',
    url: '/v1/import',
    headers: { ...NDJSON, authorization: `Bearer ${keys.write}` },
    payload: stream,
  })
  t.equal(response.statusCode, 200, response.body.slice(0, 500))
  const result = response.json()
  t.equal(result.lines, PARTIES + CLAIMS + LINKS)
  t.same(result.counts.claims, counts(CLAIMS, 0, 0))
  t.same(result.counts.links, counts(LINKS, 0, 0))
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test(
  'lines of one batch: a link names a claim made just before, and the claim reads as the API makes it',
  async (t) => {
    const claimBody = {
      text: 'Batch claim, with every field.',
      quote: 'Said so.',
      stated_at: '2021-03-01T10:00:00+02:00',
      event_at: '2021-02-28T23:59:59.9999Z',
      location: { name: 'Somewhere', lat: 40.123456789, lon: 46.987654321 },
      tags: ['batch', 'first'],
      sources: [{ url: 'https://example.org/b', published_at: '2021-03-01T11:00:00+01:00', title: 'T' }],
    }
    const response = await post([
      { type: 'party', ref: 'batch-a', slug: 'batch-a', name: 'Batch A', kind: 'media' },
      { type: 'party', ref: 'batch-b', slug: 'batch-b', name: 'Batch B', kind: 'media' },
      { type: 'party', ref: 'batch-checker', slug: 'batch-checker', name: 'Batch Checker', kind: 'fact-checker' },
      { type: 'claim', ref: 'batch-c1', party: { ref: 'batch-a' }, ...claimBody },
      { type: 'claim', ref: 'batch-c2', party: 'batch-b', text: 'Answer.', stated_at: '2021-03-02T00:00:00Z' },
      { type: 'claim', ref: 'batch-c3', party: 'batch-b', text: 'Support.', stated_at: '2021-02-28T00:00:00Z' },
      { type: 'link', ref: 'batch-l1', kind: 'rebuts', from: { ref: 'batch-c2' }, to: { ref: 'batch-c1' } },
      { type: 'link', ref: 'batch-l2', kind: 'supports', from: { ref: 'batch-c1' }, to: { ref: 'batch-c3' } },
      {
        type: 'review',
        ref: 'batch-r1',
        claim: { ref: 'batch-c1' },
        reviewer: 'batch-checker',
        verdict: 'mixed',
        rating_label: 'Half',
        rating_value: 2.5,
        best_rating: 5,
        worst_rating: 0,
        published_at: '2021-03-04T00:00:00Z',
      },
    ])
    t.equal(response.status, 200, response.raw)
    t.same(response.body.counts, {
      parties: counts(3, 0, 0),
      events: counts(0, 0, 0),
      claims: counts(3, 0, 0),
      links: counts(2, 0, 0),
      reviews: counts(1, 0, 0),
    })
    t.same(await derivedStateErrors(database.db), noDerivedErrors)

    const imported = (await call(app, 'GET', '/v1/claims?party=batch-a')).body.data[0]
    t.match(imported, { status: 'disputed', rebuttal_count: 1, review_count: 1, version: 1 })
    const direct = await call(app, 'POST', '/v1/claims', { party: 'batch-a', ...claimBody })
    t.equal(direct.status, 201)
    const importedHistory = await call(app, 'GET', `/v1/claims/${imported.id}/history`)
    const directHistory = await call(app, 'GET', `/v1/claims/${direct.body.id}/history`)
    t.same(
      importedHistory.body.data.map((v: ClaimVersion) => v.version),
      [1],
      'exactly one version',
    )
    t.same(
      importedHistory.body.data[0].claim,
      directHistory.body.data[0].claim,
      'the first version as the API keeps it',
    )
    t.match(importedHistory.body.data[0].recorded_by, { id: String, name: String }, 'the importing key')
    t.same(
      importedHistory.body.data[0].recorded_by,
      directHistory.body.data[0].recorded_by,
      'the first version names the importing key, as a direct create names its own',
    )
    const {
      id: _id,
      created_at: _c,
      updated_at: _u,
      ...importedRead
    } = (await call(app, 'GET', `/v1/claims/${imported.id}`)).body
    const { id: _did, created_at: _dc, updated_at: _du, ...directRead } = direct.body
    t.same(
      {
        ...importedRead,
        status: 'x',
        rebuttal_count: 0,
        rebutted_by: [],
        disputed_aspects: [],
        last_response_at: null,
        first_response_at: null,
        disputed_since: null,
        response_time_seconds: null,
        review_count: 0,
        reviews: [],
      },
      { ...directRead, status: 'x' },
      'the claim reads as the API made it',
    )
    t.equal((await call(app, 'DELETE', `/v1/claims/${direct.body.id}`)).status, 204)

    const review = (await call(app, 'GET', `/v1/claims/${imported.id}/reviews`)).body.data[0]
    const reviewHistory = await call(app, 'GET', `/v1/reviews/${review.id}/history`)
    t.same(
      reviewHistory.body.data.map((v: ReviewVersion) => [v.version, v.review.rating_value]),
      [[1, 2.5]],
    )
  },
)

t.test('a ref repeated in one batch: the second line updates what the first made', async (t) => {
  const response = await post([
    { type: 'claim', ref: 'twice', party: 'batch-a', text: 'First wording.', stated_at: '2021-04-01T00:00:00Z' },
    { type: 'claim', ref: 'twice', party: 'batch-a', text: 'Second wording.', stated_at: '2021-04-01T00:00:00Z' },
    { type: 'link', ref: 'twice-l', kind: 'rebuts', from: { ref: 'twice' }, to: { ref: 'batch-c2' } },
    { type: 'link', ref: 'twice-l', kind: 'rebuts', from: { ref: 'twice' }, to: { ref: 'batch-c2' }, note: 'N' },
    { type: 'link', ref: 'twice-same', kind: 'rebuts', from: { ref: 'twice' }, to: { ref: 'batch-c2' }, note: 'N' },
    { type: 'link', ref: 'twice-other', kind: 'supports', from: { ref: 'twice' }, to: { ref: 'batch-c2' } },
  ])
  t.equal(response.status, 422, response.raw)
  t.same(
    response.body.line_errors.map((e: ImportLineError) => [e.line, e.ref, e.problem.code]),
    [[6, 'twice-other', 'conflict']],
    'a second kind of link between the same claims, in the same batch, conflicts',
  )
  const kept = await post(
    [
      { type: 'claim', ref: 'twice', party: 'batch-a', text: 'First wording.', stated_at: '2021-04-01T00:00:00Z' },
      { type: 'claim', ref: 'twice', party: 'batch-a', text: 'Second wording.', stated_at: '2021-04-01T00:00:00Z' },
      { type: 'link', ref: 'twice-l', kind: 'rebuts', from: { ref: 'twice' }, to: { ref: 'batch-c2' } },
      { type: 'link', ref: 'twice-l', kind: 'rebuts', from: { ref: 'twice' }, to: { ref: 'batch-c2' }, note: 'N' },
      { type: 'link', ref: 'twice-same', kind: 'rebuts', from: { ref: 'twice' }, to: { ref: 'batch-c2' }, note: 'N' },
    ],
    'best-effort',
  )
  t.equal(kept.status, 200, kept.raw)
  t.same(kept.body.counts.claims, counts(1, 1, 0))
  t.same(kept.body.counts.links, counts(1, 1, 1), 'made, its note set, then adopted under a new ref as it is')
  const claim = (await call(app, 'GET', '/v1/claims?party=batch-a&q=wording')).body.data[0]
  t.match(claim, { text: 'Second wording.', version: 2, rebuttal_count: 0 })
  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.same(
    history.body.data.map((v: ClaimVersion) => [v.version, v.claim.text]),
    [
      [2, 'Second wording.'],
      [1, 'First wording.'],
    ],
  )
  const links = (await call(app, 'GET', `/v1/links?claim=${claim.id}`)).body.data
  t.match(links, [{ kind: 'rebuts', note: 'N', version: 2 }])
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('claim lines by version carry a history, and a review line the version it rated', async (t) => {
  const v = (version: number, text: string) => ({
    type: 'claim',
    ref: 'versioned',
    version,
    party: 'batch-a',
    text,
    stated_at: '2021-05-01T00:00:00Z',
  })
  const pinned = {
    type: 'review',
    ref: 'versioned-r',
    claim: { ref: 'versioned' },
    reviewer: 'checker',
    verdict: 'misleading',
    rating_label: 'Misleading',
    claim_version: 1,
    claim_summary: 'Five hundred dead',
    published_at: '2021-05-02T00:00:00Z',
  }
  const lines = [v(1, '500 dead.'), v(2, '471 dead.'), v(3, '471 dead.'), pinned]
  const first = await post(lines)
  t.equal(first.status, 200, first.raw)
  t.same(first.body.counts.claims, counts(1, 2, 0), 'a line naming the next version makes it, even unchanged')
  t.same(first.body.counts.reviews, counts(1, 0, 0))
  const again = await post(lines)
  t.same(again.body.counts.claims, counts(0, 0, 3), 'the versions it has already are unchanged')
  t.same(again.body.counts.reviews, counts(0, 0, 1))

  const claim = (await call(app, 'GET', '/v1/claims?party=batch-a&q=dead')).body.data[0]
  t.match(claim, { text: '471 dead.', version: 3 })
  t.match(claim.reviews, [{ claim_version: 1, rates_current_wording: false, verdict: 'misleading' }])
  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.same(
    history.body.data.map((version: ClaimVersion) => [version.version, version.claim.text]),
    [
      [3, '471 dead.'],
      [2, '471 dead.'],
      [1, '500 dead.'],
    ],
  )

  const bad = await post(
    [v(5, 'A version too far.'), { ...v(2, 'Not yet made.'), ref: 'never-made' }, { ...pinned, claim_version: 4 }],
    'best-effort',
  )
  t.same(
    bad.body.line_errors.map((e: ImportLineError) => [e.line, e.problem.code, e.problem.errors?.[0]?.field]),
    [
      [1, 'unprocessable-entity', 'version'],
      [2, 'unprocessable-entity', 'version'],
      [3, 'unprocessable-entity', 'claim_version'],
    ],
  )
  const repinned = await post([{ ...pinned, claim_version: 3 }])
  t.same(repinned.body.counts.reviews, counts(0, 1, 0))
  const after = (await call(app, 'GET', `/v1/claims/${claim.id}`)).body
  t.match(after.reviews, [{ claim_version: 3, rates_current_wording: true }])
  const left = await post([{ ...pinned, claim_version: undefined }])
  t.same(left.body.counts.reviews, counts(0, 0, 1), 'a review line without claim_version keeps the pin')
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('a bad line in the middle of a batch, and the link rules checked in a batch', async (t) => {
  const lines = [
    { type: 'claim', ref: 'mid-1', party: 'batch-a', text: 'One.', stated_at: '2021-05-01T00:00:00Z' },
    { type: 'claim', ref: 'mid-2', party: 'nobody-at-all', text: 'Two.', stated_at: '2021-05-01T00:00:00Z' },
    { type: 'claim', ref: 'mid-3', party: 'batch-b', text: 'Three.', stated_at: '2021-05-02T00:00:00Z' },
    { type: 'claim', ref: 'mid-4', party: 'batch-b', text: 'Four.', stated_at: '2021-05-03T00:00:00Z' },
    { type: 'link', ref: 'mid-l-same-party', kind: 'rebuts', from: { ref: 'mid-3' }, to: { ref: 'mid-4' } },
    { type: 'link', ref: 'mid-l-self', kind: 'rebuts', from: { ref: 'mid-3' }, to: { ref: 'mid-3' } },
    { type: 'link', ref: 'mid-l-good', kind: 'rebuts', from: { ref: 'mid-3' }, to: { ref: 'mid-1' } },
    { type: 'link', ref: 'mid-l-no-claim', kind: 'rebuts', from: { ref: 'mid-2' }, to: { ref: 'mid-1' } },
    { type: 'link', ref: 'mid-l-dup', kind: 'supports', from: { ref: 'mid-3' }, to: { ref: 'mid-1' } },
    { type: 'link', ref: 'mid-l-existing', kind: 'supports', from: { ref: 'batch-c2' }, to: { ref: 'batch-c1' } },
    { type: 'link', ref: 'mid-l-good-2', kind: 'supports', from: { ref: 'mid-4' }, to: { ref: 'mid-1' } },
    {
      type: 'review',
      ref: 'mid-r-not-checker',
      claim: { ref: 'mid-1' },
      reviewer: 'batch-b',
      verdict: 'false',
      rating_label: 'False',
      published_at: '2021-05-04T00:00:00Z',
    },
    {
      type: 'review',
      ref: 'mid-r',
      claim: { ref: 'mid-1' },
      reviewer: 'batch-checker',
      verdict: 'false',
      rating_label: 'False',
      published_at: '2021-05-04T00:00:00Z',
    },
    {
      type: 'review',
      ref: 'mid-r-again',
      claim: { ref: 'mid-1' },
      reviewer: { ref: 'batch-checker' },
      verdict: 'true',
      rating_label: 'True',
      published_at: '2021-05-05T00:00:00Z',
    },
  ]
  const expected = [
    [2, 'mid-2', 'unprocessable-entity', 'party'],
    [5, 'mid-l-same-party', 'unprocessable-entity', 'from'],
    [6, 'mid-l-self', 'unprocessable-entity', 'from'],
    [8, 'mid-l-no-claim', 'unprocessable-entity', 'from.ref'],
    [9, 'mid-l-dup', 'conflict', undefined],
    [10, 'mid-l-existing', 'conflict', undefined],
    [12, 'mid-r-not-checker', 'unprocessable-entity', 'reviewer'],
  ]
  const kept = await rejectedThenKept(t, lines, expected)
  t.same(kept.body.counts, {
    parties: counts(0, 0, 0),
    events: counts(0, 0, 0),
    claims: counts(3, 0, 0),
    links: counts(2, 0, 0),
    reviews: counts(1, 1, 0),
  })
  const one = (await call(app, 'GET', '/v1/claims?party=batch-a&q=one')).body.data[0]
  t.match(one, { text: 'One.', rebuttal_count: 1, support_count: 1, review_count: 1, reviews: [{ verdict: 'true' }] })
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('links between claims of one run are applied after it, each as it would be in its place', async (t) => {
  const claim = (ref: string, party: string, day: number) => ({
    type: 'claim',
    ref,
    party,
    text: `Interleaved ${ref}.`,
    stated_at: `2021-06-0${day}T00:00:00Z`,
  })
  const link = (ref: string, kind: string, from: string, to: string) => ({
    type: 'link',
    ref,
    kind,
    from: { ref: from },
    to: { ref: to },
  })
  const lines = [
    claim('il-1', 'batch-a', 1),
    claim('il-2', 'batch-b', 2),
    link('il-l1', 'rebuts', 'il-2', 'il-1'),
    // Names a claim that a later line makes: unknown here, as it would be line by line.
    link('il-l-forward', 'rebuts', 'il-3', 'il-1'),
    claim('il-3', 'batch-b', 3),
    claim('il-bad', 'nobody-at-all', 3),
    link('il-l-bad', 'rebuts', 'il-bad', 'il-1'),
    claim('il-4', 'batch-a', 4),
    claim('il-5', 'batch-b', 5),
    link('il-l2', 'rebuts', 'il-5', 'il-4'),
    link('il-l2', 'rebuts', 'il-5', 'il-4'),
    claim('il-6', 'batch-a', 6),
    link('il-l3', 'supports', 'il-6', 'il-5'),
    {
      type: 'review',
      ref: 'il-r',
      claim: { ref: 'il-6' },
      reviewer: 'batch-checker',
      verdict: 'false',
      rating_label: 'False',
      published_at: '2021-06-07T00:00:00Z',
    },
  ]
  const expected = [
    [4, 'il-l-forward', 'unprocessable-entity', 'from.ref'],
    [6, 'il-bad', 'unprocessable-entity', 'party'],
    [7, 'il-l-bad', 'unprocessable-entity', 'from.ref'],
  ]
  const kept = await rejectedThenKept(t, lines, expected)
  t.same(kept.body.counts, {
    parties: counts(0, 0, 0),
    events: counts(0, 0, 0),
    claims: counts(6, 0, 0),
    links: counts(3, 0, 1),
    reviews: counts(1, 0, 0),
  })
  const { rows } = await sql<{ text: string; rebuttal_count: number; support_count: number }>`
    SELECT text, rebuttal_count, support_count FROM claims
    WHERE text IN ('Interleaved il-4.', 'Interleaved il-5.') AND deleted_at IS NULL ORDER BY text`.execute(database.db)
  t.same(rows, [
    { text: 'Interleaved il-4.', rebuttal_count: 1, support_count: 0 },
    { text: 'Interleaved il-5.', rebuttal_count: 0, support_count: 1 },
  ])
  t.same(await derivedStateErrors(database.db), noDerivedErrors)
})

t.test('the body is spooled to a temporary file, removed afterwards whatever happened', async (t) => {
  const { mkdtemp, readdir, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  // A directory of this test's own, so that imports run elsewhere at the same time are not counted.
  const own = await mkdtemp(join(tmpdir(), 'import-test-'))
  const previous = process.env.TMPDIR
  process.env.TMPDIR = own
  t.teardown(async () => {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    await rm(own, { recursive: true, force: true })
  })
  t.equal((await post([{ type: 'party', ref: 'spool', slug: 'spool', name: 'Spool', kind: 'media' }])).status, 200)
  t.equal((await post(`${'x'.repeat(1024 * 1024 + 1)}\n`)).status, 413)
  t.equal((await post('{"type": "party"}\n')).status, 422)
  t.same(await readdir(own), [], 'no file left behind')
})

t.test('times finer than a millisecond compare as stored: the same lines again are unchanged', async (t) => {
  const lines = [
    { type: 'party', ref: 'fine-party', slug: 'fine-party', name: 'Fine', kind: 'media' },
    { type: 'party', ref: 'fine-checker', slug: 'fine-checker', name: 'Fine Checker', kind: 'fact-checker' },
    {
      type: 'claim',
      ref: 'fine-claim',
      party: { ref: 'fine-party' },
      text: 'Said at a fine time.',
      stated_at: '2020-10-06T12:00:00.1239Z',
      event_at: '2020-10-05T12:00:00.0005Z',
      sources: [{ url: 'https://example.org/fine', published_at: '2020-10-06T12:30:00.5559+00:00' }],
    },
    {
      type: 'review',
      ref: 'fine-review',
      claim: { ref: 'fine-claim' },
      reviewer: { ref: 'fine-checker' },
      verdict: 'unproven',
      rating_label: 'Unproven',
      published_at: '2020-10-09T00:00:00.9999Z',
    },
  ]
  t.equal((await post(lines)).status, 200)
  const again = await post(lines)
  t.equal(again.status, 200, again.raw)
  t.same(again.body.counts, {
    parties: counts(0, 0, 2),
    events: counts(0, 0, 0),
    claims: counts(0, 0, 1),
    links: counts(0, 0, 0),
    reviews: counts(0, 0, 1),
  })
  const claim = (await call(app, 'GET', '/v1/claims?party=fine-party')).body.data[0]
  t.match(claim, { stated_at: '2020-10-06T12:00:00.123Z', version: 1 })
  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.equal(history.body.data.length, 1, 'one version')
  const review = (await call(app, 'GET', `/v1/claims/${claim.id}/reviews`)).body.data[0]
  t.match(review, { published_at: '2020-10-09T00:00:00.999Z', version: 1 })
})

const oneSession = 'the embedded database has one session: no other transaction can hold a lock meanwhile'

/** A session of its own on this file's database, beside the app's pool, to hold locks while an import runs. */
async function otherSession(t: { teardown(fn: () => unknown): void }): Promise<pg.Client> {
  const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl!, rows[0]!.name) })
  await client.connect()
  t.teardown(() => client.end())
  return client
}

/** Resolves once another session of this database is waiting for a lock. */
async function lockAwaited(client: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ waiting: boolean }>(
      `SELECT exists (SELECT FROM pg_stat_activity WHERE datname = current_database()
         AND pid <> pg_backend_pid() AND wait_event_type = 'Lock') AS waiting`,
    )
    if (rows[0]?.waiting) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function claimIdsOfRefs(...names: string[]): Promise<string[]> {
  const { rows } = await sql<{ ref: string; record_id: string }>`
    SELECT ref, record_id FROM import_refs WHERE kind = 'claim' AND ref = ANY(${names}::text[])`.execute(database.db)
  return names.map((name) => rows.find((row) => row.ref === name)!.record_id)
}

t.test(
  "a line is compared with its claim under the claim's lock",
  { skip: serverUrl ? false : oneSession },
  async (t) => {
    t.equal(
      (
        await post([
          { type: 'party', ref: 'race-party', slug: 'race-party', name: 'Race', kind: 'media' },
          { type: 'claim', ref: 'race-claim', party: 'race-party', text: 'Before.', stated_at: '2021-06-01T00:00:00Z' },
        ])
      ).status,
      200,
    )
    const [id] = await claimIdsOfRefs('race-claim')
    const session = await otherSession(t)
    // An edit under way when the import reaches the claim: it sets a quote, which the line (having none) clears.
    await session.query('BEGIN')
    await session.query(`UPDATE claims SET quote = 'Edited meanwhile.' WHERE id = $1`, [id])
    const importing = post([
      { type: 'claim', ref: 'race-claim', party: 'race-party', text: 'After.', stated_at: '2021-06-01T00:00:00Z' },
    ])
    await lockAwaited(session)
    await session.query('COMMIT')
    const response = await importing
    t.equal(response.status, 200, response.raw)
    t.same(response.body.counts.claims, counts(0, 1, 0))
    const claim = await call(app, 'GET', `/v1/claims/${id}`)
    t.match(claim.body, { text: 'After.', quote: null })
  },
)

t.test(
  'an import chosen as a deadlock victim is applied again, whole',
  { skip: serverUrl ? false : oneSession },
  async (t) => {
    const response = await post([
      { type: 'party', ref: 'dl-a', slug: 'dl-a', name: 'Deadlock A', kind: 'media' },
      { type: 'party', ref: 'dl-b', slug: 'dl-b', name: 'Deadlock B', kind: 'media' },
      { type: 'claim', ref: 'dl-1', party: 'dl-a', text: 'One.', stated_at: '2021-07-01T00:00:00Z' },
      { type: 'claim', ref: 'dl-2', party: 'dl-a', text: 'Two.', stated_at: '2021-07-02T00:00:00Z' },
      { type: 'claim', ref: 'dl-answer', party: 'dl-b', text: 'Answer.', stated_at: '2021-07-03T00:00:00Z' },
    ])
    t.equal(response.status, 200, response.raw)
    // Claim "first" comes first in id order; the import locks "second" (by linking it) before it reaches "first".
    const ids = await claimIdsOfRefs('dl-1', 'dl-2')
    const [first, second] = (['dl-1', 'dl-2'] as const)
      .map((ref, i) => ({ ref, id: ids[i]! }))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
    const session = await otherSession(t)
    await session.query('BEGIN')
    await session.query('SELECT FROM claims WHERE id = $1 FOR UPDATE', [first!.id])
    const importing = post([
      { type: 'link', ref: 'dl-link', kind: 'rebuts', from: { ref: 'dl-answer' }, to: { ref: second!.ref } },
      { type: 'claim', ref: first!.ref, party: 'dl-a', text: 'Changed.', stated_at: '2021-07-01T00:00:00Z' },
    ])
    await lockAwaited(session)
    // The import waits for "first", held here; this waits for "second", held by the import. The import, waiting
    // longer, is the first to check for a deadlock: PostgreSQL rolls it back, and this lock is granted.
    await session.query('SELECT FROM claims WHERE id = $1 FOR UPDATE', [second!.id])
    await session.query('COMMIT')
    const imported = await importing
    t.equal(imported.status, 200, imported.raw)
    t.same(imported.body.counts, {
      parties: counts(0, 0, 0),
      events: counts(0, 0, 0),
      claims: counts(0, 1, 0),
      links: counts(1, 0, 0),
      reviews: counts(0, 0, 0),
    })
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM import_refs WHERE ref = 'dl-link'`.execute(database.db)
    t.equal(rows[0]?.n, 1, 'the link made once')
    t.match((await call(app, 'GET', `/v1/claims/${second!.id}`)).body, { rebuttal_count: 1 })
    t.match((await call(app, 'GET', `/v1/claims/${first!.id}`)).body, { text: 'Changed.', version: 2 })
    t.same(await derivedStateErrors(database.db), noDerivedErrors)
  },
)

t.test('over a socket: a 413 midway closes the connection, and a client gone midway is no failure', async (t) => {
  const logs: Array<{ level: number; reqId?: string }> = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line))
      callback()
    },
  })
  const server = await buildApp({
    config: { ...loadConfig({ IMPORT_BODY_LIMIT_BYTES: '4096' }), migrateOnStart: false },
    database: await openTestDatabase(),
    logger: { level: 'info', stream },
  })
  t.teardown(() => server.close())
  await server.listen({ port: 0, host: '127.0.0.1' })
  const { port } = server.server.address() as AddressInfo
  const { token } = await createApiKey(server.db, { name: 'socket writer', scopes: ['write'] })
  const line = `${JSON.stringify({ type: 'party', ref: 'sock', slug: 'sock', name: 'Sock', kind: 'media' })}\n`
  const head = (length: number, id: string) =>
    `POST /v1/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n` +
    `Authorization: Bearer ${token}\r\nX-Request-Id: ${id}\r\nContent-Length: ${length}\r\n\r\n`

  const tooLarge = connect(port, '127.0.0.1')
  let answer = ''
  tooLarge.on('data', (chunk) => (answer += chunk))
  const ended = new Promise<boolean>((resolve) => {
    tooLarge.once('end', () => resolve(true))
    tooLarge.once('close', () => resolve(true))
    setTimeout(() => resolve(false), 3000).unref()
  })
  tooLarge.write(head(10_000_000, 'too-large') + line.repeat(200))
  t.ok(await ended, 'the server closes the connection rather than receive the rest of the body')
  t.match(answer, /^HTTP\/1\.1 413 /)
  t.match(answer, /\r\nconnection: close\r\n/i)
  tooLarge.destroy()

  const gone = connect(port, '127.0.0.1')
  gone.write(head(100_000, 'gone') + line)
  const logged = (id: string, count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (logs.filter((e) => e.reqId === id).length >= count ? resolve() : setTimeout(check, 5))
      check()
    })
  await logged('gone', 1)
  gone.destroy()
  await logged('gone', 2)
  const entries = logs.filter((entry) => entry.reqId === 'gone')
  t.notOk(
    entries.some((entry) => entry.level >= 50),
    'no error logged for it',
  )
  t.match(entries.at(-1), { level: 30, err: { status: 400 } }, 'logged as a client error, not answered')
  t.same((await call(server, 'GET', '/v1/parties')).body.data, [], 'nothing imported')
})
