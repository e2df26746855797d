import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'
import { CLAIM_REVIEWED_SUGGESTED_MAX, googleClaimReviewGaps } from './helpers/google-claim-review.js'
import type { Claim, ClaimReviewDocument, Page, Party, Problem, Review, ReviewVersion } from './helpers/wire-types.js'

/**
 * A verdict stays attached to the words it rated, and each published review is a ClaimReview document of its own:
 * the pin, the claim edited under it, the re-pin; drafts; the fact-checker as author; claim summaries.
 */
const { app } = await buildTestApp(t)

type Node = Record<string, unknown>
const LD = { accept: 'application/ld+json' }
const fieldsOf = (body: Problem | undefined) => (body?.errors ?? []).map((error) => `${error.in}:${error.field}`)

async function created<T>(path: string, body: Record<string, unknown>): Promise<T> {
  const response = await call(app, 'POST', path, body)
  if (response.status !== 201) throw new Error(`${path}: ${response.status} ${response.raw}`)
  return response.body as T
}

const checker = await created<Party>('/v1/parties', {
  slug: 'desk',
  name: 'The Desk',
  kind: 'fact-checker',
  url: 'https://desk.example/',
  logo: 'https://desk.example/logo.png',
})
await created<Party>('/v1/parties', { slug: 'other-desk', name: 'Other Desk', kind: 'fact-checker' })
await created<Party>('/v1/parties', { slug: 'ministry', name: 'Health Ministry', kind: 'government' })
const claim = await created<Claim>('/v1/claims', {
  party: 'ministry',
  text: 'At least 500 people were killed in the hospital blast.',
  quote: 'at least 500 dead',
  stated_at: '2023-10-17T18:00:00Z',
  sources: [
    { url: 'https://wire.example/later', publisher: 'Wire', published_at: '2023-10-18T09:00:00Z' },
    { url: 'https://wire.example/first', publisher: 'Wire', published_at: '2023-10-17T19:00:00Z' },
  ],
})

const reviewBody = {
  reviewer: 'desk',
  verdict: 'misleading',
  rating_label: 'Misleading',
  rating_value: 2,
  best_rating: 5,
  worst_rating: 1,
  url: 'https://desk.example/checks/500-dead',
  summary: 'The figure was not established when it was stated.',
  published_at: '2023-10-20T10:00:00Z',
}

t.test('a verdict pinned to the version it rated, through an edit of the claim and a re-pin', async (t) => {
  const review = await created<Review>(`/v1/claims/${claim.id}/reviews`, reviewBody)
  t.match(review, { claim_version: 1, rates_current_wording: true, verdict: 'misleading', claim_summary: null })

  const tagged = await call(app, 'PATCH', `/v1/claims/${claim.id}`, { tags: ['casualties'] })
  t.equal(tagged.status, 200)
  t.equal((tagged.body as Claim).version, 2)
  t.match(
    (await call(app, 'GET', `/v1/reviews/${review.id}`)).body,
    { claim_version: 1, rates_current_wording: true },
    'an edit of the tags leaves the rated wording current',
  )

  const edited = await call(app, 'PATCH', `/v1/claims/${claim.id}`, {
    text: 'At least 471 people were killed in the hospital blast.',
    quote: 'at least 471 dead',
  })
  t.equal(edited.status, 200, 'editing a reviewed claim’s wording stays allowed')
  const claimRead = edited.body as Claim
  t.equal(claimRead.version, 3)
  t.match(claimRead.reviews, [{ id: review.id, claim_version: 1, rates_current_wording: false }])
  const stale = (await call(app, 'GET', `/v1/reviews/${review.id}`)).body as Review
  t.match(stale, { claim_version: 1, rates_current_wording: false, version: 1 })

  const document = (await call(app, 'GET', `/v1/reviews/${review.id}`, undefined, LD)).body as Node
  t.equal(document.claimReviewed, 'At least 500 people were killed in the hospital blast.', 'the rated wording')
  t.equal((document.itemReviewed as Node).text, 'At least 500 people were killed in the hospital blast.')
  const graph = ((await call(app, 'GET', `/v1/claims/${claim.id}`, undefined, LD)).body as ClaimReviewDocument)[
    '@graph'
  ] as Node[]
  t.same(
    graph.map((node) => node.claimReviewed),
    ['At least 500 people were killed in the hospital blast.'],
    'the claim’s document too: a "Misleading" never rates words it was not given on',
  )

  const relabelled = await call(app, 'PATCH', `/v1/reviews/${review.id}`, { rating_label: 'Mostly false' })
  t.match(relabelled.body, { claim_version: 1, rates_current_wording: false }, 'an edit without claim_version')

  for (const version of [0, 4, 'latest']) {
    const bad = await call(app, 'PATCH', `/v1/reviews/${review.id}`, { claim_version: version })
    t.equal(bad.status, version === 4 ? 422 : 400, `claim_version ${version}`)
    t.same(fieldsOf(bad.body), ['body:claim_version'])
  }

  const repinned = await call(app, 'PATCH', `/v1/reviews/${review.id}`, { claim_version: 3, verdict: 'mostly-true' })
  t.equal(repinned.status, 200)
  t.match(repinned.body, { claim_version: 3, rates_current_wording: true, verdict: 'mostly-true' })
  const redone = (await call(app, 'GET', `/v1/reviews/${review.id}`, undefined, LD)).body as Node
  t.equal(redone.claimReviewed, 'At least 471 people were killed in the hospital blast.')

  const history = (await call(app, 'GET', `/v1/reviews/${review.id}/history`)).body as Page<ReviewVersion>
  t.same(
    history.data.map((version) => [version.version, version.review.claim_version, version.review.verdict]),
    [
      [3, 3, 'mostly-true'],
      [2, 1, 'misleading'],
      [1, 1, 'misleading'],
    ],
    'each version of the review keeps the claim version it rated',
  )

  // Back to the first rated version: the pin names an earlier version, whose wording is no longer the claim's.
  const back = await call(app, 'PATCH', `/v1/reviews/${review.id}`, { claim_version: 2 })
  t.match(back.body, { claim_version: 2, rates_current_wording: false })
  await call(app, 'PATCH', `/v1/reviews/${review.id}`, { claim_version: 3 })
})

