import {
  type CounterclaimClient,
  PreconditionFailedError,
  ProblemError,
  importLines,
  ifMatch,
  items,
  pages,
  unwrap,
  updateIfUnchanged,
  versioned,
} from '../src/index.js'

/**
 * Every operation of the OpenAPI document, through the typed client, in the order a user would meet them: parties
 * and an event, a claim and a counter-claim, the disputes they make (paged with the iterator), a review, an edit
 * with If-Match and a stale one that fails, an import, key management, and the deletions and erasures. It answers
 * what it saw, for a caller (the project's tests) to check. `writer` holds a `write` key, `admin` an `admin` key.
 */
export async function everyOperation(clients: { writer: CounterclaimClient; admin: CounterclaimClient }, tag: string) {
  const { writer, admin } = clients
  const slug = (name: string) => `${name}-${tag}`

  // Liveness and readiness.
  const health = await unwrap(writer.GET('/healthz'))
  const readiness = await unwrap(writer.GET('/readyz'))

  // Parties: two sides and a fact-checker.
  const north = await unwrap(
    writer.POST('/v1/parties', { body: { slug: slug('north'), name: `North ${tag}`, kind: 'state' } }),
  )
  const south = await unwrap(
    writer.POST('/v1/parties', { body: { slug: slug('south'), name: `South ${tag}`, kind: 'state' } }),
  )
  const checker = await unwrap(
    writer.POST('/v1/parties', { body: { slug: slug('checker'), name: `Checker ${tag}`, kind: 'fact-checker' } }),
  )
  const stateSlugs: string[] = []
  for await (const party of items((cursor) =>
    writer.GET('/v1/parties', { params: { query: { kind: 'state', limit: 1, cursor } } }),
  )) {
    stateSlugs.push(party.slug)
  }
  const northCopy = await versioned(writer.GET('/v1/parties/{party}', { params: { path: { party: north.slug } } }))
  const northEdited = await updateIfUnchanged(northCopy, (header) =>
    writer.PATCH('/v1/parties/{party}', {
      params: { path: { party: north.slug }, header },
      body: { description: 'A state of the example.' },
    }),
  )
  const partyHistory = await unwrap(
    writer.GET('/v1/parties/{party}/history', { params: { path: { party: north.slug } } }),
  )

  // An event, the incident the claims are about.
  const event = await unwrap(
    writer.POST('/v1/events', { body: { slug: slug('shelling'), name: `Shelling ${tag}`, starts_at: '2020-10-04' } }),
  )
  const events = await unwrap(writer.GET('/v1/events', { params: { query: { q: 'Shelling' } } }))
  const eventCopy = await versioned(writer.GET('/v1/events/{event}', { params: { path: { event: event.slug } } }))
  await unwrap(
    writer.PATCH('/v1/events/{event}', {
      params: { path: { event: event.slug }, header: ifMatch(eventCopy) },
      body: { tags: ['shelling'] },
    }),
  )
  const eventHistory = await unwrap(
    writer.GET('/v1/events/{event}/history', { params: { path: { event: event.slug } } }),
  )

  // A claim and its counter-claim: the counter-claim and its rebuttal link are recorded together.
  const claim = await unwrap(
    writer.POST('/v1/claims', {
      body: {
        party: north.slug,
        text: `The city was shelled overnight and 12 civilians were killed (${tag}).`,
        stated_at: '2020-10-04T08:00:00Z',
        event: event.slug,
        figures: [{ measure: 'deaths', value: 12, unit: 'people' }],
        sources: [{ url: 'https://news.example/shelling' }],
      },
    }),
  )
  const rebuttal = await unwrap(
    writer.POST('/v1/claims/{id}/rebuttals', {
      params: { path: { id: claim.id } },
      body: {
        claim: {
          party: south.slug,
          text: `No city was shelled; the figure of 12 is invented (${tag}).`,
          stated_at: '2020-10-04T12:00:00Z',
          event: event.slug,
          figures: [{ measure: 'deaths', value: 0, unit: 'people' }],
        },
        aspect: 'figure',
        measure: 'deaths',
      },
    }),
  )
  const rebuttals = await unwrap(writer.GET('/v1/claims/{id}/rebuttals', { params: { path: { id: claim.id } } }))
  const claims = await unwrap(writer.GET('/v1/claims', { params: { query: { event: event.slug, count: 'exact' } } }))
  const similar = await unwrap(writer.GET('/v1/claims/{id}/similar', { params: { path: { id: claim.id } } }))
  const figures = await unwrap(writer.GET('/v1/figures', { params: { query: { event: event.slug } } }))
  const eventFigures = await unwrap(
    writer.GET('/v1/events/{event}/figures', { params: { path: { event: event.slug } } }),
  )

  // A third claim, linked by POST /v1/links; the link is read, edited with If-Match and deleted.
  const echo = await unwrap(
    writer.POST('/v1/claims', {
      body: { party: south.slug, text: `Reports of casualties are staged (${tag}).`, stated_at: '2020-10-05' },
    }),
  )
  const link = await unwrap(
    writer.POST('/v1/links', { body: { from_claim_id: echo.id, to_claim_id: claim.id, kind: 'rebuts' } }),
  )
  const links = await unwrap(writer.GET('/v1/links', { params: { query: { claim: claim.id } } }))
  const linkCopy = await versioned(writer.GET('/v1/links/{id}', { params: { path: { id: link.id } } }))
  await updateIfUnchanged(linkCopy, (header) =>
    writer.PATCH('/v1/links/{id}', { params: { path: { id: link.id }, header }, body: { note: 'Same denial.' } }),
  )
  const linkHistory = await unwrap(writer.GET('/v1/links/{id}/history', { params: { path: { id: link.id } } }))

  // The disputes, page by page (one a page), their matrix, the claim's thread and the response times.
  const disputePages: number[] = []
  for await (const page of pages((cursor) =>
    writer.GET('/v1/disputes', { params: { query: { event: event.slug, limit: 1, cursor } } }),
  )) {
    disputePages.push(page.data.length)
  }
  const disputes = await unwrap(writer.GET('/v1/disputes', { params: { query: { party: north.slug } } }))
  const disputesCsv = await unwrap(
    writer.GET('/v1/disputes', { params: { query: { party: north.slug, format: 'csv' } }, parseAs: 'text' }),
  )
  const matrix = await unwrap(writer.GET('/v1/disputes/matrix', { params: { query: { by: 'party' } } }))
  const thread = await unwrap(writer.GET('/v1/claims/{id}/thread', { params: { path: { id: claim.id } } }))
  const partyResponseTimes = await unwrap(
    writer.GET('/v1/parties/{party}/response-times', { params: { path: { party: south.slug } } }),
  )
  const responseTimes = await unwrap(writer.GET('/v1/response-times'))

  // The claim edited with If-Match; an edit based on the copy read before it is refused with 412.
  const claimCopy = await versioned(writer.GET('/v1/claims/{id}', { params: { path: { id: claim.id } } }))
  const claimEdited = await updateIfUnchanged(claimCopy, (header) =>
    writer.PATCH('/v1/claims/{id}', {
      params: { path: { id: claim.id }, header },
      body: { tags: ['civilians'], edit_note: 'Tagged.' },
    }),
  )
  let stale: PreconditionFailedError<typeof claimCopy.value> | undefined
  try {
    await updateIfUnchanged(claimCopy, (header) =>
      writer.PATCH('/v1/claims/{id}', { params: { path: { id: claim.id }, header }, body: { tags: ['stale'] } }),
    )
  } catch (error) {
    if (!(error instanceof PreconditionFailedError)) throw error
    stale = error as PreconditionFailedError<typeof claimCopy.value>
  }
  const claimHistory = await unwrap(writer.GET('/v1/claims/{id}/history', { params: { path: { id: claim.id } } }))

  // A bad request is a problem, thrown with its fields.
  let invalid: ProblemError | undefined
  try {
    await unwrap(writer.GET('/v1/claims/{id}', { params: { path: { id: 'not-a-uuid' } } }))
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error
    invalid = error
  }

  // A fact-checker's review of the claim: read, edited with If-Match, and deleted.
  const review = await unwrap(
    writer.POST('/v1/claims/{id}/reviews', {
      params: { path: { id: claim.id } },
      body: {
        reviewer: checker.slug,
        verdict: 'false',
        rating_label: 'False',
        published_at: '2020-10-06T00:00:00Z',
      },
    }),
  )
  const claimReviews = await unwrap(writer.GET('/v1/claims/{id}/reviews', { params: { path: { id: claim.id } } }))
  const allReviews = await unwrap(writer.GET('/v1/reviews', { params: { query: { reviewer: checker.slug } } }))
  const reviewCopy = await versioned(writer.GET('/v1/reviews/{id}', { params: { path: { id: review.id } } }))
  await updateIfUnchanged(reviewCopy, (header) =>
    writer.PATCH('/v1/reviews/{id}', {
      params: { path: { id: review.id }, header },
      body: { summary: 'No shelling was recorded that night.' },
    }),
  )
  const reviewHistory = await unwrap(writer.GET('/v1/reviews/{id}/history', { params: { path: { id: review.id } } }))

  // An import of NDJSON lines: a party and a claim of it.
  const imported = await importLines(writer, [
    { type: 'party', ref: slug('imported'), slug: slug('imported'), name: `Imported ${tag}`, kind: 'media' },
    {
      type: 'claim',
      ref: slug('imported-claim'),
      party: { ref: slug('imported') },
      text: `An imported report (${tag}).`,
      stated_at: '2020-10-07',
    },
  ])

  // Key management, with the admin key.
  const key = await unwrap(admin.POST('/v1/keys', { body: { name: `example ${tag}`, scopes: ['read'] } }))
  const keys = await unwrap(admin.GET('/v1/keys'))
  const keyRead = await unwrap(admin.GET('/v1/keys/{id}', { params: { path: { id: key.id } } }))
  await unwrap(admin.DELETE('/v1/keys/{id}', { params: { path: { id: key.id } } }))

  // Deletions, each with If-Match, then the tombstones they leave.
  const reviewNow = await versioned(writer.GET('/v1/reviews/{id}', { params: { path: { id: review.id } } }))
  await unwrap(writer.DELETE('/v1/reviews/{id}', { params: { path: { id: review.id }, header: ifMatch(reviewNow) } }))
  const linkNow = await versioned(writer.GET('/v1/links/{id}', { params: { path: { id: link.id } } }))
  await unwrap(writer.DELETE('/v1/links/{id}', { params: { path: { id: link.id }, header: ifMatch(linkNow) } }))
  const echoNow = await versioned(writer.GET('/v1/claims/{id}', { params: { path: { id: echo.id } } }))
  await unwrap(writer.DELETE('/v1/claims/{id}', { params: { path: { id: echo.id }, header: ifMatch(echoNow) } }))
  const spare = await unwrap(
    writer.POST('/v1/events', { body: { slug: slug('spare'), name: `Spare ${tag}`, starts_at: '2020-11' } }),
  )
  const spareNow = await versioned(writer.GET('/v1/events/{event}', { params: { path: { event: spare.slug } } }))
  await unwrap(
    writer.DELETE('/v1/events/{event}', { params: { path: { event: spare.slug }, header: ifMatch(spareNow) } }),
  )
  const bystander = await unwrap(
    writer.POST('/v1/parties', { body: { slug: slug('bystander'), name: `Bystander ${tag}`, kind: 'person' } }),
  )
  const bystanderNow = await versioned(
    writer.GET('/v1/parties/{party}', { params: { path: { party: bystander.slug } } }),
  )
  await unwrap(
    writer.DELETE('/v1/parties/{party}', {
      params: { path: { party: bystander.slug }, header: ifMatch(bystanderNow) },
    }),
  )
  const tombstones = await unwrap(writer.GET('/v1/tombstones', { params: { query: { limit: 200 } } }))

  // Erasure, for a legal takedown (admin): a review, a claim, and a party with nothing left of it.
  const secondReview = await unwrap(
    writer.POST('/v1/claims/{id}/reviews', {
      params: { path: { id: claim.id } },
      body: {
        reviewer: checker.slug,
        verdict: 'mostly-false',
        rating_label: 'Mostly false',
        published_at: '2020-10-08T00:00:00Z',
      },
    }),
  )
  const reviewErased = await unwrap(admin.POST('/v1/reviews/{id}/erase', { params: { path: { id: secondReview.id } } }))
  const importedClaim = await unwrap(writer.GET('/v1/claims', { params: { query: { party: slug('imported') } } }))
  const claimErased = await unwrap(
    admin.POST('/v1/claims/{id}/erase', { params: { path: { id: importedClaim.data[0]!.id } } }),
  )
  const partyErased = await unwrap(
    admin.POST('/v1/parties/{party}/erase', { params: { path: { party: slug('imported') } } }),
  )

  return {
    health,
    readiness,
    parties: { north, south, checker, stateSlugs, northCopy, northEdited, partyHistory },
    event: { event, events, eventHistory, figures, eventFigures },
    claims: { claim, rebuttal, rebuttals, claims, similar, claimCopy, claimEdited, stale, claimHistory, invalid },
    links: { link, links, linkHistory },
    disputes: { disputePages, disputes, disputesCsv, matrix, thread, partyResponseTimes, responseTimes },
    reviews: { review, claimReviews, allReviews, reviewHistory },
    imported,
    keys: { key, keys, keyRead },
    tombstones,
    erased: { reviewErased, claimErased, partyErased },
  }
}
