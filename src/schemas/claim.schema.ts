import { type Static, Type } from '@sinclair/typebox'
import { DISPUTED_ASPECTS } from './aspect.schema.js'
import {
  CountQuery,
  DateTime,
  EditNote,
  exampled,
  Nullable,
  ExportablePageQuery,
  SLUG_PATTERN,
  Uuid,
} from './common.schema.js'
import { EventKey, EventRefSchema } from './event-ref.schema.js'
import { PartyKey, PartyRefSchema } from './party.schema.js'
import { ReviewSummarySchema, VERDICTS } from './review.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { versionHeading } from './tombstone.schema.js'
import { NullableEnum, StringEnum } from './string-enum.js'
import { NullableTimePrecisionSchema, PartialDateTime, TIME_PRECISIONS, TimePrecisionSchema } from './time.schema.js'

const Text = Type.String({
  minLength: 1,
  maxLength: 5000,
  description: 'The proposition, in plain words.',
  examples: ['Armenian forces fired a missile at the Baku-Tbilisi-Ceyhan oil pipeline.'],
})
const Quote = Type.String({ minLength: 1, maxLength: 10000, description: 'The words as spoken or published.' })
const Language = Type.String({
  pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$',
  maxLength: 35,
  description: 'A BCP 47 language tag.',
  examples: ['en', 'hy', 'az-Latn'],
})
const QuoteLanguage = Type.String({
  ...Language,
  description:
    "The BCP 47 language tag of the quote, when it differs from the text's (an Arabic quote of an English text); " +
    'needs a quote.',
  examples: ['ar'],
})
export const Tag = Type.String({ pattern: SLUG_PATTERN, maxLength: 50, examples: ['pipeline'] })
export const Tags = Type.Array(Tag, { maxItems: 20, uniqueItems: true })

const SourceSchema = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 }),
    publisher: Type.Optional(Type.String({ minLength: 1, maxLength: 300, examples: ['Reuters'] })),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    published_at: Type.Optional(DateTime),
    quote: Type.Optional(Type.String({ minLength: 1, maxLength: 10000 })),
  },
  { additionalProperties: false, title: 'Source', description: 'An appearance where the claim was reported.' },
)
const Sources = Type.Array(SourceSchema, { maxItems: 50 })

const LocationName = Type.String({ minLength: 1, maxLength: 300, examples: ['Stepanakert'] })
const Latitude = Type.Number({ minimum: -90, maximum: 90 })
const Longitude = Type.Number({ minimum: -180, maximum: 180 })
const latLonTogether = { dependentRequired: { lat: ['lon'], lon: ['lat'] } }

export const LocationInput = Type.Object(
  { name: LocationName, lat: Type.Optional(Latitude), lon: Type.Optional(Longitude) },
  { additionalProperties: false, ...latLonTogether },
)
/** A location in a PATCH merges into the current one (JSON Merge Patch): absent members stay, null clears. */
export const LocationPatch = Type.Object(
  {
    name: Type.Optional(LocationName),
    lat: Type.Optional(Nullable(Latitude)),
    lon: Type.Optional(Nullable(Longitude)),
  },
  { additionalProperties: false, minProperties: 1, ...latLonTogether },
)

/** A location as a record reads: a place name, with its coordinates when known. */
export const StoredLocation = Type.Union([
  Type.Object({ name: Type.String(), lat: Nullable(Type.Number()), lon: Nullable(Type.Number()) }),
  Type.Null(),
])

/** How an input precision field is described: it restates the precision of the time beside it. */
export const PRECISION_INPUT = (field: string) =>
  `How finely ${field} is known, when coarser than it is written (a claim read back and sent again gives ` +
  `\`2020-10-07T00:00:00.000Z\` and \`day\`); ${field} must then be the first instant of such a span (UTC). ` +
  `By default, the precision ${field} is written to.`

/** How far from zero a figure may go: every whole number up to it is exact in JSON and in JavaScript. */
export const FIGURE_MAGNITUDE_MAX = 1e15
const FigureNumber = (description: string) =>
  Type.Number({ minimum: -FIGURE_MAGNITUDE_MAX, maximum: FIGURE_MAGNITUDE_MAX, description })

