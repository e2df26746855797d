import { type Static, Type } from '@sinclair/typebox'
import { DateTime, Nullable, PageQuery, Uuid } from './common.schema.js'
import { PartyKey, PartyRefSchema } from './party.schema.js'
import { StringEnum } from './string-enum.js'

/** The normalised verdicts, from wrong to right, and `unproven` for claims that could not be checked either way. */
export const VERDICTS = ['false', 'mostly-false', 'mixed', 'mostly-true', 'true', 'unproven'] as const
export type Verdict = (typeof VERDICTS)[number]

const VerdictSchema = StringEnum(VERDICTS, {
  description: "The rating normalised to one scale, so that different fact-checkers' verdicts compare.",
})
const RatingLabel = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'The rating as the fact-checker published it.',
  examples: ['False', 'Misleading', 'Pants on Fire'],
})
const Rating = Type.Number({ minimum: -1_000_000, maximum: 1_000_000 })
const ReviewUrl = Type.String({
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2000,
  description: 'Where the fact-check is published.',
})
const Summary = Type.String({ minLength: 1, maxLength: 5000, description: 'The finding, in a few sentences.' })

/** A numeric rating is given with its scale: the three come together or not at all. */
const ratingTogether = {
  dependentRequired: {
    rating_value: ['best_rating', 'worst_rating'],
    best_rating: ['rating_value', 'worst_rating'],
    worst_rating: ['rating_value', 'best_rating'],
  },
}

export const ReviewSchema = Type.Object(
  {
    id: Uuid,
    claim_id: Uuid,
    reviewer: Type.Ref(PartyRefSchema, { description: 'The fact-checker.' }),
    verdict: VerdictSchema,
    rating_label: Type.String(),
    rating_value: Nullable(Type.Number({ description: 'The rating on the publisher’s own scale.' })),
    best_rating: Nullable(Type.Number({ description: 'The best value of that scale.' })),
    worst_rating: Nullable(Type.Number({ description: 'The worst value of that scale.' })),
    url: Nullable(Type.String()),
    summary: Nullable(Type.String()),
    published_at: DateTime,
    version: Type.Integer({ minimum: 1, description: 'Incremented by every edit; earlier versions are in /history.' }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Review', title: 'Review', description: "A fact-checker's published verdict on a claim." },
)
export type Review = Static<typeof ReviewSchema>

/** What a claim carries of each of its reviews; the whole review is at /v1/reviews/{id}. */
export const ReviewSummarySchema = Type.Object(
  {
    id: Uuid,
    reviewer: Type.Ref(PartyRefSchema),
    verdict: VerdictSchema,
    rating_label: Type.String(),
    published_at: DateTime,
  },
  { $id: 'ReviewSummary', title: 'ReviewSummary', description: 'A review of a claim, in short.' },
)
export type ReviewSummary = Static<typeof ReviewSummarySchema>

export const CreateReviewBody = Type.Object(
  {
    reviewer: Type.String({
      ...PartyKey,
      description: 'The fact-checker (a party id or slug) whose verdict this is; a party of kind fact-checker.',
    }),
    verdict: VerdictSchema,
    rating_label: RatingLabel,
    rating_value: Type.Optional(Rating),
    best_rating: Type.Optional(Rating),
    worst_rating: Type.Optional(Rating),
    url: Type.Optional(ReviewUrl),
    summary: Type.Optional(Summary),
    published_at: Type.String({ ...DateTime, description: 'When the fact-check was published.' }),
  },
  {
    additionalProperties: false,
    title: 'CreateReview',
    description:
      'A numeric rating comes with its scale (rating_value, best_rating and worst_rating together), and lies ' +
      'between the best and the worst value; a scale may run either way.',
    ...ratingTogether,
  },
)
export type CreateReviewInput = Static<typeof CreateReviewBody>

export const UpdateReviewBody = Type.Object(
  {
    verdict: Type.Optional(VerdictSchema),
    rating_label: Type.Optional(RatingLabel),
    rating_value: Type.Optional(Nullable(Rating)),
    best_rating: Type.Optional(Nullable(Rating)),
    worst_rating: Type.Optional(Nullable(Rating)),
    url: Type.Optional(Nullable(ReviewUrl)),
    summary: Type.Optional(Nullable(Summary)),
    published_at: Type.Optional(DateTime),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'UpdateReview',
    description:
      'Fields to change; null clears an optional field, an absent field stays as it is. The rating and its scale ' +
      'change together. A review’s claim and reviewer cannot change.',
    ...ratingTogether,
  },
)
export type UpdateReviewInput = Static<typeof UpdateReviewBody>

export const ReviewParams = Type.Object({ id: Uuid })

export const ReviewListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const ReviewVersionSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    recorded_at: DateTime,
    review: Type.Object({
      verdict: VerdictSchema,
      rating_label: Type.String(),
      rating_value: Nullable(Type.Number()),
      best_rating: Nullable(Type.Number()),
      worst_rating: Nullable(Type.Number()),
      url: Nullable(Type.String()),
      summary: Nullable(Type.String()),
      published_at: DateTime,
    }),
  },
  { $id: 'ReviewVersion', title: 'ReviewVersion', description: 'A review as it read at one version.' },
)
export type ReviewVersion = Static<typeof ReviewVersionSchema>
