import type { TSchema } from '@sinclair/typebox'
import type { Claim } from './claim.schema.js'
import type { Dispute, Matrix } from './dispute.schema.js'
import type { EventFigureRow } from './event-figures.schema.js'
import type { Event } from './event.schema.js'
import type { StatedFigure } from './figure.schema.js'
import type { Link } from './link.schema.js'
import type { Party } from './party.schema.js'
import type { Review } from './review.schema.js'
import type { Tombstone } from './tombstone.schema.js'

/** A CSV column: its header, what it holds (for the documentation), and its value in the item's JSON form. */
export interface CsvColumn<Item> {
  name: string
  description: string
  value: (item: Item) => string | number | null
}

/**
 * The columns of a claim in CSV, flattened from its JSON representation; null is an empty field. Lists within a
 * field are joined with `;` (slugs and verdicts hold none) or, for URLs, with a space (URLs hold none).
 */
export const CLAIM_CSV_COLUMNS: CsvColumn<Claim>[] = [
  { name: 'id', description: 'The claim id.', value: (c) => c.id },
  { name: 'party_id', description: "The claimant's id.", value: (c) => c.party.id },
  { name: 'party_slug', description: "The claimant's slug.", value: (c) => c.party.slug },
  { name: 'party_name', description: "The claimant's name.", value: (c) => c.party.name },
  { name: 'text', description: 'The proposition.', value: (c) => c.text },
  { name: 'quote', description: 'The words as spoken, if recorded.', value: (c) => c.quote },
  {
    name: 'quote_language',
    description: "The quote's BCP 47 language tag, when it differs from the claim's.",
    value: (c) => c.quote_language,
  },
  {
    name: 'stated_at',
    description: 'When the claim was made (RFC 3339): the first instant of its span.',
    value: (c) => c.stated_at,
  },
  {
    name: 'stated_at_precision',
    description: 'How finely that is known: `year`, `month`, `day`, `hour`, `minute` or `second`.',
    value: (c) => c.stated_at_precision,
  },
  { name: 'event_slug', description: 'The slug of the event it is about.', value: (c) => c.event?.slug ?? null },
  { name: 'event_at', description: 'When the claimed event happened.', value: (c) => c.event_at },
  { name: 'event_at_precision', description: 'How finely that is known.', value: (c) => c.event_at_precision },
  { name: 'location_name', description: 'The place it names.', value: (c) => c.location?.name ?? null },
  { name: 'location_lat', description: "The place's latitude.", value: (c) => c.location?.lat ?? null },
  { name: 'location_lon', description: "The place's longitude.", value: (c) => c.location?.lon ?? null },
  { name: 'language', description: 'Its BCP 47 language tag.', value: (c) => c.language },
  {
    name: 'certainty',
    description: 'How firmly it was asserted: `asserted`, `hedged` or `speculative`; empty if not recorded.',
    value: (c) => c.certainty,
  },
  { name: 'tags', description: 'Its tags, joined with `;`.', value: (c) => c.tags.join(';') },
  {
    name: 'relayed_by',
    description: 'Slugs of the parties that relayed it, joined with `;`.',
    value: (c) => c.relayed_by.map((party) => party.slug).join(';'),
  },
  {
    name: 'source_urls',
    description: 'The URLs of its sources, joined with a space.',
    value: (c) => c.sources.map((source) => source.url).join(' '),
  },
  { name: 'status', description: '`disputed` or `unchallenged`.', value: (c) => c.status },
  { name: 'rebuttal_count', description: 'Live rebuttals by other parties.', value: (c) => c.rebuttal_count },
  { name: 'support_count', description: 'Live supports by other parties.', value: (c) => c.support_count },
  { name: 'repeat_count', description: 'Live repeats (echoes) by other parties.', value: (c) => c.repeat_count },
  {
    name: 'rebutted_by',
    description: 'Slugs of the rebutting parties, joined with `;`.',
    value: (c) => c.rebutted_by.map((party) => party.slug).join(';'),
  },
  {
    name: 'disputed_aspects',
    description: 'What its rebuttals dispute (`whole` for a flat denial), joined with `;`.',
    value: (c) => c.disputed_aspects.join(';'),
  },
  {
    name: 'disputed_measures',
    description: 'The measures of the figures its rebuttals dispute, joined with `;`.',
    value: (c) => c.disputed_measures.join(';'),
  },
  {
    name: 'last_response_at',
    description: 'When the latest rebuttal or support was stated.',
    value: (c) => c.last_response_at,
  },
  {
    name: 'first_response_at',
    description: 'When the first rebuttal or support was stated.',
    value: (c) => c.first_response_at,
  },
  {
    name: 'disputed_since',
    description: 'When the first rebuttal was stated.',
    value: (c) => c.disputed_since,
  },
  {
    name: 'response_time_seconds',
    description: 'Seconds from the claim to its first response (negative for a prebuttal).',
    value: (c) => c.response_time_seconds,
  },
  {
    name: 'standing',
    description: '`current`, `corrected` or `retracted` (by a later claim of its party or side chain).',
    value: (c) => c.standing,
  },
  {
    name: 'corrected_by',
    description: 'Ids of the claims that correct it, joined with `;`.',
    value: (c) => c.corrected_by.join(';'),
  },
  {
    name: 'retracted_by',
    description: 'Ids of the claims that retract it, joined with `;`.',
    value: (c) => c.retracted_by.join(';'),
  },
  { name: 'review_count', description: 'Live fact-checks of the claim.', value: (c) => c.review_count },
  {
    name: 'verdicts',
    description: 'Who gave which verdict: `reviewer-slug:verdict` for each, latest published first, joined with `;`.',
    value: (c) => c.reviews.map((review) => `${review.reviewer.slug}:${review.verdict}`).join(';'),
  },
  { name: 'version', description: 'Its version, as in its ETag.', value: (c) => c.version },
  { name: 'created_at', description: 'When it was recorded.', value: (c) => c.created_at },
  { name: 'updated_at', description: 'When it was last edited.', value: (c) => c.updated_at },
]