export const Measure = Type.String({
  pattern: SLUG_PATTERN,
  maxLength: 50,
  description: 'What the figure counts, as a slug: `deaths`, `injured`, `missiles-fired`, `displaced`, or your own.',
  examples: ['deaths'],
})
const FigureUnit = Type.String({
  minLength: 1,
  maxLength: 50,
  description: 'What it is counted in, when the measure does not say (people, missiles, km2).',
  examples: ['people'],
})
const FigureQualifier = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'How the claim qualifies the figure, in its words: about, at least, up to.',
  examples: ['at least'],
})
const figureNumbers = {
  value: FigureNumber('The figure, when the claim states one number; null for a range.'),
  low: FigureNumber('The low end of a stated range; null when open ("up to 300").'),
  high: FigureNumber('The high end of a stated range; null when open ("at least 500").'),
}

/** Most figures one claim may state. */
export const FIGURES_MAX = 50

const FigureInput = Type.Object(
  {
    measure: Measure,
    value: Type.Optional(Nullable(figureNumbers.value)),
    low: Type.Optional(Nullable(figureNumbers.low)),
    high: Type.Optional(Nullable(figureNumbers.high)),
    unit: Type.Optional(Nullable(FigureUnit)),
    qualifier: Type.Optional(Nullable(FigureQualifier)),
    as_of: Type.Optional(
      Nullable(
        Type.String({ ...PartialDateTime, description: `When the figure holds. ${PartialDateTime.description}` }),
      ),
    ),
    as_of_precision: Type.Optional(NullableEnum(TimePrecisionSchema, PRECISION_INPUT('as_of'))),
  },
  {
    additionalProperties: false,
    title: 'FigureInput',
    description:
      'A figure the claim states: `value`, or a range of `low` and `high` with either end open, never both. ' +
      'Null stands for an absent member, so that a figure read back can be sent again.',
  },
)
const FiguresInput = Type.Array(FigureInput, {
  maxItems: FIGURES_MAX,
  description:
    `The figures the claim states, ${FIGURES_MAX} at most, one per measure, unit and as_of; ` + 'low is at most high.',
})
export type FigureInput = Static<typeof FigureInput>

export const FigureSchema = Type.Object(
  {
    measure: Type.String({ description: Measure.description }),
    value: Nullable(figureNumbers.value),
    low: Nullable(figureNumbers.low),
    high: Nullable(figureNumbers.high),
    unit: Nullable(Type.String({ description: FigureUnit.description })),
    qualifier: Nullable(Type.String({ description: FigureQualifier.description })),
    as_of: Nullable(
      Type.String({
        ...DateTime,
        description: 'When the figure holds: the first instant (UTC) of the span its precision names.',
      }),
    ),
    as_of_precision: NullableTimePrecisionSchema,
  },
  { $id: 'Figure', title: 'Figure', description: 'A figure a claim states: one number, or a range.' },
)
export type Figure = Static<typeof FigureSchema>

const ClaimEventKey = Type.String({ ...EventKey, description: 'The event the claim is about: an event id or slug.' })

/** The filter on events that the claim list and the disputes list share. */
export const eventFilter = {
  event: Type.Optional(Type.String({ ...EventKey, description: 'Only claims about this event (id or slug).' })),
}

/** The demo data's one disputed claim, the Azerbaijani Defence Ministry's of the pipeline: examples name it. */
export const DEMO_CLAIM_ID = '5eed0000-0000-4000-8000-000000000001'

/** How many parties a claim may name as having relayed it. */
export const RELAYS_MAX = 10

const RelayedByInput = Type.Array(PartyKey, {
  maxItems: RELAYS_MAX,
  uniqueItems: true,
  description:
    'The parties (ids or slugs) that relayed the claim, reporting what the claimant said ("NYT: Palestinians ' +
    `say…" is a claim of the Palestinian side relayed by the NYT); ${RELAYS_MAX} at most, never the claimant.`,
})

/** The filter of the claims one party relayed, for the claims list and the disputes. */
export const relayedByFilter = {
  relayed_by: Type.Optional(
    Type.String({ ...exampled(PartyKey), description: 'Only claims that this party (id or slug) relayed.' }),
  ),
}

export const CLAIM_STATUSES = ['unchallenged', 'disputed'] as const
export const CLAIM_STANDINGS = ['current', 'corrected', 'retracted'] as const
export const CLAIM_CERTAINTIES = ['asserted', 'hedged', 'speculative'] as const
const CERTAINTY_DESCRIPTION =
  'How firmly the claim was asserted, as said: `asserted` (stated as fact, "high confidence"), `hedged` ("it ' +
  'appears", "reportedly"), `speculative` ("may have", "cannot rule out").'
