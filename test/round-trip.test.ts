import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { loadDataSet, parseDataSet } from '../src/services/data-set.service.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'
import type {
  Claim,
  ClaimReviewDocument,
  ClaimVersion,
  Dispute,
  Event,
  Link,
  Matrix,
  Page,
  Party,
  Review,
  ReviewVersion,
  Tombstone,
} from './helpers/wire-types.js'

/**
 * What one instance exports, another imports: the parties, the claims (as the NDJSON export streams them), the
 * links and the reviews of the first, written as import lines whose refs are the first's ids, reproduce the same
 * disputes, counts and verdicts on the second; its tombstones, written as the deleted records' last versions and
 * then deletion lines, make the second answer 410 with the same tombstones for what the first deleted.
 */
const source = await buildTestApp(t)
const target = await buildTestApp(t)

/** Every item of a JSON list, page by page. */
async function everyPage<Item>(app: FastifyInstance, path: string): Promise<Item[]> {
  const items: Item[] = []
  let url: string | null = `${path}${path.includes('?') ? '&' : '?'}limit=200`
  while (url !== null) {
    const response = await call(app, 'GET', url)
    if (response.status !== 200) throw new Error(`${url}: ${response.status} ${response.raw}`)
    const page = response.body as Page<Item>
    items.push(...page.data)
    url =
      page.next_cursor === null ? null : `${path}${path.includes('?') ? '&' : '?'}limit=200&cursor=${page.next_cursor}`
  }
  return items
}