/** A dispute in CSV: its claim's columns, then its latest rebuttal (the rest are in the NDJSON form). */
export const DISPUTE_CSV_COLUMNS: CsvColumn<Dispute>[] = [
  ...CLAIM_CSV_COLUMNS.map(({ name, description, value }) => ({
    name,
    description,
    value: (dispute: Dispute) => value(dispute.claim),
  })),
  {
    name: 'latest_rebuttal_claim_id',
    description: "The latest rebutting claim's id.",
    value: (d) => d.latest_rebuttals[0]?.claim.id ?? null,
  },
  {
    name: 'latest_rebuttal_party',
    description: "The latest rebutting claim's party slug.",
    value: (d) => d.latest_rebuttals[0]?.claim.party.slug ?? null,
  },
  {
    name: 'latest_rebuttal_at',
    description: 'When the latest rebutting claim was stated.',
    value: (d) => d.latest_rebuttals[0]?.claim.stated_at ?? null,
  },
]

/** A link in CSV: both of its claims, their parties and when they were stated. */
export const LINK_CSV_COLUMNS: CsvColumn<Link>[] = [
  { name: 'id', description: 'The link id.', value: (l) => l.id },
  { name: 'kind', description: '`rebuts`, `supports`, `repeats`, `corrects` or `retracts`.', value: (l) => l.kind },
  { name: 'from_claim_id', description: "The responding claim's id.", value: (l) => l.from_claim_id },
  { name: 'from_party_slug', description: "The responding claim's party slug.", value: (l) => l.from_party.slug },
  {
    name: 'from_claim_stated_at',
    description: 'When the responding claim was stated.',
    value: (l) => l.from_claim_stated_at,
  },
  { name: 'to_claim_id', description: "The answered claim's id.", value: (l) => l.to_claim_id },
  { name: 'to_party_slug', description: "The answered claim's party slug.", value: (l) => l.to_party.slug },
  {
    name: 'to_claim_stated_at',
    description: 'When the answered claim was stated.',
    value: (l) => l.to_claim_stated_at,
  },
  { name: 'note', description: 'Why the one claim answers the other.', value: (l) => l.note },
  {
    name: 'prebuttal',
    description: '`true` when the response was made before the claim it answers, else `false`.',
    value: (l) => String(l.prebuttal),
  },
  {
    name: 'aspect',
    description: 'The part of the claim it answers; empty for the whole claim.',
    value: (l) => l.aspect,
  },
  { name: 'measure', description: 'For the aspect `figure`, what the figure measures.', value: (l) => l.measure },
  { name: 'version', description: 'Its version, as in its ETag.', value: (l) => l.version },
  { name: 'created_at', description: 'When it was recorded.', value: (l) => l.created_at },
  { name: 'updated_at', description: 'When it was last edited.', value: (l) => l.updated_at },
]