const NullableCertainty = (description: string) =>
  NullableEnum(StringEnum(CLAIM_CERTAINTIES, { title: 'Certainty' }), description)

const RestatingClaims = (description: string) => Type.Array(Uuid, { description })

/** What a claim says: the fields an edit can change, and what each version in the history keeps. */
const claimContent = {
  text: Type.String(),
  quote: Nullable(Type.String()),
  quote_language: Nullable(
    Type.String({ description: "The quote's language tag; null when the quote is in the claim's language." }),
  ),
  stated_at: Type.String({
    ...DateTime,
    description: 'When the claim was made: the first instant (UTC) of the span its precision names.',
  }),
  stated_at_precision: TimePrecisionSchema,
  event_at: Nullable(
    Type.String({
      ...DateTime,
      description: 'When the claimed event happened: the first instant (UTC) of the span its precision names.',
    }),
  ),
  event_at_precision: NullableTimePrecisionSchema,
  location: StoredLocation,
  language: Type.String(),
  certainty: NullableCertainty(`${CERTAINTY_DESCRIPTION} Null: not recorded.`),
  tags: Type.Array(Type.String()),
  sources: Type.Array(SourceSchema),
  figures: Type.Array(Type.Ref(FigureSchema), { description: 'The figures it states, in the order given.' }),
  event: Type.Union([Type.Ref(EventRefSchema), Type.Null()], { description: 'The event the claim is about.' }),
  relayed_by: Type.Array(Type.Ref(PartyRefSchema), {
    description: 'The parties that relayed the claim (reported what the claimant said), in the order given.',
  }),
}

