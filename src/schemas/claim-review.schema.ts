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
