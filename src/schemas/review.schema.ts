import { type Static, Type } from '@sinclair/typebox'
import { CountQuery, DateTime, EditNote, exampled, Nullable, ExportablePageQuery, Uuid } from './common.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { PartyKey, PartyRefSchema } from './party.schema.js'
import { versionHeading } from './tombstone.schema.js'
import { StringEnum } from './string-enum.js'

/**
 * The normalised verdicts, from wrong to right, and `unproven` for claims that could not be checked either way.
 * `misleading` (accurate pieces that leave a false impression) sits below `mixed`, `missing-context` (true as far
 * as it goes, but it leaves out what changes its meaning) above it.
 */
export const VERDICTS = [
  'false',
  'mostly-false',
  'misleading',
  'mixed',
  'missing-context',
  'mostly-true',
  'true',
  'unproven',
] as const
export type Verdict = (typeof VERDICTS)[number]

const VerdictSchema = StringEnum(VERDICTS, {
  title: 'Verdict',
  description:
    "The rating normalised to one scale, so that different fact-checkers' verdicts compare: from false to true, " +
    'misleading below mixed and missing-context above it; unproven when it could not be checked either way.',
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
  description:
    'Where the fact-check is published. A review without one is a draft: it is left out of the ClaimReview ' +
    'JSON-LD, which search engines require a url of.',
})
const Summary = Type.String({ minLength: 1, maxLength: 5000, description: 'The finding, in a few sentences.' })
/** How long a claim summary may be: short, for one line of a search result. */
export const CLAIM_SUMMARY_MAX = 150
const ClaimSummary = Type.String({
  minLength: 1,
  maxLength: CLAIM_SUMMARY_MAX,
  description:
    'The rated claim in a few words, used as the ClaimReview’s claimReviewed instead of the claim’s own wording ' +
    '(Google suggests under 75 characters, so that it fits one line on a phone). At most 150 characters.',
  examples: ['Armenia fired a missile at the Baku-Tbilisi-Ceyhan pipeline'],
})
const claimVersion = (description: string) => Type.Integer({ minimum: 1, maximum: 2_147_483_647, description })
const ClaimVersion = claimVersion(
  'The version of the claim the verdict rates (see /v1/claims/{id}/history): one of the claim’s versions.',
)
const RatesCurrentWording = Type.Boolean({
  description:
    'Whether the claim still says what the review rated: true when the text and quote of the rated version are ' +
    'the claim’s current text and quote. An edit of the claim’s wording makes it false until the reviewer ' +
    're-pins the review (a PATCH with claim_version); an edit of its tags, sources or times leaves it as it is.',
})

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
    claim_version: ClaimVersion,
    rates_current_wording: RatesCurrentWording,
    reviewer: Type.Ref(PartyRefSchema, { description: 'The fact-checker.' }),
    verdict: VerdictSchema,
    rating_label: Type.String(),
    rating_value: Nullable(Type.Number({ description: 'The rating on the publisher’s own scale.' })),
    best_rating: Nullable(Type.Number({ description: 'The best value of that scale.' })),
    worst_rating: Nullable(Type.Number({ description: 'The worst value of that scale.' })),
    url: Nullable(Type.String()),
    summary: Nullable(Type.String()),
    claim_summary: Nullable(Type.String({ description: 'The rated claim in a few words, for claimReviewed.' })),
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
    claim_version: ClaimVersion,
    rates_current_wording: RatesCurrentWording,
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
    claim_summary: Type.Optional(ClaimSummary),
    claim_version: Type.Optional(
      claimVersion(
        'The version of the claim the verdict rates; the claim’s current version when left out. One of the ' +
          'claim’s versions (422 otherwise): a fact-check of wording the claim has since changed names the version ' +
          'that had it.',
      ),
    ),
    published_at: Type.String({ ...DateTime, description: 'When the fact-check was published.' }),
  },
  {
    additionalProperties: false,
    title: 'CreateReview',
    // By the fact-checker of the CreateParty example: record it first.
    examples: [
      {
        reviewer: 'example-checks',
        verdict: 'unproven',
        rating_label: 'Unproven',
        url: 'https://checks.example.org/btc-pipeline',
        summary: 'No evidence of a missile strike on the pipeline was published.',
        published_at: '2020-10-08T09:00:00Z',
      },
    ],
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
    claim_summary: Type.Optional(Nullable(ClaimSummary)),
    claim_version: Type.Optional(
      claimVersion(
        'Re-pins the review to this version of the claim (one of its versions, 422 otherwise): after the claim’s ' +
          'wording changed, the reviewer checks the new wording and names the claim’s current version. Only this ' +
          'field moves the pin: an edit without it keeps rating the version it rated.',
      ),
    ),
    published_at: Type.Optional(DateTime),
    edit_note: Type.Optional(EditNote),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'UpdateReview',
    examples: [{ verdict: 'mostly-false', rating_label: 'Mostly false', edit_note: 'Rated again after an update.' }],
    description:
      'Fields to change; null clears an optional field, an absent field stays as it is. The rating and its scale ' +
      'change together. A review’s claim and reviewer cannot change; the claim version it rates changes only ' +
      'with claim_version. `edit_note` is not a field of the review: it says why the change is made, and the ' +
      'version it makes keeps it.',
    ...ratingTogether,
  },
)
export type UpdateReviewInput = Static<typeof UpdateReviewBody>

export const ReviewParams = Type.Object({ id: Uuid })

export const ReviewListQuery = Type.Object(
  { ...ExportablePageQuery, ...CountQuery, ...ListFormatQuery },
  { additionalProperties: false },
)

export const AllReviewsListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    claim: Type.Optional(Type.String({ ...Uuid, description: 'Only the reviews of this claim.' })),
    reviewer: Type.Optional(
      Type.String({ ...exampled(PartyKey), description: 'Only the reviews by this fact-checker (id or slug).' }),
    ),
    verdict: Type.Optional(VerdictSchema),
  },
  { additionalProperties: false },
)
export type ReviewListFilter = Static<typeof AllReviewsListQuery>

export const ReviewVersionSchema = Type.Object(
  {
    ...versionHeading,
    review: Type.Object({
      verdict: VerdictSchema,
      rating_label: Type.String(),
      rating_value: Nullable(Type.Number()),
      best_rating: Nullable(Type.Number()),
      worst_rating: Nullable(Type.Number()),
      url: Nullable(Type.String()),
      summary: Nullable(Type.String()),
      claim_summary: Nullable(Type.String()),
      claim_version: Type.Integer({ minimum: 1 }),
      published_at: DateTime,
    }),
  },
  { $id: 'ReviewVersion', title: 'ReviewVersion', description: 'A review as it read at one version.' },
)
export type ReviewVersion = Static<typeof ReviewVersionSchema>