/** A party in CSV. */
export const PARTY_CSV_COLUMNS: CsvColumn<Party>[] = [
  { name: 'id', description: 'The party id.', value: (p) => p.id },
  { name: 'slug', description: 'Its slug.', value: (p) => p.slug },
  { name: 'name', description: 'Its name.', value: (p) => p.name },
  { name: 'kind', description: 'What kind of party it is.', value: (p) => p.kind },
  { name: 'country', description: 'Its ISO 3166-1 alpha-2 country code.', value: (p) => p.country },
  { name: 'side_slug', description: 'The slug of the party it speaks for.', value: (p) => p.side?.slug ?? null },
  { name: 'description', description: 'Who it is.', value: (p) => p.description },
  { name: 'wikidata', description: 'Its Wikidata id.', value: (p) => p.wikidata },
  { name: 'url', description: 'Its home page.', value: (p) => p.url },
  { name: 'logo', description: 'Its logo.', value: (p) => p.logo },
  { name: 'version', description: 'Its version, as in its ETag.', value: (p) => p.version },
  { name: 'created_at', description: 'When it was recorded.', value: (p) => p.created_at },
  { name: 'updated_at', description: 'When it was last edited.', value: (p) => p.updated_at },
]

/** An event in CSV. */
export const EVENT_CSV_COLUMNS: CsvColumn<Event>[] = [
  { name: 'id', description: 'The event id.', value: (e) => e.id },
  { name: 'slug', description: 'Its slug.', value: (e) => e.slug },
  { name: 'name', description: 'Its name.', value: (e) => e.name },
  {
    name: 'starts_at',
    description: 'When it began (RFC 3339): the first instant of its span.',
    value: (e) => e.starts_at,
  },
  { name: 'starts_at_precision', description: 'How finely that is known.', value: (e) => e.starts_at_precision },
  { name: 'ends_at', description: 'When it ended, if it has.', value: (e) => e.ends_at },
  { name: 'ends_at_precision', description: 'How finely that is known.', value: (e) => e.ends_at_precision },
  { name: 'location_name', description: 'The place it happened.', value: (e) => e.location?.name ?? null },
  { name: 'location_lat', description: "The place's latitude.", value: (e) => e.location?.lat ?? null },
  { name: 'location_lon', description: "The place's longitude.", value: (e) => e.location?.lon ?? null },
  { name: 'tags', description: 'Its tags, joined with `;`.', value: (e) => e.tags.join(';') },
  { name: 'description', description: 'What happened, in short.', value: (e) => e.description },
  { name: 'claim_count', description: 'Live claims about it.', value: (e) => e.claim_count },
  { name: 'disputed_claim_count', description: 'Those of them disputed.', value: (e) => e.disputed_claim_count },
  { name: 'version', description: 'Its version, as in its ETag.', value: (e) => e.version },
  { name: 'created_at', description: 'When it was recorded.', value: (e) => e.created_at },
  { name: 'updated_at', description: 'When it was last edited.', value: (e) => e.updated_at },
]