export const ClaimSchema = Type.Object(
  {
    id: Uuid,
    party: Type.Ref(PartyRefSchema),
    ...claimContent,
    status: StringEnum(CLAIM_STATUSES, {
      title: 'ClaimStatus',
      description: 'disputed when at least one live claim by another party rebuts it.',
    }),
    rebuttal_count: Type.Integer({ minimum: 0, description: 'Live claims of other parties that rebut it.' }),
    support_count: Type.Integer({ minimum: 0, description: 'Live claims of other parties that support it.' }),
    repeat_count: Type.Integer({
      minimum: 0,
      description: 'Live claims of other parties that repeat it (echoes): counted apart, never as supports.',
    }),
    rebutted_by: Type.Array(Type.Ref(PartyRefSchema), { description: 'The parties that rebut it, by slug.' }),
    disputed_aspects: Type.Array(StringEnum(DISPUTED_ASPECTS, { title: 'DisputedAspect' }), {
      description:
        'What its live rebuttals dispute, each aspect once, in this order: cause, figure, attribution, timing, ' +
        'location, evidence, other, and `whole` for a rebuttal that names no aspect (a flat denial of the whole ' +
        'claim). Empty while no rebuttal disputes it.',
    }),
    disputed_measures: Type.Array(Type.String(), {
      description: 'The measures whose figures its live rebuttals dispute (aspect figure), each once, sorted.',
    }),
    last_response_at: Nullable(
      Type.String({ ...DateTime, description: 'When the latest rebutting or supporting claim was stated.' }),
    ),
    first_response_at: Nullable(
      Type.String({ ...DateTime, description: 'When the first live rebutting or supporting claim was stated.' }),
    ),
    disputed_since: Nullable(
      Type.String({
        ...DateTime,
        description: 'When the first live rebuttal was stated: since when the claim is disputed. Null while it is not.',
      }),
    ),
    response_time_seconds: Nullable(
      Type.Integer({
        description:
          'Seconds from the claim to its first live response (rebuttal or support); negative for a response ' +
          'made before it (a prebuttal). Null while nothing answers it.',
      }),
    ),
    review_count: Type.Integer({ minimum: 0, description: 'Live fact-checks of the claim.' }),
    reviews: Type.Array(Type.Ref(ReviewSummarySchema), {
      description: 'Its fact-checks in short, latest published first; each whole at /v1/reviews/{id}.',
    }),
    standing: StringEnum(CLAIM_STANDINGS, {
      title: 'Standing',
      description:
        'Whether it stands as said: retracted when a later live claim of its party (or of a party on its side ' +
        'chain) withdraws it, corrected when one corrects it (retracted wins), current otherwise.',
    }),
    corrected_by: RestatingClaims('The live claims that correct it, earliest stated first.'),
    retracted_by: RestatingClaims('The live claims that retract it, earliest stated first.'),
    corrects: RestatingClaims('The earlier claims that it corrects, earliest stated first.'),
    retracts: RestatingClaims('The earlier claims that it retracts, earliest stated first.'),
    version: Type.Integer({ minimum: 1, description: 'Incremented by every edit; earlier versions are in /history.' }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Claim', title: 'Claim' },
)
export type Claim = Static<typeof ClaimSchema>
export type ClaimSource = Static<typeof SourceSchema>

export const CreateClaimBody = Type.Object(
  {
    party: Type.String({ ...PartyKey, description: 'Who made the claim: a party id or slug.' }),
    text: Text,
    quote: Type.Optional(Quote),
    quote_language: Type.Optional(QuoteLanguage),
    stated_at: Type.String({
      ...PartialDateTime,
      description: `When the claim was made. ${PartialDateTime.description}`,
    }),
    stated_at_precision: Type.Optional(
      StringEnum(TIME_PRECISIONS, { title: 'TimePrecision', description: PRECISION_INPUT('stated_at') }),
    ),
    event_at: Type.Optional(
      Type.String({
        ...PartialDateTime,
        description: `When the claimed event happened. ${PartialDateTime.description}`,
      }),
    ),
    event_at_precision: Type.Optional(
      StringEnum(TIME_PRECISIONS, { title: 'TimePrecision', description: PRECISION_INPUT('event_at') }),
    ),
    location: Type.Optional(LocationInput),
    language: Type.Optional(Type.String({ ...Language, default: 'en' })),
    certainty: Type.Optional(StringEnum(CLAIM_CERTAINTIES, { title: 'Certainty', description: CERTAINTY_DESCRIPTION })),
    tags: Type.Optional(Tags),
    sources: Type.Optional(Sources),
    figures: Type.Optional(FiguresInput),
    event: Type.Optional(ClaimEventKey),
    relayed_by: Type.Optional(RelayedByInput),
  },
  {
    additionalProperties: false,
    title: 'CreateClaim',
    // A statement of the demo's report that its data set does not record, by a party it has.
    examples: [
      {
        party: 'uawire',
        text: 'After some calm, the sides reported new shelling of towns and villages on both sides of the front line.',
        stated_at: '2020-10-07',
        language: 'en',
        tags: ['shelling', 'nagorno-karabakh'],
        sources: [
          {
            url: 'https://uawire.org/turkey-rejects-truce-in-nagorno-karabakh',
            publisher: 'UAWire',
            title: 'Turkey rejects truce in Nagorno-Karabakh',
          },
        ],
      },
    ],
  },
)
export type CreateClaimInput = Static<typeof CreateClaimBody>

export const UpdateClaimBody = Type.Object(
  {
    text: Type.Optional(Text),
    quote: Type.Optional(Nullable(Quote)),
    quote_language: Type.Optional(Nullable(QuoteLanguage)),
    stated_at: Type.Optional(PartialDateTime),
    stated_at_precision: Type.Optional(
      StringEnum(TIME_PRECISIONS, { title: 'TimePrecision', description: PRECISION_INPUT('stated_at') }),
    ),
    event_at: Type.Optional(Nullable(PartialDateTime)),
    event_at_precision: Type.Optional(
      StringEnum(TIME_PRECISIONS, { title: 'TimePrecision', description: PRECISION_INPUT('event_at') }),
    ),
    location: Type.Optional(Nullable(LocationPatch)),
    language: Type.Optional(Language),
    certainty: Type.Optional(NullableCertainty(`${CERTAINTY_DESCRIPTION} Null clears it.`)),
    tags: Type.Optional(Tags),
    sources: Type.Optional(Sources),
    figures: Type.Optional(
      Nullable({
        ...FiguresInput,
        description: `${FiguresInput.description} They replace all of its figures; null or [] clears them.`,
      }),
    ),
    event: Type.Optional(Nullable(ClaimEventKey)),
    relayed_by: Type.Optional(
      Nullable({
        ...RelayedByInput,
        description: `${RelayedByInput.description} Replaces the list; null or [] clears it.`,
      }),
    ),
    edit_note: Type.Optional(EditNote),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'UpdateClaim',
    examples: [
      { tags: ['pipeline', 'missile', 'oil', 'infrastructure'], edit_note: 'Tags the pipeline as infrastructure.' },
    ],
    description:
      'Fields to change; null clears an optional field, an absent field stays as it is (clearing the quote clears ' +
      "its quote_language too). A claim's party cannot change. `edit_note` is not a field of the claim: it says " +
      'why the change is made, and the version it makes keeps it.',
  },
)
export type UpdateClaimInput = Static<typeof UpdateClaimBody>

export const ClaimParams = Type.Object({ id: exampled(Uuid, DEMO_CLAIM_ID) })

/** The filter on standing that the claim list and the disputes list share. */
export const standingFilter = {
  standing: Type.Optional(
    Type.Array(StringEnum(CLAIM_STANDINGS, { title: 'Standing' }), {
      maxItems: CLAIM_STANDINGS.length,
      description: 'Only claims of one of these standings (current, corrected, retracted); repeat for several.',
    }),
  ),
}

/** The filter on stated figures that the claim list and the disputes list share. */
export const measureFilter = {
  measure: Type.Optional(
    Type.Array(exampled(Measure), {
      maxItems: 20,
      description: 'Only claims that state a figure of one of these measures (`deaths`); repeat for several.',
    }),
  ),
}

/** The filter on certainty that the claim list and the disputes list share. */
export const certaintyFilter = {
  certainty: Type.Optional(
    Type.Array(StringEnum(CLAIM_CERTAINTIES, { title: 'Certainty' }), {
      maxItems: CLAIM_CERTAINTIES.length,
      description:
        'Only claims asserted this firmly (asserted, hedged, speculative); repeat for several. Claims whose ' +
        'certainty was not recorded match none.',
    }),
  ),
}

/** The filters on fact-checks that the claim list and the disputes list share. */
export const reviewFilters = {
  verdict: Type.Optional(
    Type.Array(StringEnum(VERDICTS, { title: 'Verdict' }), {
      maxItems: VERDICTS.length,
      description: 'Only claims that a live review gives one of these verdicts; repeat for several.',
    }),
  ),
  reviewed_by: Type.Optional(
    Type.String({
      ...exampled(PartyKey),
      description: 'Only claims that this fact-checker (id or slug) has reviewed.',
    }),
  ),
}

export const CLAIM_SORTS = ['-stated_at', 'stated_at', '-created_at', 'created_at', 'relevance'] as const
export type ClaimSort = (typeof CLAIM_SORTS)[number]

export const ClaimListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    party: Type.Optional(Type.String({ ...PartyKey, description: 'Only claims by this party (id or slug).' })),
    side: Type.Optional(
      Type.String({
        ...exampled(PartyKey, 'azerbaijan'),
        description: 'Only claims by this party (id or slug) and by the parties that speak for it, directly or not.',
      }),
    ),
    ...relayedByFilter,
    tag: Type.Optional(
      Type.Array(Tag, { maxItems: 20, description: 'Only claims carrying every given tag; repeat for several.' }),
    ),
    language: Type.Optional(
      Type.String({
        ...exampled(Language, 'en'),
        description: 'Only claims in this language (a BCP 47 tag); a full-text query `q` is then read in it alone.',
      }),
    ),
    status: Type.Optional(
      StringEnum([...CLAIM_STATUSES, 'unanswered'], {
        title: 'ClaimStatusFilter',
        description:
          '`disputed`: some live claim of another party rebuts it; `unchallenged`: none does (supports may); ' +
          '`unanswered`: nothing answers it at all, neither a rebuttal nor a support.',
      }),
    ),
    ...standingFilter,
    ...certaintyFilter,
    ...reviewFilters,
    ...measureFilter,
    ...eventFilter,
    stated_after: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-06'),
        description:
          'Only claims stated at or after the start of this time: `2020-10-07` takes in the whole day. A claim ' +
          'counts at the first instant of its own span.',
      }),
    ),
    stated_before: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-07'),
        description:
          'Only claims stated before the start of this time: `2020-10-07` leaves out the whole day. A claim ' +
          'counts at the first instant of its own span.',
      }),
    ),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description:
          "Full-text search over text and quote (web search syntax), each stemmed in its own language's " +
          'text-search configuration where PostgreSQL has one, by `simple` otherwise (see the contract).',
      }),
    ),
    sort: Type.Optional(
      StringEnum(CLAIM_SORTS, {
        title: 'ClaimSort',
        description:
          'Order of the list; `-` means descending. Default `-stated_at`, or `relevance` when `q` is given. A ' +
          'page by relevance ranks the 1,000 most recently stated matches (an export ranks them all).',
      }),
    ),
  },
  { additionalProperties: false },
)
export type ClaimListFilter = Static<typeof ClaimListQuery>