t.test('a review names an earlier version when it rates words the claim has since changed', async (t) => {
  const beyond = await call(app, 'POST', `/v1/claims/${claim.id}/reviews`, {
    ...reviewBody,
    reviewer: 'other-desk',
    claim_version: 9,
  })
  t.equal(beyond.status, 422)
  t.same(fieldsOf(beyond.body), ['body:claim_version'])
  const late = await call(app, 'POST', `/v1/claims/${claim.id}/reviews`, {
    ...reviewBody,
    reviewer: 'other-desk',
    url: 'https://other.example/check',
    claim_version: 1,
  })
  t.equal(late.status, 201)
  t.match(late.body, { claim_version: 1, rates_current_wording: false })
  t.equal((await call(app, 'DELETE', `/v1/reviews/${(late.body as Review).id}`)).status, 204)
})

t.test('one ClaimReview per review, with what Google requires and recommends', async (t) => {
  const [summary] = ((await call(app, 'GET', `/v1/claims/${claim.id}`)).body as Claim).reviews
  const json = await call(app, 'GET', `/v1/reviews/${summary!.id}`)
  const ld = await call(app, 'GET', `/v1/reviews/${summary!.id}`, undefined, LD)
  t.equal(ld.status, 200)
  t.match(ld.headers['content-type'], /^application\/ld\+json/)
  t.match(ld.headers.vary, /accept/i)
  t.not(ld.headers.etag, json.headers.etag, 'each representation has its own entity tag')
  const document = ld.body as Node
  t.same(googleClaimReviewGaps(document, { numeric: true }), [], 'every required and recommended property')
  t.match(document, {
    '@context': 'https://schema.org',
    '@type': 'ClaimReview',
    url: 'https://desk.example/checks/500-dead',
    datePublished: '2023-10-20T10:00:00.000Z',
    author: {
      '@type': 'Organization',
      name: 'The Desk',
      url: 'https://desk.example/',
      logo: 'https://desk.example/logo.png',
    },
    reviewRating: { '@type': 'Rating', alternateName: 'Mostly false', ratingValue: 2, bestRating: 5, worstRating: 1 },
    reviewBody: 'The figure was not established when it was stated.',
    itemReviewed: {
      '@type': 'Claim',
      author: { '@type': 'Organization', name: 'Health Ministry' },
      datePublished: '2023-10-17T18:00:00.000Z',
      firstAppearance: { url: 'https://wire.example/first' },
    },
  })
  t.equal(((document.itemReviewed as Node).appearance as Node[]).length, 2)
  t.notOk('@graph' in document, 'one review, one ClaimReview')

  const cached = await call(app, 'GET', `/v1/reviews/${summary!.id}`, undefined, {
    ...LD,
    'if-none-match': String(ld.headers.etag),
  })
  t.equal(cached.status, 304)
  const missing = await call(app, 'GET', '/v1/reviews/00000000-0000-4000-8000-000000000000', undefined, LD)
  t.equal(missing.status, 404)
})