/** The figures table of an event in CSV: one row per figure, with the spread of its measure and unit on every row. */
export const EVENT_FIGURE_CSV_COLUMNS: CsvColumn<EventFigureRow>[] = [
  { name: 'measure', description: 'What the figure counts.', value: (r) => r.measure },
  { name: 'party_slug', description: 'The slug of the party that states it.', value: (r) => r.party.slug },
  { name: 'party_name', description: "That party's name.", value: (r) => r.party.name },
  {
    name: 'latest',
    description: "`true` for the party's latest figure of the measure, `false` for the others it stated.",
    value: (r) => String(r.latest),
  },
  { name: 'value', description: 'The figure, when one number.', value: (r) => r.figure.value },
  { name: 'low', description: 'The low end of a range (empty when open).', value: (r) => r.figure.low },
  { name: 'high', description: 'The high end of a range (empty when open).', value: (r) => r.figure.high },
  { name: 'unit', description: 'What it is counted in.', value: (r) => r.figure.unit },
  {
    name: 'qualifier',
    description: 'How the claim qualifies it: about, at least, up to.',
    value: (r) => r.figure.qualifier,
  },
  { name: 'as_of', description: 'When the figure holds.', value: (r) => r.figure.as_of },
  { name: 'as_of_precision', description: 'How finely that is known.', value: (r) => r.figure.as_of_precision },
  { name: 'claim_id', description: 'The claim that states it.', value: (r) => r.figure.claim_id },
  { name: 'stated_at', description: 'When that claim was made.', value: (r) => r.figure.stated_at },
  {
    name: 'stated_at_precision',
    description: 'How finely that is known.',
    value: (r) => r.figure.stated_at_precision,
  },
  {
    name: 'standing',
    description: 'That claim’s standing: `current`, `corrected` or `retracted`.',
    value: (r) => r.figure.standing,
  },
  {
    name: 'spread_low',
    description: "The lowest of the parties' latest figures of the measure in that unit.",
    value: (r) => r.spread.low,
  },
  {
    name: 'spread_high',
    description: "The highest of the parties' latest figures of the measure in that unit.",
    value: (r) => r.spread.high,
  },
]

/** A review in CSV: who rated which claim, how, and where it was published. */
export const REVIEW_CSV_COLUMNS: CsvColumn<Review>[] = [
  { name: 'id', description: 'The review id.', value: (r) => r.id },
  { name: 'claim_id', description: 'The reviewed claim.', value: (r) => r.claim_id },
  { name: 'claim_version', description: 'The version of the claim it rated.', value: (r) => r.claim_version },
  {
    name: 'rates_current_wording',
    description: '`true` when the claim still says what it rated, else `false`.',
    value: (r) => String(r.rates_current_wording),
  },
  { name: 'reviewer_slug', description: "The fact-checker's slug.", value: (r) => r.reviewer.slug },
  { name: 'verdict', description: 'The normalised verdict.', value: (r) => r.verdict },
  { name: 'rating_label', description: 'The rating as published.', value: (r) => r.rating_label },
  { name: 'rating_value', description: "The rating on the publisher's scale.", value: (r) => r.rating_value },
  { name: 'best_rating', description: 'The best value of that scale.', value: (r) => r.best_rating },
  { name: 'worst_rating', description: 'The worst value of that scale.', value: (r) => r.worst_rating },
  { name: 'url', description: 'Where the fact-check is published (empty for a draft).', value: (r) => r.url },
  { name: 'claim_summary', description: 'The rated claim in a few words.', value: (r) => r.claim_summary },
  { name: 'published_at', description: 'When it was published.', value: (r) => r.published_at },
  { name: 'version', description: 'Its version, as in its ETag.', value: (r) => r.version },
  { name: 'created_at', description: 'When it was recorded.', value: (r) => r.created_at },
  { name: 'updated_at', description: 'When it was last edited.', value: (r) => r.updated_at },
]

/** A tombstone in CSV: what the deleted record was, and when and by which key it was deleted. */
export const TOMBSTONE_CSV_COLUMNS: CsvColumn<Tombstone>[] = [
  { name: 'kind', description: '`party`, `event`, `claim`, `review` or `link`.', value: (d) => d.kind },
  { name: 'id', description: 'The id of the deleted record.', value: (d) => d.id },
  { name: 'label', description: 'What it was, in a few words.', value: (d) => d.label },
  { name: 'deleted_at', description: 'When it was deleted.', value: (d) => d.deleted_at },
  {
    name: 'deleted_by_id',
    description: 'The API key that deleted it (empty when none was recorded).',
    value: (d) => d.deleted_by?.id ?? null,
  },
  { name: 'deleted_by_name', description: "That key's name.", value: (d) => d.deleted_by?.name ?? null },
  { name: 'history', description: 'The path of its history.', value: (d) => d.history },
  { name: 'party_slug', description: "A claim's party slug.", value: (d) => d.party?.slug ?? null },
  { name: 'reviewer_slug', description: "A review's reviewer slug.", value: (d) => d.reviewer?.slug ?? null },
  { name: 'claim_id', description: 'The claim a review was of.', value: (d) => d.claim_id ?? null },
  { name: 'from_claim_id', description: "A link's responding claim.", value: (d) => d.from_claim_id ?? null },
  { name: 'to_claim_id', description: "A link's answered claim.", value: (d) => d.to_claim_id ?? null },
  { name: 'link_kind', description: "A link's kind.", value: (d) => d.link_kind ?? null },
]

