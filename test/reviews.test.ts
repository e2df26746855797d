import t from 'tap'
import { derivedStateErrors } from './helpers/derived-state.js'
import { buildTestApp, call } from './helpers/test-app.js'
import { googleClaimReviewGaps } from './helpers/google-claim-review.js'
import { countRows, serverUrl } from './helpers/test-database.js'
import type {
  Claim,
  ClaimReviewDocument,
  Dispute,
  Page,
  Party,
  Problem,
  Review,
  ReviewVersion,
} from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

/** A JSON-LD node: the schema names only its `@type`; its other properties are schema.org's, checked below. */
type Node = ClaimReviewDocument['@graph'][number] & Record<string, unknown>

/**
 * The schema.org properties each type used in our JSON-LD has (from schema.org's definitions, inherited ones
 * included), so that a misspelt or misplaced property, which a structured-data validator flags, fails here.
 */
const SCHEMA_ORG_PROPERTIES: Record<string, string[]> = {
  ClaimReview: ['url', 'claimReviewed', 'itemReviewed', 'author', 'datePublished', 'reviewRating', 'reviewBody'],
  Claim: ['text', 'author', 'datePublished', 'inLanguage', 'appearance', 'firstAppearance', 'contentLocation'],
  CreativeWork: ['url', 'headline', 'publisher', 'datePublished'],
  Rating: ['ratingValue', 'bestRating', 'worstRating', 'alternateName', 'name'],
  Organization: ['name', 'url', 'logo', 'sameAs'],
  Person: ['name', 'url', 'image', 'sameAs'],
  Place: ['name', 'geo'],
  GeoCoordinates: ['latitude', 'longitude'],
}

/** The properties of `node` and of every node within it that its schema.org type does not have. */
function unknownProperties(node: unknown, path = '$'): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => unknownProperties(item, `${path}[${i}]`))
  if (typeof node !== 'object' || node === null) return []
  const type = (node as Node)['@type']
  const known = SCHEMA_ORG_PROPERTIES[type]
  if (known === undefined) return [`${path}: @type ${String(type)}`]
  return Object.entries(node).flatMap(([key, value]) => {
    if (key === '@type') return []
    const here = known.includes(key) ? [] : [`${path}.${key} on ${type}`]
    return [...here, ...unknownProperties(value, `${path}.${key}`)]
  })
}

const fieldsOf = (body: Problem | undefined) => (body?.errors ?? []).map((error) => `${error.in}:${error.field}`)

async function party(slug: string, kind: string, extra: Record<string, unknown> = {}) {
  const response = await call(app, 'POST', '/v1/parties', { slug, name: `Party ${slug}`, kind, ...extra })
  if (response.status !== 201) throw new Error(`party ${slug}: ${response.status} ${response.raw}`)
  return response.body as Party
}

async function claim(partySlug: string, text: string, extra: Record<string, unknown> = {}) {
  const response = await call(app, 'POST', '/v1/claims', {
    party: partySlug,
    text,
    stated_at: '2020-09-27T10:00:00Z',
    ...extra,
  })
  if (response.status !== 201) throw new Error(`claim "${text}": ${response.status} ${response.raw}`)
  return response.body as Claim
}

const review = (claimId: string, body: Record<string, unknown>) =>
  call(app, 'POST', `/v1/claims/${claimId}/reviews`, {
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-09-28T08:00:00Z',
    ...body,
  })

await party('az-defence-ministry', 'military', { wikidata: 'Q4120412' })
await party('am-foreign-ministry', 'government')
await party('factcheck-one', 'fact-checker', {
  wikidata: 'Q1',
  url: 'https://factcheck-one.example/',
  logo: 'https://factcheck-one.example/logo.png',
})
await party('factcheck-two', 'fact-checker', { url: 'https://factcheck-two.example/' })
await party('factcheck-three', 'fact-checker')
await party('a-newspaper', 'media')
const pipeline = await claim('az-defence-ministry', 'Armenian forces fired a missile at the pipeline.', {
  quote: 'a missile was fired at the pipeline',
  location: { name: 'Yevlakh', lat: 40.6, lon: 47.1 },
  sources: [
    {
      url: 'https://example.org/report',
      publisher: 'A Wire',
      title: 'Missile fired at pipeline',
      published_at: '2020-09-27T12:00:00Z',
    },
  ],
})
const denial = await claim('am-foreign-ministry', 'No missile was fired at the pipeline.')

