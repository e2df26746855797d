import { type Static, Type } from '@sinclair/typebox'
import { DISPUTED_ASPECTS, LinkMeasure, NullableAspect } from './aspect.schema.js'
import {
  certaintyFilter,
  ClaimSchema,
  relayedByFilter,
  eventFilter,
  measureFilter,
  reviewFilters,
  standingFilter,
  Tag,
} from './claim.schema.js'
import { CountQuery, DateTime, exampled, Nullable, ExportablePageQuery, Uuid } from './common.schema.js'
import { PartyKey, PartyRefSchema } from './party.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { StringEnum } from './string-enum.js'
import { PartialDateTime, TimePrecisionSchema } from './time.schema.js'

/** How many of its latest rebuttals each dispute carries; the rest are at /v1/claims/{id}/rebuttals. */
export const LATEST_REBUTTALS = 3

export const DISPUTE_SORTS = ['-last_response_at', '-disputed_since', '-rebuttal_count', '-stated_at'] as const
export type DisputeSort = (typeof DISPUTE_SORTS)[number]

/** The filters that the disputes list and the matrix share: what the disputed claim is about, and when. */
const disputedClaimFilters = {
  tag: Type.Optional(
    Type.Array(Tag, { maxItems: 20, description: 'Only claims carrying every given tag; repeat for several.' }),
  ),
  since: Type.Optional(
    Type.String({
      ...exampled(PartialDateTime, '2020-10-06'),
      description:
        'Only claims stated at or after the start of this time: `2020-10-07` takes in the whole day. A claim ' +
        'counts at the first instant of its own span.',
    }),
  ),
  until: Type.Optional(
    Type.String({
      ...exampled(PartialDateTime, '2020-10-07'),
      description:
        'Only claims stated before the start of this time: `2020-10-07` leaves out the whole day. A claim ' +
        'counts at the first instant of its own span.',
    }),
  ),
}

export const DisputeListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    party: Type.Optional(Type.String({ ...PartyKey, description: 'Only claims by this claimant (id or slug).' })),
    side: Type.Optional(
      Type.String({
        ...exampled(PartyKey, 'azerbaijan'),
        description: 'Only claims by this party (id or slug) and by the parties that speak for it, directly or not.',
      }),
    ),
    rebutted_by: Type.Optional(
      Type.String({
        ...exampled(PartyKey, 'am-foreign-ministry'),
        description: 'Only claims that this party (id or slug) rebuts.',
      }),
    ),
    ...relayedByFilter,
    ...disputedClaimFilters,
    disputed_after: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-06'),
        description:
          'Only claims that became disputed (first rebutted) at or after the start of this time (`2020-10-08`: ' +
          'that whole day and after).',
      }),
    ),
    disputed_before: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-07'),
        description: 'Only claims that became disputed before the start of this time.',
      }),
    ),
    answered_after: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-06'),
        description:
          'Only claims whose latest response was stated at or after the start of this time: what flared up since.',
      }),
    ),
    answered_before: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-07'),
        description: 'Only claims whose latest response was stated before the start of this time.',
      }),
    ),
    ...standingFilter,
    ...certaintyFilter,
    ...reviewFilters,
    ...measureFilter,
    ...eventFilter,
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: 'Full-text search over text and quote (web search syntax).',
      }),
    ),
    aspect: Type.Optional(
      Type.Array(StringEnum(DISPUTED_ASPECTS, { title: 'DisputedAspect' }), {
        maxItems: DISPUTED_ASPECTS.length,
        description:
          'Only claims that a live rebuttal disputes on one of these aspects; repeat for several. `whole`: claims ' +
          'that a rebuttal naming no aspect denies outright.',
      }),
    ),
    disputed_measure: Type.Optional(
      Type.String({
        ...exampled(LinkMeasure),
        description: 'Only claims with a live rebuttal that disputes a figure of this measure (aspect figure).',
      }),
    ),
    min_rebuttals: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Only claims with at least this many rebuttals.' }),
    ),
    sort: Type.Optional(
      StringEnum(DISPUTE_SORTS, {
        title: 'DisputeSort',
        default: '-last_response_at',
        description:
          'Most recent response first (default), most recently disputed first, most rebutted first, or newest claim first.',
      }),
    ),
  },
  { additionalProperties: false },
)
export type DisputeListFilter = Static<typeof DisputeListQuery>