async function ndjsonExport<Item>(app: FastifyInstance, path: string): Promise<Item[]> {
  const response = await callRaw(app, 'GET', path, undefined, { accept: 'application/x-ndjson' })
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${response.raw}`)
  return response.raw
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Item)
}

const withoutNulls = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null))

/** A claim's versions, oldest first: each is a line, so that the claim's history, and what reviews rated, carry over. */
async function claimVersions(app: FastifyInstance, id: string): Promise<ClaimVersion['claim'][]> {
  const versions = await everyPage<ClaimVersion>(app, `/v1/claims/${id}/history`)
  // A deleted claim's newest entry is its deletion, which the deletion line makes again.
  return versions
    .filter((version) => version.deleted === undefined)
    .reverse()
    .map((version) => version.claim)
}

/** The last version of a deleted record before its deletion, read from its history. */
async function lastVersion<Version>(app: FastifyInstance, tombstone: Tombstone) {
  const versions = await everyPage<Version & { deleted?: unknown }>(app, tombstone.history as string)
  const kept = versions.find((version) => version.deleted === undefined)
  if (kept === undefined) throw new Error(`${tombstone.history} has no version before the deletion`)
  return kept
}

const DELETION_ORDER = ['claim', 'review', 'link', 'event', 'party']
const byDeletion = (a: Tombstone, b: Tombstone) =>
  a.deleted_at.localeCompare(b.deleted_at) || DELETION_ORDER.indexOf(a.kind) - DELETION_ORDER.indexOf(b.kind)

/**
 * The source's records as import lines, parties in an order where a side comes before who speaks for it, and
 * each claim as a line per version.
 */
async function exportAsImportLines(app: FastifyInstance): Promise<string> {
  const tombstones = (await ndjsonExport<Tombstone>(app, '/v1/tombstones')).reverse()
  const deletedOf = (kind: Tombstone['kind']) => tombstones.filter((tombstone) => tombstone.kind === kind)
  const deletedParties: Party[] = []
  for (const tombstone of deletedOf('party')) {
    deletedParties.push({ ...(await lastVersion<{ party: Party }>(app, tombstone)).party, id: tombstone.id })
  }
  const parties = [...(await everyPage<Party>(app, '/v1/parties')), ...deletedParties]
  const ordered: Party[] = []
  const placed = new Set<string>()
  while (ordered.length < parties.length) {
    for (const party of parties) {
      if (!placed.has(party.id) && (party.side === null || placed.has(party.side.id))) {
        ordered.push(party)
        placed.add(party.id)
      }
    }
  }
  const deletedEvents: Event[] = []
  for (const tombstone of deletedOf('event')) {
    deletedEvents.push({ ...(await lastVersion<{ event: Event }>(app, tombstone)).event, id: tombstone.id })
  }
  const events = [...(await everyPage<Event>(app, '/v1/events')), ...deletedEvents]
  const claims = [
    ...(await ndjsonExport<Claim>(app, '/v1/claims?sort=created_at')).map((claim) => ({
      id: claim.id,
      partyId: claim.party.id,
    })),
    ...deletedOf('claim').map((tombstone) => ({ id: tombstone.id, partyId: tombstone.party!.id })),
  ]
  const histories = new Map<string, ClaimVersion['claim'][]>()
  for (const claim of claims) histories.set(claim.id, await claimVersions(app, claim.id))
  const links: Array<
    Pick<Link, 'id' | 'kind' | 'from_claim_id' | 'to_claim_id' | 'note' | 'prebuttal' | 'aspect' | 'measure'>
  > = await everyPage<Link>(app, '/v1/links')
  for (const tombstone of deletedOf('link')) {
    const said = (await lastVersion<{ link: Pick<Link, 'note' | 'prebuttal' | 'aspect' | 'measure'> }>(app, tombstone))
      .link
    // Its kind and claims never change: its tombstone names them.
    links.push({
      id: tombstone.id,
      kind: tombstone.link_kind as Link['kind'],
      from_claim_id: tombstone.from_claim_id!,
      to_claim_id: tombstone.to_claim_id!,
      note: said.note,
      prebuttal: said.prebuttal,
      aspect: said.aspect,
      measure: said.measure,
    })
  }
  const reviews: Array<Omit<Review, 'version' | 'created_at' | 'updated_at' | 'rates_current_wording'>> = []
  for (const claim of await ndjsonExport<Claim>(app, '/v1/claims?sort=created_at')) {
    reviews.push(...(await everyPage<Review>(app, `/v1/claims/${claim.id}/reviews`)))
  }
  for (const tombstone of deletedOf('review')) {
    const said = (await lastVersion<ReviewVersion>(app, tombstone)).review
    reviews.push({ ...said, id: tombstone.id, claim_id: tombstone.claim_id!, reviewer: tombstone.reviewer! })
  }
  const lines = [
    ...ordered.map((party) => ({
      type: 'party',
      ref: party.id,
      ...withoutNulls({
        slug: party.slug,
        name: party.name,
        kind: party.kind,
        country: party.country,
        wikidata: party.wikidata,
        description: party.description,
        url: party.url,
        logo: party.logo,
      }),
      ...(party.side === null ? {} : { side: { ref: party.side.id } }),
    })),
    ...events.map((event) => ({
      type: 'event',
      ref: event.id,
      ...withoutNulls({
        slug: event.slug,
        name: event.name,
        starts_at: event.starts_at,
        starts_at_precision: event.starts_at_precision,
        ends_at: event.ends_at,
        ends_at_precision: event.ends_at_precision,
        description: event.description,
      }),
      ...(event.location === null ? {} : { location: withoutNulls(event.location) }),
      tags: event.tags,
    })),
    ...claims.flatMap((claim) =>
      histories.get(claim.id)!.map((content, i) => ({
        type: 'claim',
        ref: claim.id,
        version: i + 1,
        party: { ref: claim.partyId },
        ...withoutNulls({
          text: content.text,
          quote: content.quote,
          quote_language: content.quote_language,
          stated_at: content.stated_at,
          stated_at_precision: content.stated_at_precision,
          event_at: content.event_at,
          event_at_precision: content.event_at_precision,
          language: content.language,
          certainty: content.certainty,
        }),
        ...(content.location === null ? {} : { location: withoutNulls(content.location) }),
        ...(content.event === null ? {} : { event: { ref: content.event.id } }),
        tags: content.tags,
        sources: content.sources,
        figures: content.figures,
        relayed_by: content.relayed_by.map((party) => party.slug),
      })),
    ),
    ...links.map((link) => ({
      type: 'link',
      ref: link.id,
      kind: link.kind,
      from: { ref: link.from_claim_id },
      to: { ref: link.to_claim_id },
      ...(link.note === null ? {} : { note: link.note }),
      prebuttal: link.prebuttal,
      ...(link.aspect === null ? {} : { aspect: link.aspect }),
      ...(link.measure === null ? {} : { measure: link.measure }),
    })),
    ...reviews.map((review) => {
      const { id, claim_id, reviewer, ...fields } = review as Review
      const { version: _v, created_at: _c, updated_at: _u, rates_current_wording: _derived, ...content } = fields
      return {
        type: 'review',
        ref: id,
        claim: { ref: claim_id },
        reviewer: { ref: reviewer.id },
        ...withoutNulls(content),
      }
    }),
    // Oldest deletion first, as they happened; a claim before the links and reviews that went with it.
    ...[...tombstones].sort(byDeletion).map((tombstone) => ({
      type: 'deletion',
      of: tombstone.kind,
      ref: tombstone.id,
      deleted_at: tombstone.deleted_at,
    })),
  ]
  return lines.map((line) => JSON.stringify(line)).join('\n')
}

/** A dispute without what differs between instances (ids, record times): what it says, and who says what. */
function comparable(dispute: Dispute) {
  const { claim } = dispute
  return {
    party: claim.party.slug,
    event: claim.event?.slug ?? null,
    text: claim.text,
    quote_language: claim.quote_language,
    certainty: claim.certainty,
    stated_at: claim.stated_at,
    stated_at_precision: claim.stated_at_precision,
    event_at: claim.event_at,
    event_at_precision: claim.event_at_precision,
    figures: claim.figures,
    status: claim.status,
    rebuttal_count: claim.rebuttal_count,
    support_count: claim.support_count,
    rebutted_by: claim.rebutted_by.map((party) => party.slug),
    last_response_at: claim.last_response_at,
    review_count: claim.review_count,
    standing: claim.standing,
    verdicts: claim.reviews.map(
      (review) => `${review.reviewer.slug}:${review.verdict}@${review.claim_version}:${review.rates_current_wording}`,
    ),
    latest_rebuttals: dispute.latest_rebuttals.map((r) => [r.claim.party.slug, r.claim.text, r.note]),
  }
}

t.test('export, then import elsewhere: the same disputes', async (t) => {
  const example = JSON.parse(readFileSync(new URL('../examples/nagorno-karabakh-2020.json', import.meta.url), 'utf8'))
  await loadDataSet(source.database.db, parseDataSet(example))
  const app = source.app
  const checker = await call(app, 'POST', '/v1/parties', {
    slug: 'a-fact-checker',
    name: 'A',
    kind: 'fact-checker',
    url: 'https://checks.example.org/',
    logo: 'https://checks.example.org/logo.png',
  })
  t.equal(checker.status, 201)
  const pipeline = '5eed0000-0000-4000-8000-000000000001'
  const denial = '5eed0000-0000-4000-8000-000000000002'
  const answer = await call(app, 'POST', `/v1/claims/${denial}/rebuttals`, {
    claim: {
      party: 'az-defence-ministry',
      text: 'The denial is false, with "quotes", commas, and\na new line.',
      stated_at: '2020-10-07T09:00:00.123Z',
      location: { name: 'Baku' },
      tags: ['pipeline'],
    },
    note: 'Answers the denial.',
  })
  t.equal(answer.status, 201)
  for (const [claim, verdict, extra] of [
    [pipeline, 'misleading', {}],
    [denial, 'missing-context', { claim_summary: 'Armenia denies the pipeline attack' }],
  ] as const) {
    const review = await call(app, 'POST', `/v1/claims/${claim}/reviews`, {
      reviewer: 'a-fact-checker',
      verdict,
      rating_label: verdict,
      rating_value: 2,
      best_rating: 5,
      worst_rating: 1,
      url: 'https://checks.example.org/1',
      published_at: '2020-10-09T00:00:00Z',
      ...extra,
    })
    t.equal(review.status, 201)
  }
  // The pipeline claim corrected by its ministry, and the denial withdrawn: links of their own kinds.
  for (const [party, earlier, kind, stated_at] of [
    ['az-defence-ministry', pipeline, 'corrects', '2020-10-08T10:00:00Z'],
    ['am-foreign-ministry', denial, 'retracts', '2020-10-08T11:00:00Z'],
  ] as const) {
    const later = await call(app, 'POST', '/v1/claims', { party, text: `It ${kind} an earlier claim.`, stated_at })
    t.equal(later.status, 201)
    const link = await call(app, 'POST', '/v1/links', {
      from_claim_id: (later.body as Claim).id,
      to_claim_id: earlier,
      kind,
    })
    t.equal(link.status, 201, link.raw)
  }
  // The pipeline claim's wording changes after its verdict, whose review keeps rating the first wording; the
  // denial gains a tag, and a second version whose wording is the one rated.
  const admin = bearer(source.keys.admin)
  for (const [claim, patch] of [
    [
      pipeline,
      {
        text: 'A missile was fired at the pipeline, the ministry says.',
        certainty: 'hedged',
        figures: [{ measure: 'missiles-fired', value: 1, unit: 'missiles', qualifier: 'one', as_of: '2020-10-06' }],
      },
    ],
    [denial, { tags: ['pipeline', 'denial'] }],
  ] as const) {
    t.equal((await call(app, 'PATCH', `/v1/claims/${claim}`, patch, admin)).status, 200)
  }
  // A warning stated the day before the claim it rebuts (a prebuttal), about an event known to the month.
  const warning = await call(app, 'POST', `/v1/claims/${pipeline}/rebuttals`, {
    claim: {
      party: 'am-foreign-ministry',
      text: 'Reports of attacks on the pipeline will be false.',
      stated_at: '2020-10-05',
      event_at: '2020-10',
    },
    prebuttal: true,
  })
  t.equal(warning.status, 201, warning.raw)
  // The pipeline report echoed by another outlet: a repeat, counted apart from supports.
  const repeated = await call(app, 'POST', '/v1/claims', {
    party: 'uawire',
    text: 'Azerbaijan says Armenia fired a missile at the pipeline.',
    stated_at: '2020-10-07T09:00:00Z',
  })
  t.equal(repeated.status, 201, repeated.raw)
  const repeat = await call(app, 'POST', '/v1/links', {
    from_claim_id: (repeated.body as Claim).id,
    to_claim_id: pipeline,
    kind: 'repeats',
  })
  t.equal(repeat.status, 201, repeat.raw)
  // A rebuttal of the casualty toll alone, not of what happened: a partial rebuttal, with its measure.
  const toll = await call(app, 'POST', '/v1/claims', {
    party: 'az-defence-ministry',
    text: 'The Armenian toll is far higher than 240.',
    stated_at: '2020-10-08T09:00:00Z',
    relayed_by: ['uawire', 'bbc-news'],
  })
  t.equal(toll.status, 201, toll.raw)
  const relayEdit = { relayed_by: ['uawire'] }
  t.equal((await call(app, 'PATCH', `/v1/claims/${(toll.body as Claim).id}`, relayEdit)).status, 200)
  const partial = await call(app, 'POST', '/v1/links', {
    from_claim_id: (toll.body as Claim).id,
    to_claim_id: '5eed0000-0000-4000-8000-000000000013',
    kind: 'rebuts',
    aspect: 'figure',
    measure: 'deaths',
  })
  t.equal(partial.status, 201, partial.raw)

  // What the source deletes: a claim rebutted by another (the rebuttal's link goes with it), a link, a review and
  // a party.
  const created = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await call(app, 'POST', path, body)
    t.equal(response.status, 201, response.raw)
    return response.body as T
  }
  const withdrawn = await created<Claim>('/v1/claims', {
    party: 'bbc-news',
    text: 'Withdrawn.',
    stated_at: '2020-10-01T00:00:00Z',
  })
  const doubted = await created<Claim>('/v1/claims', {
    party: 'az-defence-ministry',
    text: 'A second strike hit the pipeline.',
    quote: 'İkinci zərbə kəməri vurdu.',
    quote_language: 'az',
    certainty: 'speculative',
    stated_at: '2020-10-06T15:00:00Z',
    event: 'btc-pipeline-strike',
    figures: [{ measure: 'missiles-fired', low: 1, qualifier: 'at least', as_of: '2020-10-06' }],
  })
  // The figure revised with the wording: the first version keeps the open range, the second a number.
  const reworded = {
    text: 'A second strike hit the pipeline near Yevlakh.',
    event: 'second-strike',
    figures: [
      { measure: 'missiles-fired', value: 2, unit: 'missiles', as_of: '2020-10-06T14:30' },
      { measure: 'injured', low: 0.5, high: 3 },
    ],
  }
  await created<Event>('/v1/events', {
    slug: 'second-strike',
    name: 'A second strike on the pipeline',
    starts_at: '2020-10-06T14:30+04:00',
    ends_at: '2020-10-06T15',
    location: { name: 'Yevlakh', lat: 40.62, lon: 47.15 },
    tags: ['pipeline'],
  })
  t.equal((await call(app, 'PATCH', `/v1/claims/${doubted.id}`, reworded)).status, 200)
  await created<{ link: Link }>(`/v1/claims/${doubted.id}/rebuttals`, {
    claim: { party: 'am-foreign-ministry', text: 'There was no second strike.', stated_at: '2020-10-06T16:00:00Z' },
    note: 'Denies the second strike.',
    aspect: 'evidence',
  })
  const echo = await created<Claim>('/v1/claims', {
    party: 'bbc-news',
    text: 'The pipeline was hit, the ministry says.',
    stated_at: '2020-10-07T08:00:00Z',
  })
  const echoLink = await created<Link>('/v1/links', {
    from_claim_id: echo.id,
    to_claim_id: pipeline,
    kind: 'supports',
    note: 'Reports it.',
  })
  const lateReview = await created<Review>(`/v1/claims/${(answer.body as { claim: Claim }).claim.id}/reviews`, {
    reviewer: 'a-fact-checker',
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-10-10T00:00:00Z',
  })
  const retired = await created<Event>('/v1/events', {
    slug: 'retired-event',
    name: 'Recorded by mistake',
    starts_at: '2020-10',
    description: 'Deleted: it was no incident.',
  })
  const defunct = await created<Party>('/v1/parties', {
    slug: 'defunct-outlet',
    name: 'Defunct Outlet',
    kind: 'media',
    country: 'AZ',
    description: 'Closed in 2021.',
  })
  for (const path of [
    `/v1/claims/${withdrawn.id}`,
    `/v1/links/${echoLink.id}`,
    `/v1/reviews/${lateReview.id}`,
    `/v1/claims/${doubted.id}`,
    `/v1/parties/${defunct.id}`,
    `/v1/events/${retired.id}`,
  ]) {
    t.equal((await call(app, 'DELETE', path)).status, 204, path)
  }

  const lines = await exportAsImportLines(app)
  const imported = await callRaw(target.app, 'POST', '/v1/import', lines, { 'content-type': 'application/x-ndjson' })
  t.equal(imported.status, 200, imported.raw)
  const parties = (await everyPage<Party>(app, '/v1/parties')).length
  const claims = (await ndjsonExport<Claim>(app, '/v1/claims')).length
  const links = (await everyPage<Link>(app, '/v1/links')).length
  const events = (await everyPage<Event>(app, '/v1/events')).length
  t.match(imported.body, {
    counts: {
      parties: { created: parties + 1, updated: 0, unchanged: 0, deleted: 1 },
      events: { created: events + 1, updated: 0, unchanged: 0, deleted: 1 },
      claims: { created: claims + 2, updated: 4, unchanged: 0, deleted: 2 },
      // The rebuttal of the deleted claim went with it: its own deletion line finds it deleted.
      links: { created: links + 2, updated: 0, unchanged: 1, deleted: 1 },
      reviews: { created: 3, updated: 0, unchanged: 0, deleted: 1 },
    },
    line_error_count: 0,
  })

  /**
   * What an instance deleted, each answering 410 with the tombstone its list gives, by what the tombstones say
   * rather than by ids: a claim named by its last words, parties by their slugs.
   */
  const deletions = async (instance: FastifyInstance) => {
    const tombstones = await ndjsonExport<Tombstone>(instance, '/v1/tombstones')
    const textOf = new Map<string, string>()
    for (const claim of await ndjsonExport<Claim>(instance, '/v1/claims')) textOf.set(claim.id, claim.text)
    for (const tombstone of tombstones.filter((tombstone) => tombstone.kind === 'claim')) {
      textOf.set(tombstone.id, (await claimVersions(instance, tombstone.id)).at(-1)!.text)
    }
    const named = (id: string | undefined) => (id === undefined ? undefined : (textOf.get(id) ?? id))
    const paths = { party: 'parties', event: 'events', claim: 'claims', review: 'reviews', link: 'links' }
    const rows = []
    for (const tombstone of tombstones) {
      const gone = await call(instance, 'GET', `/v1/${paths[tombstone.kind]}/${tombstone.id}`)
      t.equal(gone.status, 410, `${tombstone.kind} ${tombstone.label}`)
      t.same(gone.body.tombstone, tombstone)
      rows.push({
        kind: tombstone.kind,
        label: tombstone.label.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, (id) => `"${named(id)}"`),
        deleted_at: tombstone.deleted_at,
        history: tombstone.history === null ? null : 'kept',
        party: tombstone.party?.slug,
        reviewer: tombstone.reviewer?.slug,
        claim: named(tombstone.claim_id),
        from: named(tombstone.from_claim_id),
        to: named(tombstone.to_claim_id),
        link_kind: tombstone.link_kind,
        // What it said when it was deleted, as its history keeps it, without the ids of either instance.
        said: JSON.stringify(await lastVersion<Record<string, unknown>>(instance, tombstone), (key, value) =>
          ['id', 'version', 'recorded_at', 'recorded_by'].includes(key) ? undefined : value,
        ),
      })
    }
    return rows.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  }
  const deletedBefore = await deletions(app)
  t.same(
    deletedBefore.map((row) => `${row.kind} ${row.label}`),
    [
      'claim BBC News: Withdrawn.',
      `claim ${doubted.party.name}: A second strike hit the pipeline near Yevlakh.`,
      "link am-foreign-ministry's claim rebuts az-defence-ministry's claim",
      "link bbc-news's claim supports az-defence-ministry's claim",
      'event Recorded by mistake (retired-event)',
      'party Defunct Outlet (defunct-outlet)',
      'review A\'s review of claim "The denial is false, with "quotes", commas, and\na new line."',
    ].sort(),
    'a claim, the rebuttal that went with it, a link, an event, a party and a review',
  )
  t.same(await deletions(target.app), deletedBefore, 'the same tombstones, at the same times')
  const doubtedHistory = async (instance: FastifyInstance, id: string) =>
    (await everyPage<ClaimVersion>(instance, `/v1/claims/${id}/history`)).map((entry) => [
      entry.version,
      entry.claim.text,
      entry.deleted?.deleted_at ?? null,
    ])
  const targetDoubted = (await ndjsonExport<Tombstone>(target.app, '/v1/tombstones?kind=claim')).find((tombstone) =>
    tombstone.label.endsWith('near Yevlakh.'),
  )!
  t.same(
    await doubtedHistory(target.app, targetDoubted.id),
    await doubtedHistory(app, doubted.id),
    "the deleted claim's history, its deletion last",
  )

  /** The ClaimReview documents of every reviewed claim, earliest stated first, then by wording. */
  const published = async (instance: FastifyInstance) => {
    // Claims of one day share their first instant: their text orders them alike on both instances.
    const reviewed = (await ndjsonExport<Claim>(instance, '/v1/claims?sort=stated_at'))
      .filter((claim) => claim.review_count > 0)
      .sort((a, b) => a.stated_at.localeCompare(b.stated_at) || a.text.localeCompare(b.text))
    const documents = []
    for (const claim of reviewed) {
      const ld = await call(instance, 'GET', `/v1/claims/${claim.id}`, undefined, { accept: 'application/ld+json' })
      documents.push(...(ld.body as ClaimReviewDocument)['@graph'])
    }
    return documents
  }
  const publishedBefore = await published(app)
  t.match(publishedBefore, [
    {
      claimReviewed:
        'Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan oil pipeline, which carries oil to Turkey.',
    },
    { claimReviewed: 'Armenia denies the pipeline attack', author: { logo: 'https://checks.example.org/logo.png' } },
  ])
  t.same(await published(target.app), publishedBefore, 'the same ClaimReview documents: rated words, summaries, author')

  const before = await ndjsonExport<Dispute>(app, '/v1/disputes?sort=-stated_at')
  const after = await ndjsonExport<Dispute>(target.app, '/v1/disputes?sort=-stated_at')
  t.ok(before.length >= 2, `disputes to compare (${before.length})`)
  // Claims stated on the same day share their first instant, and ids break the tie: the order within a day differs.
  const byDay = (disputes: Dispute[]) =>
    disputes.map(comparable).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  t.same(byDay(after), byDay(before), 'the same disputes')
  // The events, with what they say and the claims about them, without what differs between instances.
  const eventsOf = async (instance: FastifyInstance) =>
    (await everyPage<Event>(instance, '/v1/events'))
      .map(({ id: _id, created_at: _c, updated_at: _u, ...event }) => event)
      .sort((a, b) => a.slug.localeCompare(b.slug))
  const eventsBefore = await eventsOf(app)
  t.ok(
    eventsBefore.some((event) => event.slug === 'war-casualties' && event.claim_count === 3),
    'the demo events',
  )
  t.same(await eventsOf(target.app), eventsBefore, 'the same events, with the same claims about them')
  const figures = async (instance: FastifyInstance) =>
    JSON.stringify((await call(instance, 'GET', '/v1/events/war-casualties/figures')).body, (key, value) =>
      ['id', 'claim_id'].includes(key) ? undefined : value,
    )
  t.equal(await figures(target.app), await figures(app), 'the same figures table')
  t.same(
    after.map((dispute) => dispute.claim.stated_at),
    before.map((dispute) => dispute.claim.stated_at),
    'in the same order of when they were stated',
  )
  t.same(
    before.filter((dispute) => dispute.claim.standing !== 'current').map((dispute) => dispute.claim.standing),
    ['retracted', 'corrected'],
    'among them a retracted claim and a corrected one',
  )
  /** Every claim's standing, and what corrects or retracts it, by what it says rather than by its id. */
  const standings = async (app: FastifyInstance) => {
    const claims = await ndjsonExport<Claim>(app, '/v1/claims?sort=stated_at')
    const textOf = new Map(claims.map((claim) => [claim.id, claim.text]))
    const rows = claims.map((claim) => [
      claim.text,
      claim.standing,
      claim.corrected_by.map((id) => textOf.get(id)),
      claim.retracted_by.map((id) => textOf.get(id)),
      claim.corrects.map((id) => textOf.get(id)),
      claim.retracts.map((id) => textOf.get(id)),
    ])
    return rows.sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1))
  }
  t.same(await standings(target.app), await standings(app), 'the same standings, from the same corrections')
  const repeatCounts = async (app: FastifyInstance) =>
    (await ndjsonExport<Claim>(app, '/v1/claims'))
      .filter((claim) => claim.repeat_count > 0)
      .map((claim) => `${claim.text}: ${claim.repeat_count}`)
  t.same(await repeatCounts(target.app), await repeatCounts(app), 'the same repeats')
  t.same(await repeatCounts(app), ['A missile was fired at the pipeline, the ministry says.: 1'])
  const aspects = async (app: FastifyInstance) =>
    (await ndjsonExport<Claim>(app, '/v1/claims'))
      .filter((claim) => claim.disputed_aspects.length > 0)
      .map((claim) => `${claim.text}: ${claim.disputed_aspects.join(' ')} ${claim.disputed_measures.join(' ')}`)
      .sort()
  t.same(await aspects(target.app), await aspects(app), 'the same disputed aspects')
  const relays = async (app: FastifyInstance) => {
    const relayed = (await ndjsonExport<Claim>(app, '/v1/claims')).filter((claim) => claim.relayed_by.length > 0)
    const rows = []
    for (const claim of relayed) {
      const history = (await call(app, 'GET', `/v1/claims/${claim.id}/history`)).body.data as ClaimVersion[]
      rows.push(
        `${claim.text}: ${history.map((v) => v.claim.relayed_by.map((party) => party.slug).join('+')).join(' < ')}`,
      )
    }
    return rows.sort()
  }
  t.same(await relays(target.app), await relays(app), 'the same relays, version by version')
  t.same(await relays(app), [
    'Resolution of the conflict must be based on mutual concessions, and Nagorno-Karabakh and Armenia are ready ' +
      'for the same concessions that Azerbaijan will be ready for.: afp',
    'Russia is one of the countries that can mediate a settlement of the conflict, but more active Russian action ' +
      'should not be expected for now.: kommersant',
    'The Armenian toll is far higher than 240.: uawire < uawire+bbc-news',
  ])
  t.ok(
    (await aspects(app)).some((line) => /^240 people .*: figure deaths$/.test(line)),
    'the toll is disputed as a figure of deaths',
  )

  const slugsOf = (matrix: Matrix) =>
    matrix.cells.map((cell) => `${cell.claimant.slug}>${cell.responder.slug}:${cell.count}`)
  for (const by of ['party', 'side']) {
    const matrixBefore = await call(app, 'GET', `/v1/disputes/matrix?by=${by}`)
    const matrixAfter = await call(target.app, 'GET', `/v1/disputes/matrix?by=${by}`)
    t.same(slugsOf(matrixAfter.body).sort(), slugsOf(matrixBefore.body).sort(), `the same matrix by ${by}`)
  }
  t.same(await derivedStateErrors(target.database.db), { claims: [], links: [], pairs: [], copies: [] })
  const prebuttals = async (app: FastifyInstance) =>
    (await everyPage<Link>(app, '/v1/links')).filter((link) => link.prebuttal).map((link) => link.from_party.slug)
  t.same(await prebuttals(target.app), await prebuttals(app), 'the same prebuttals')
  t.same(await prebuttals(app), ['am-foreign-ministry'])

  // Imported again, nothing changes: the deletion lines are unchanged, and the lines that restate the deleted
  // records are refused as gone, since an import does not bring a deleted record back.
  const again = await callRaw(target.app, 'POST', '/v1/import?mode=best-effort', lines, {
    'content-type': 'application/x-ndjson',
  })
  t.match(again.body, {
    counts: {
      parties: { created: 0, updated: 0, unchanged: parties + 1, deleted: 0 },
      events: { created: 0, updated: 0, unchanged: events + 1, deleted: 0 },
      claims: { created: 0, updated: 0, unchanged: claims + 2 + 3, deleted: 0 },
      links: { created: 0, updated: 0, unchanged: links + 2, deleted: 0 },
      reviews: { created: 0, updated: 0, unchanged: 2 + 1, deleted: 0 },
    },
    line_error_count: 1 + 1 + 3 + 2 + 1,
  })
  t.same(
    [...new Set((again.body.line_errors as Array<{ problem: { code: string } }>).map((e) => e.problem.code))],
    ['gone'],
  )
})