export const ClaimVersionSchema = Type.Object(
  {
    ...versionHeading,
    claim: Type.Object(claimContent),
  },
  { $id: 'ClaimVersion', title: 'ClaimVersion', description: 'A claim as it read at one version.' },
)
export type ClaimVersion = Static<typeof ClaimVersionSchema>

export const SIMILAR_MIN_SCORE = 0.3
/** How many candidates, at most, `/similar` scores: the claims sharing its distinctive words. */
export const SIMILAR_CANDIDATES = 2000
/** How many of a claim's distinctive words (the rarest) `/similar` matches candidates on. */
export const SIMILAR_WORDS = 16
/** The share of all claims a word is in, below which it is distinctive. */
export const SIMILAR_DISTINCTIVE_WORD_SHARE = 0.002
/** The share of all claims a word is in, below which it may stand in for a distinctive one a claim lacks. */
export const SIMILAR_WORD_SHARE = 0.05
/** The bounds of `/similar`'s search, as the repository takes them. */
export const SIMILAR_SEARCH_BOUNDS = {
  candidates: SIMILAR_CANDIDATES,
  maxWords: SIMILAR_WORDS,
  distinctiveFrequency: SIMILAR_DISTINCTIVE_WORD_SHARE,
  maxFrequency: SIMILAR_WORD_SHARE,
}