/** A figure in CSV: one row per figure a live claim states, beside who stated it and when. */
export const FIGURE_CSV_COLUMNS: CsvColumn<StatedFigure>[] = [
  { name: 'claim_id', description: 'The claim that states it.', value: (f) => f.claim_id },
  { name: 'party_slug', description: "The claimant's slug.", value: (f) => f.party.slug },
  {
    name: 'stated_at',
    description: 'When the claim was made: the first instant of its span.',
    value: (f) => f.stated_at,
  },
  { name: 'stated_at_precision', description: 'How finely that is known.', value: (f) => f.stated_at_precision },
  {
    name: 'standing',
    description: "The claim's standing: `current`, `corrected` or `retracted`.",
    value: (f) => f.standing,
  },
  { name: 'measure', description: 'What it counts (a slug).', value: (f) => f.measure },
  { name: 'value', description: 'The number, when one is stated.', value: (f) => f.value },
  { name: 'low', description: 'The low end of a range (empty when open).', value: (f) => f.low },
  { name: 'high', description: 'The high end of a range (empty when open).', value: (f) => f.high },
  { name: 'unit', description: 'What it is counted in.', value: (f) => f.unit },
  { name: 'qualifier', description: 'How the claim qualifies it (about, at least, up to).', value: (f) => f.qualifier },
  { name: 'as_of', description: 'When the figure holds: the first instant of its span.', value: (f) => f.as_of },
  { name: 'as_of_precision', description: 'How finely that is known.', value: (f) => f.as_of_precision },
]

/** A cell of the dispute matrix in CSV: one row per (claimant, responder) pair, with its count. */
export const MATRIX_CSV_COLUMNS: CsvColumn<Matrix['cells'][number]>[] = [
  { name: 'claimant_id', description: 'The claimant (or its side).', value: (c) => c.claimant.id },
  { name: 'claimant_slug', description: "The claimant's slug.", value: (c) => c.claimant.slug },
  { name: 'claimant_name', description: "The claimant's name.", value: (c) => c.claimant.name },
  {
    name: 'responder_id',
    description: 'Who rebutted or supported its claims (or its side).',
    value: (c) => c.responder.id,
  },
  { name: 'responder_slug', description: "The responder's slug.", value: (c) => c.responder.slug },
  { name: 'responder_name', description: "The responder's name.", value: (c) => c.responder.name },
  { name: 'count', description: 'Live links of the kind from the responder to the claimant.', value: (c) => c.count },
]

/**
 * The 200 answer of a list in its three representations, for the response schema and the OpenAPI document.
 * Only the JSON page is serialised through a schema; the exports are streamed as they are.
 */
export function listRepresentations(page: TSchema, columns: CsvColumn<never>[], item: string) {
  // The page's own headers are said once, for the whole response: within `content` they are not allowed.
  const { headers: _pageHeaders, ...pageSchema } = page
  return {
    description: `A page of the list as JSON; or every matching ${item} as CSV or NDJSON (Accept, or the format parameter).`,
    headers: {
      link: { type: 'string', description: 'JSON only: `<…>; rel="next"`, the next page, when there is one.' },
      vary: { type: 'string', description: 'Accept: the representation depends on it.' },
      'content-disposition': { type: 'string', description: 'CSV only: `attachment; filename="…"`.' },
    },
    content: {
      'application/json': { schema: pageSchema as TSchema },
      'text/csv': {
        schema: {
          type: 'string',
          description: `RFC 4180, CRLF line ends, a header row, then one row per ${item}: ${columns.map((c) => c.name).join(', ')}.`,
        },
      },
      'application/x-ndjson': {
        schema: {
          type: 'string',
          description: `One ${item} per line, as in the data of the JSON page, each line ended by \\n.`,
        },
      },
    },
  }
}