t.test('a fact-checker reviews a claim, and the claim carries the verdict', async (t) => {
  const created = await review(pipeline.id, {
    reviewer: 'factcheck-one',
    verdict: 'mostly-false',
    rating_label: 'Misleading',
    rating_value: 2,
    best_rating: 5,
    worst_rating: 1,
    url: 'https://factcheck-one.example/pipeline',
    summary: 'The pipeline was not hit.',
  })
  t.equal(created.status, 201)
  const body = created.body as Review
  t.equal(created.headers.location, `/v1/reviews/${body.id}`)
  t.ok(created.headers.etag)
  t.match(body, {
    claim_id: pipeline.id,
    reviewer: { slug: 'factcheck-one' },
    verdict: 'mostly-false',
    rating_label: 'Misleading',
    rating_value: 2,
    best_rating: 5,
    worst_rating: 1,
    published_at: '2020-09-28T08:00:00.000Z',
    version: 1,
  })

  const second = await review(pipeline.id, { reviewer: 'factcheck-two', published_at: '2020-09-29T08:00:00Z' })
  t.equal(second.status, 201)
  t.equal((second.body as Review).rating_value, null, 'a rating without a numeric scale keeps none')

  const read = await call(app, 'GET', `/v1/claims/${pipeline.id}`)
  const claimBody = read.body as Claim
  t.equal(claimBody.review_count, 2)
  t.same(
    claimBody.reviews.map((r) => [r.reviewer.slug, r.verdict, r.rating_label, r.published_at]),
    [
      ['factcheck-two', 'false', 'False', '2020-09-29T08:00:00.000Z'],
      ['factcheck-one', 'mostly-false', 'Misleading', '2020-09-28T08:00:00.000Z'],
    ],
    'latest published first',
  )
  const unreviewed = await call(app, 'GET', `/v1/claims/${denial.id}`)
  t.same((unreviewed.body as Claim).reviews, [])
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('review rules: a fact-checker, not the claimant, once per claim, a rating on its scale', async (t) => {
  const before = await countRows(database, 'reviews')
  const media = await review(denial.id, { reviewer: 'a-newspaper' })
  t.equal(media.status, 422)
  t.same(fieldsOf(media.body), ['body:reviewer'])

  const checker = await party('self-checker', 'fact-checker')
  const own = await claim(checker.slug, 'We checked ourselves.')
  const self = await review(own.id, { reviewer: checker.slug })
  t.equal(self.status, 422, 'nobody reviews its own claim')
  t.same(fieldsOf(self.body), ['body:reviewer'])

  const unknown = await review(denial.id, { reviewer: 'nobody-at-all' })
  t.equal(unknown.status, 422)
  t.same(fieldsOf(unknown.body), ['body:reviewer'])

  const noClaim = await review('00000000-0000-4000-8000-000000000000', { reviewer: 'factcheck-one' })
  t.equal(noClaim.status, 404)

  const again = await review(pipeline.id, { reviewer: 'factcheck-one' })
  t.equal(again.status, 409, 'a second review by the same fact-checker')
  t.match((again.body as Problem).detail, /already reviewed/)

  const halfScale = await review(denial.id, { reviewer: 'factcheck-one', rating_value: 3 })
  t.equal(halfScale.status, 400, 'a value without its scale')
  const outside = await review(denial.id, {
    reviewer: 'factcheck-one',
    rating_value: 7,
    best_rating: 5,
    worst_rating: 1,
  })
  t.equal(outside.status, 422)
  t.same(fieldsOf(outside.body), ['body:rating_value'])
  const flat = await review(denial.id, { reviewer: 'factcheck-one', rating_value: 1, best_rating: 1, worst_rating: 1 })
  t.equal(flat.status, 422)
  const reversed = await review(denial.id, {
    reviewer: 'factcheck-one',
    verdict: 'true',
    rating_label: 'Correct',
    rating_value: 1,
    best_rating: 1,
    worst_rating: 5,
  })
  t.equal(reversed.status, 201, 'a scale may run from 5 (worst) to 1 (best)')
  const badVerdict = await review(denial.id, { reviewer: 'factcheck-two', verdict: 'pants-on-fire' })
  t.equal(badVerdict.status, 400)
  t.same(fieldsOf(badVerdict.body), ['body:verdict'])
  const extra = await review(denial.id, { reviewer: 'factcheck-two', stars: 3 })
  t.equal(extra.status, 400)

  t.equal(await countRows(database, 'reviews'), before + 1, 'only the valid review was stored')
  const deleteChecker = await call(app, 'DELETE', '/v1/parties/factcheck-one')
  t.equal(deleteChecker.status, 409, 'a fact-checker with live reviews stays')
  t.match((deleteChecker.body as Problem).detail, /review/)
})

t.test('reviews of a claim are listed latest published first, page by page', async (t) => {
  const first = await call(app, 'GET', `/v1/claims/${pipeline.id}/reviews?limit=1`)
  t.equal(first.status, 200)
  const page = first.body as Page<Review>
  t.same(
    page.data.map((r) => r.reviewer.slug),
    ['factcheck-two'],
  )
  t.ok(page.next_cursor)
  const second = await call(app, 'GET', `/v1/claims/${pipeline.id}/reviews?limit=1&cursor=${page.next_cursor}`)
  const next = second.body as Page<Review>
  t.same(
    next.data.map((r) => r.reviewer.slug),
    ['factcheck-one'],
  )
  t.equal(next.next_cursor, null)

  const foreign = await call(app, 'GET', `/v1/claims/${pipeline.id}/reviews?cursor=${page.next_cursor}x`)
  t.equal(foreign.status, 400)
  const missing = await call(app, 'GET', '/v1/claims/00000000-0000-4000-8000-000000000000/reviews')
  t.equal(missing.status, 404)
})

t.test('a review is edited with If-Match, keeps its history, and is deleted', async (t) => {
  const created = await review(denial.id, {
    reviewer: 'factcheck-three',
    verdict: 'unproven',
    rating_label: 'Unproven',
  })
  const id = (created.body as Review).id
  const etag = String(created.headers.etag)

  const stale = await call(
    app,
    'PATCH',
    `/v1/reviews/${id}`,
    { verdict: 'true' },
    { 'if-match': '"not-the-current-tag"' },
  )
  t.equal(stale.status, 412)

  const edited = await call(
    app,
    'PATCH',
    `/v1/reviews/${id}`,
    { verdict: 'true', rating_label: 'True', rating_value: 5, best_rating: 5, worst_rating: 1 },
    { 'if-match': etag },
  )
  t.equal(edited.status, 200)
  t.match(edited.body, { verdict: 'true', rating_label: 'True', rating_value: 5, version: 2 })
  const scaleOnly = await call(app, 'PATCH', `/v1/reviews/${id}`, { best_rating: 10 })
  t.equal(scaleOnly.status, 400, 'the scale changes only with its value')
  const cleared = await call(app, 'PATCH', `/v1/reviews/${id}`, {
    rating_value: null,
    best_rating: null,
    worst_rating: null,
    edit_note: 'The desk rates without a scale.',
  })
  t.equal(cleared.status, 200)
  t.match(cleared.body, { rating_value: null, best_rating: null, worst_rating: null, version: 3 })
  const noReviewer = await call(app, 'PATCH', `/v1/reviews/${id}`, { reviewer: 'factcheck-one' })
  t.equal(noReviewer.status, 400, 'the reviewer cannot change')

  const history = await call(app, 'GET', `/v1/reviews/${id}/history`)
  const versions = (history.body as Page<ReviewVersion>).data
  t.same(
    versions.map((v) => [v.version, v.review.verdict]),
    [
      [3, 'true'],
      [2, 'true'],
      [1, 'unproven'],
    ],
  )
  t.same(
    versions.map((v) => [v.recorded_by?.name, v.edit_note]),
    [
      ['test writer', 'The desk rates without a scale.'],
      ['test writer', null],
      ['test writer', null],
    ],
    'each version names its key and keeps its note',
  )
  const longNote = await call(app, 'PATCH', `/v1/reviews/${id}`, { verdict: 'false', edit_note: 'x'.repeat(501) })
  t.equal(longNote.status, 400, 'a note over 500 characters is refused')
  t.same(fieldsOf(longNote.body), ['body:edit_note'])

  const read = await call(app, 'GET', `/v1/reviews/${id}`)
  t.equal(read.status, 200)
  const notModified = await call(app, 'GET', `/v1/reviews/${id}`, undefined, {
    'if-none-match': String(read.headers.etag),
  })
  t.equal(notModified.status, 304)

  const countBefore = ((await call(app, 'GET', `/v1/claims/${denial.id}`)).body as Claim).review_count
  const deleted = await call(app, 'DELETE', `/v1/reviews/${id}`, undefined, { 'if-match': '"stale"' })
  t.equal(deleted.status, 412)
  t.equal((await call(app, 'DELETE', `/v1/reviews/${id}`)).status, 204)
  t.equal((await call(app, 'GET', `/v1/reviews/${id}`)).status, 410)
  t.equal((await call(app, 'DELETE', `/v1/reviews/${id}`)).status, 410)
  const after = (await call(app, 'GET', `/v1/claims/${denial.id}`)).body as Claim
  t.equal(after.review_count, countBefore - 1)
  t.notOk(
    after.reviews.some((r) => r.id === id),
    'the deleted review leaves the claim',
  )
  const again = await review(denial.id, { reviewer: 'factcheck-three' })
  t.equal(again.status, 201, 'after deleting its review, a fact-checker may review the claim anew')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('claims and disputes filter by verdict and by reviewer', async (t) => {
  const rebuttal = await call(app, 'POST', `/v1/claims/${pipeline.id}/rebuttals`, { claim_id: denial.id })
  t.equal(rebuttal.status, 201)
  const ids = async (url: string) => {
    const response = await call(app, 'GET', url)
    t.equal(response.status, 200, url)
    const data = (response.body as Page<Claim | Dispute>).data
    return data.map((item) => ('claim' in item ? item.claim.id : item.id)).sort()
  }
  // pipeline: mostly-false (factcheck-one), false (factcheck-two); denial: true (factcheck-one), a verdict by three.
  t.same(await ids('/v1/claims?verdict=mostly-false'), [pipeline.id])
  t.same(await ids('/v1/claims?verdict=true'), [denial.id])
  t.same(await ids('/v1/claims?verdict=mostly-false&verdict=true'), [pipeline.id, denial.id].sort())
  t.same(await ids('/v1/claims?reviewed_by=factcheck-two'), [pipeline.id])
  t.same(await ids('/v1/claims?reviewed_by=factcheck-one&verdict=true'), [denial.id])
  t.same(await ids('/v1/claims?verdict=mixed'), [])
  t.same(await ids('/v1/disputes?verdict=false'), [pipeline.id])
  t.same(await ids('/v1/disputes?reviewed_by=factcheck-three'), [])
  t.same(await ids('/v1/disputes?reviewed_by=factcheck-one'), [pipeline.id])

  const unknownReviewer = await call(app, 'GET', '/v1/claims?reviewed_by=nobody-at-all')
  t.equal(unknownReviewer.status, 422)
  t.same(fieldsOf(unknownReviewer.body), ['query:reviewed_by'])
  const badVerdict = await call(app, 'GET', '/v1/disputes?verdict=wrong')
  t.equal(badVerdict.status, 400)
})

t.test('a claim as schema.org ClaimReview JSON-LD', async (t) => {
  const unpublished = ((await call(app, 'GET', `/v1/claims/${pipeline.id}`)).body as Claim).reviews
  const draft = unpublished.find((r) => r.reviewer.slug === 'factcheck-two')!
  const drafted = await call(app, 'GET', `/v1/claims/${pipeline.id}`, undefined, { accept: 'application/ld+json' })
  t.same(
    ((drafted.body as ClaimReviewDocument)['@graph'] as Node[]).map((node) => (node.author as Node).name),
    ['Party factcheck-one'],
    'a review without a url is a draft, left out',
  )
  const publish = await call(app, 'PATCH', `/v1/reviews/${draft.id}`, { url: 'https://factcheck-two.example/1' })
  t.equal(publish.status, 200)

  const json = await call(app, 'GET', `/v1/claims/${pipeline.id}`)
  const ld = await call(app, 'GET', `/v1/claims/${pipeline.id}`, undefined, { accept: 'application/ld+json' })
  t.equal(ld.status, 200)
  t.match(ld.headers['content-type'], /^application\/ld\+json/)
  t.match(ld.headers.vary, /accept/i)
  t.not(ld.headers.etag, json.headers.etag, 'each representation has its own entity tag')
  const document = ld.body as ClaimReviewDocument
  t.equal(document['@context'], 'https://schema.org')
  const graph = document['@graph'] as Node[]
  t.equal(graph.length, 2, 'one ClaimReview per review')
  t.same(unknownProperties(graph), [], 'only schema.org properties of each type')

  // What Google's ClaimReview guidelines require or recommend of each review.
  for (const node of graph) {
    const numeric = (node.reviewRating as Node).ratingValue !== undefined
    t.same(googleClaimReviewGaps(node, { numeric }), [], 'what Google requires and recommends')
    t.equal(node['@type'], 'ClaimReview')
    t.equal(node.claimReviewed, 'Armenian forces fired a missile at the pipeline.')
    t.match(node.datePublished, /^\d{4}-\d{2}-\d{2}T/)
    t.match(node.author, { '@type': 'Organization', name: String })
    t.match(node.reviewRating, { '@type': 'Rating', alternateName: String })
    t.match(node.itemReviewed, {
      '@type': 'Claim',
      author: {
        '@type': 'Organization',
        name: 'Party az-defence-ministry',
        sameAs: 'https://www.wikidata.org/wiki/Q4120412',
      },
      datePublished: '2020-09-27T10:00:00.000Z',
      appearance: [
        {
          '@type': 'CreativeWork',
          url: 'https://example.org/report',
          headline: 'Missile fired at pipeline',
          publisher: { '@type': 'Organization', name: 'A Wire' },
        },
      ],
      contentLocation: { '@type': 'Place', name: 'Yevlakh', geo: { latitude: 40.6, longitude: 47.1 } },
    })
  }
  const rated = graph.find((node) => (node.author as { name: string }).name === 'Party factcheck-one')
  t.match(rated, {
    url: 'https://factcheck-one.example/pipeline',
    reviewRating: { ratingValue: 2, bestRating: 5, worstRating: 1, alternateName: 'Misleading' },
    reviewBody: 'The pipeline was not hit.',
    author: {
      sameAs: 'https://www.wikidata.org/wiki/Q1',
      url: 'https://factcheck-one.example/',
      logo: 'https://factcheck-one.example/logo.png',
    },
  })

  const cached = await call(app, 'GET', `/v1/claims/${pipeline.id}`, undefined, {
    accept: 'application/ld+json',
    'if-none-match': String(ld.headers.etag),
  })
  t.equal(cached.status, 304)

  const plain = await claim('am-foreign-ministry', 'An unreviewed statement.')
  const alone = await call(app, 'GET', `/v1/claims/${plain.id}`, undefined, { accept: 'application/ld+json' })
  const aloneGraph = (alone.body as ClaimReviewDocument)['@graph'] as Node[]
  t.equal(aloneGraph.length, 1)
  t.same(unknownProperties(aloneGraph), [])
  t.match(aloneGraph[0], { '@type': 'Claim', text: 'An unreviewed statement.', author: { name: String } })

  const anything = await call(app, 'GET', `/v1/claims/${pipeline.id}`, undefined, { accept: '*/*' })
  t.match(anything.headers['content-type'], /^application\/json/, 'JSON unless JSON-LD is asked for')
  t.equal(anything.headers.etag, json.headers.etag)
  const preferred = await call(app, 'GET', `/v1/claims/${pipeline.id}`, undefined, {
    accept: 'application/json;q=0.5, application/ld+json',
  })
  t.match(preferred.headers['content-type'], /^application\/ld\+json/)
  const missing = await call(app, 'GET', '/v1/claims/00000000-0000-4000-8000-000000000000', undefined, {
    accept: 'application/ld+json',
  })
  t.equal(missing.status, 404)
  t.match(missing.headers['content-type'], /^application\/problem\+json/)
})

t.test('deleting a claim deletes its reviews', async (t) => {
  const target = await claim('az-defence-ministry', 'A claim soon withdrawn.')
  const created = await review(target.id, { reviewer: 'factcheck-two' })
  const id = (created.body as Review).id
  t.equal((await call(app, 'DELETE', `/v1/claims/${target.id}`)).status, 204)
  t.equal((await call(app, 'GET', `/v1/reviews/${id}`)).status, 410)
  t.equal((await call(app, 'PATCH', `/v1/reviews/${id}`, { verdict: 'true' })).status, 410)
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('parallel reviews of one claim are all counted, and one per reviewer', async (t) => {
  if (serverUrl === undefined) {
    t.comment('on the embedded database requests run one at a time; the race runs with DATABASE_URL')
  }
  const checkers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => party(`parallel-checker-${i}`, 'fact-checker')),
  )
  const target = await claim('am-foreign-ministry', 'A claim many check at once.')
  const attempts = await Promise.all(
    checkers.flatMap((checker) => [
      review(target.id, { reviewer: checker.slug }),
      review(target.id, { reviewer: checker.slug, verdict: 'mixed' }),
    ]),
  )
  const statuses = attempts.map((a) => a.status).sort()
  t.same(statuses, [...Array(8).fill(201), ...Array(8).fill(409)], 'one review per fact-checker, the rest 409')
  const read = (await call(app, 'GET', `/v1/claims/${target.id}`)).body as Claim
  t.equal(read.review_count, 8)
  t.equal(read.reviews.length, 8)
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})