t.test('a claim summary stands for the claim in claimReviewed', async (t) => {
  const [summary] = ((await call(app, 'GET', `/v1/claims/${claim.id}`)).body as Claim).reviews
  const short = 'Ministry: at least 471 killed in hospital blast'
  t.ok(short.length < CLAIM_REVIEWED_SUGGESTED_MAX)
  const patched = await call(app, 'PATCH', `/v1/reviews/${summary!.id}`, { claim_summary: short })
  t.equal(patched.status, 200)
  t.equal((patched.body as Review).claim_summary, short)
  const document = (await call(app, 'GET', `/v1/reviews/${summary!.id}`, undefined, LD)).body as Node
  t.equal(document.claimReviewed, short)
  t.equal((document.itemReviewed as Node).text, 'At least 471 people were killed in the hospital blast.')

  const long = await call(app, 'PATCH', `/v1/reviews/${summary!.id}`, { claim_summary: 'x'.repeat(151) })
  t.equal(long.status, 400)
  t.same(fieldsOf(long.body), ['body:claim_summary'])
  t.equal((await call(app, 'PATCH', `/v1/reviews/${summary!.id}`, { claim_summary: null })).status, 200)
})

t.test('a review without a url is a draft: out of every ClaimReview document', async (t) => {
  const draft = await created<Review>(`/v1/claims/${claim.id}/reviews`, {
    reviewer: 'other-desk',
    verdict: 'missing-context',
    rating_label: 'Missing context',
    published_at: '2023-10-21T10:00:00Z',
  })
  t.equal(draft.url, null)
  const alone = await call(app, 'GET', `/v1/reviews/${draft.id}`, undefined, LD)
  t.equal(alone.status, 409)
  t.match(alone.headers['content-type'], /^application\/problem\+json/)
  t.match(alone.body, { code: 'review-is-draft', detail: /no url/ })
  t.equal((await call(app, 'GET', `/v1/reviews/${draft.id}`)).status, 200, 'as JSON it reads as any review')

  const graph = ((await call(app, 'GET', `/v1/claims/${claim.id}`, undefined, LD)).body as ClaimReviewDocument)[
    '@graph'
  ] as Node[]
  t.same(
    graph.map((node) => (node.author as Node).name),
    ['The Desk'],
    'the claim’s document holds the published review only',
  )

  const published = await call(app, 'PATCH', `/v1/reviews/${draft.id}`, { url: 'https://other.example/context' })
  t.equal(published.status, 200)
  const document = (await call(app, 'GET', `/v1/reviews/${draft.id}`, undefined, LD)).body as Node
  t.same(
    googleClaimReviewGaps(document, { numeric: false }),
    ['recommended: $.author.url'],
    'a fact-checker without a url of its own lacks only the author url',
  )
  t.match(document.reviewRating, { alternateName: 'Missing context' })
  t.equal((await call(app, 'PATCH', `/v1/reviews/${draft.id}`, { url: null })).status, 200)
  t.equal((await call(app, 'GET', `/v1/reviews/${draft.id}`, undefined, LD)).status, 409, 'unpublished again')
})

t.test('the verdict scale and the fact-checker’s url and logo', async (t) => {
  const claims = await Promise.all(
    ['misleading', 'missing-context'].map((verdict) =>
      call(app, 'GET', `/v1/claims?verdict=${verdict}`).then((response) => (response.body as Page<Claim>).data),
    ),
  )
  t.same(
    claims.map((data) => data.map((item) => item.id)),
    [[], [claim.id]],
    'the new verdicts filter like the others',
  )
  for (const [field, value] of [
    ['url', 'http://desk.example/'],
    ['logo', 'ftp://desk.example/logo.png'],
    ['url', 'not a url'],
  ] as const) {
    const refused = await call(app, 'PATCH', `/v1/parties/${checker.slug}`, { [field]: value })
    t.equal(refused.status, 400, `${field} ${value}`)
    t.same([...new Set(fieldsOf(refused.body))], [`body:${field}`])
  }
  const cleared = await call(app, 'PATCH', `/v1/parties/${checker.slug}`, { logo: null })
  t.match(cleared.body, { url: 'https://desk.example/', logo: null })
})