export const SimilarClaimsQuery = Type.Object(
  {
    party: Type.Optional(
      Type.String({ ...exampled(PartyKey), description: 'Only claims by this party (id or slug).' }),
    ),
    stated_after: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-06'),
        description: 'Only claims stated at or after the start of this time.',
      }),
    ),
    stated_before: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-08'),
        description: 'Only claims stated before the start of this time.',
      }),
    ),
    min_score: Type.Optional(
      Type.Number({
        minimum: SIMILAR_MIN_SCORE,
        maximum: 1,
        default: SIMILAR_MIN_SCORE,
        description: 'Only claims at least this similar (0.3 to 1; default 0.3).',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'At most this many.' })),
  },
  { additionalProperties: false },
)

export const SimilarClaimsSchema = Type.Object(
  {
    data: Type.Array(
      Type.Object({
        score: Type.Number({
          minimum: 0,
          maximum: 1,
          description: 'Trigram similarity of the two texts (pg_trgm): 1 for the same words, 0 for nothing shared.',
        }),
        claim: Type.Ref(ClaimSchema),
      }),
      { description: 'The most similar live claims, best first; the claim itself is not among them.' },
    ),
    searched: Type.Object(
      {
        words: Type.Array(Type.String(), {
          description:
            "The claim's distinctive words the candidates were found by, as the full-text index reads them " +
            '(stemmed, in lower case).',
        }),
        claims: Type.Integer({ minimum: 0, description: 'How many candidates were scored.' }),
        complete: Type.Boolean({
          description:
            `False when more than ${SIMILAR_CANDIDATES.toLocaleString('en')} claims matched the words and only ` +
            'that many (any of them) were scored: a party or a window (stated_after, stated_before) narrows ' +
            'them; false too when none of its words is rare enough to search by.',
        }),
      },
      {
        description:
          'Which claims were compared: those sharing at least two of the distinctive words of this one (the ' +
          `${SIMILAR_WORDS} rarest of its words that are in fewer than ${SIMILAR_DISTINCTIVE_WORD_SHARE * 100}% ` +
          'of all claims, by the database statistics). A claim with fewer than two is matched on its two rarest ' +
          `words in fewer than ${SIMILAR_WORD_SHARE * 100}% of all claims, or its only one.`,
      },
    ),
  },
  { title: 'SimilarClaims' },
)
export type SimilarClaims = Static<typeof SimilarClaimsSchema>
export type SimilarClaimsFilter = Static<typeof SimilarClaimsQuery>