export const RebuttalSummarySchema = Type.Object(
  {
    link_id: Uuid,
    note: Nullable(Type.String()),
    aspect: NullableAspect,
    measure: Nullable(LinkMeasure),
    claim: Type.Object({
      id: Uuid,
      party: Type.Ref(PartyRefSchema),
      text: Type.String(),
      stated_at: DateTime,
      stated_at_precision: TimePrecisionSchema,
    }),
  },
  { $id: 'RebuttalSummary', title: 'RebuttalSummary', description: 'A rebutting claim, in short, and its link.' },
)
export type RebuttalSummary = Static<typeof RebuttalSummarySchema>

export const DisputeSchema = Type.Object(
  {
    claim: Type.Ref(ClaimSchema, {
      description: 'The disputed claim: its claimant, rebuttal count, rebutting parties and last response time.',
    }),
    latest_rebuttals: Type.Array(Type.Ref(RebuttalSummarySchema), {
      maxItems: LATEST_REBUTTALS,
      description: `Its ${LATEST_REBUTTALS} latest rebuttals, latest stated first.`,
    }),
  },
  { $id: 'Dispute', title: 'Dispute', description: 'A disputed claim and how it was rebutted.' },
)
export type Dispute = Static<typeof DisputeSchema>

export const MATRIX_GROUPINGS = ['party', 'side'] as const
export const MATRIX_KINDS = ['rebuts', 'supports'] as const
export const MATRIX_FORMATS = ['json', 'csv'] as const
export const MATRIX_CELLS_DEFAULT = 100
export const MATRIX_CELLS_MAX = 1000

export const MatrixQuery = Type.Object(
  {
    by: Type.Optional(
      StringEnum(MATRIX_GROUPINGS, {
        title: 'MatrixGrouping',
        default: 'party',
        description:
          'party: count between the parties themselves; side: roll each party up to the side it speaks for, ' +
          'following its side to the end (a ministry to its state).',
      }),
    ),
    kind: Type.Optional(
      StringEnum(MATRIX_KINDS, {
        title: 'ResponseKind',
        default: 'rebuts',
        description: 'rebuts: count rebuttal links (who rebuts whom); supports: count support links (who backs whom).',
      }),
    ),
    format: Type.Optional(
      StringEnum(MATRIX_FORMATS, {
        title: 'TableFormat',
        description:
          'The representation, over the Accept header: `json` (the default) or `csv`, one row per ' +
          '(claimant, responder) pair with its count, the same cells as the JSON.',
      }),
    ),
    ...disputedClaimFilters,
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MATRIX_CELLS_MAX,
        default: MATRIX_CELLS_DEFAULT,
        description: 'The number of cells, largest counts first.',
      }),
    ),
  },
  { additionalProperties: false },
)
export type MatrixFilter = Static<typeof MatrixQuery>

export const MatrixSchema = Type.Object(
  {
    by: StringEnum(MATRIX_GROUPINGS, { title: 'MatrixGrouping' }),
    kind: StringEnum(MATRIX_KINDS, {
      title: 'ResponseKind',
      description: 'Which links are counted: rebuttals or supports.',
    }),
    cells: Type.Array(
      Type.Object({
        claimant: Type.Ref(PartyRefSchema, {
          description: 'Whose claims were answered (or the side they speak for).',
        }),
        responder: Type.Ref(PartyRefSchema, {
          description: 'Who rebutted or supported them (or the side it speaks for).',
        }),
        count: Type.Integer({ minimum: 1, description: 'Live links of the kind from responder to claimant.' }),
        rebutter: Type.Optional(
          Type.Ref(PartyRefSchema, {
            description: 'For kind=rebuts only: the responder, as this field was first named.',
          }),
        ),
        rebuttals: Type.Optional(
          Type.Integer({ minimum: 1, description: 'For kind=rebuts only: the count, as this field was first named.' }),
        ),
      }),
      { description: 'Pairs with at least one link of the kind, largest counts first.' },
    ),
    truncated: Type.Boolean({ description: 'Whether more pairs exist beyond `limit`.' }),
  },
  {
    $id: 'DisputeMatrix',
    title: 'DisputeMatrix',
    description:
      'Who rebuts (or supports) whom, and how often: counts of rebuttal (or support) links between claimants and responders.',
  },
)
export type Matrix = Static<typeof MatrixSchema>
