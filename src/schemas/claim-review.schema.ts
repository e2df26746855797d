import { Type } from '@sinclair/typebox'

/** The media type of the schema.org JSON-LD form of a claim. */
export const JSON_LD = 'application/ld+json'

const Thing = Type.Object(
  { '@type': Type.String() },
  { additionalProperties: true, description: 'A schema.org node: a ClaimReview, or a Claim.' },
)

/**
 * A claim as schema.org JSON-LD: one `ClaimReview` per review (the claim as its `itemReviewed`), or the `Claim`
 * alone when nobody has reviewed it. Always a `@graph`, so that a client reads one shape either way.
 */
export const ClaimReviewDocumentSchema = Type.Object(
  {
    '@context': Type.Literal('https://schema.org'),
    '@graph': Type.Array(Thing),
  },
  {
    title: 'ClaimReviewDocument',
    description:
      'schema.org ClaimReview objects (claimReviewed, itemReviewed as a Claim with author, datePublished and ' +
      'appearance, reviewRating with ratingValue/bestRating/worstRating/alternateName, author, datePublished, ' +
      'url), one per review; or the Claim alone.',
  },
)

/** One review as a schema.org ClaimReview, on its own: what a fact-checking desk pastes into its own page. */
export const SingleClaimReviewSchema = Type.Object(
  {
    '@context': Type.Literal('https://schema.org'),
    '@type': Type.Literal('ClaimReview'),
    url: Type.String({ description: 'Where the fact-check is published (a review without one is a draft).' }),
    claimReviewed: Type.String({
      description: 'The review’s claim_summary, or else the wording of the claim version the review rated.',
    }),
  },
  {
    additionalProperties: true,
    title: 'ClaimReview',
    description:
      'A schema.org ClaimReview: url, claimReviewed, itemReviewed (a Claim with the rated wording, author, ' +
      'datePublished, appearance and firstAppearance), author (the fact-checker: name, url, logo), datePublished, ' +
      'reviewRating (alternateName and name: the rating label; ratingValue, bestRating, worstRating when numeric), ' +
      'reviewBody.',
  },
)
