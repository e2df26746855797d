/**
 * What Google's structured-data guidelines for fact checks (ClaimReview) ask of each ClaimReview, written from
 * its documented property list: the properties it requires (without them the fact check is not shown) and those it
 * recommends, by the type of node that carries them. A property that Google marks "recommended" is listed here
 * only where the data can give it: the numeric scale of a rating exists only for a rating with one.
 */
export const GOOGLE_CLAIM_REVIEW = {
  ClaimReview: {
    required: ['claimReviewed', 'reviewRating', 'url'],
    recommended: ['author', 'datePublished', 'itemReviewed'],
  },
  /** ClaimReview.author: the fact-checking organisation (or person). */
  author: { required: ['name'], recommended: ['url'] },
  /** ClaimReview.itemReviewed. */
  Claim: { required: [], recommended: ['appearance', 'author', 'datePublished', 'firstAppearance'] },
  /** Claim.author: who made the claim. */
  claimAuthor: { required: ['name'], recommended: [] },
  /** ClaimReview.reviewRating. */
  Rating: { required: ['alternateName'], recommended: ['name'] },
  /** Rating, when the fact-checker rates on a numeric scale. */
  numericRating: { required: [], recommended: ['ratingValue', 'bestRating', 'worstRating'] },
} as const

type Node = Record<string, unknown>

/** Google suggests a claimReviewed under this many characters, so that it fits one line on a phone. */
export const CLAIM_REVIEWED_SUGGESTED_MAX = 75

/**
 * What a ClaimReview node lacks of Google's required and recommended properties, as `required: path` and
 * `recommended: path` entries; empty when it has them all. `numeric` says the review has a numeric scale.
 */
export function googleClaimReviewGaps(review: Node, options: { numeric: boolean }): string[] {
  const gaps: string[] = []
  const check = (
    node: unknown,
    path: string,
    rules: { required: readonly string[]; recommended: readonly string[] },
  ) => {
    const present = (key: string) => {
      const value = (node as Node | undefined)?.[key]
      return value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)
    }
    for (const key of rules.required) if (!present(key)) gaps.push(`required: ${path}.${key}`)
    for (const key of rules.recommended) if (!present(key)) gaps.push(`recommended: ${path}.${key}`)
  }
  if (review['@type'] !== 'ClaimReview') gaps.push('required: $.@type ClaimReview')
  check(review, '$', GOOGLE_CLAIM_REVIEW.ClaimReview)
  const author = review.author as Node | undefined
  if (author !== undefined && author['@type'] !== 'Organization' && author['@type'] !== 'Person') {
    gaps.push('required: $.author as an Organization or a Person')
  }
  check(author, '$.author', GOOGLE_CLAIM_REVIEW.author)
  const item = review.itemReviewed as Node | undefined
  if (item !== undefined && item['@type'] !== 'Claim') gaps.push('recommended: $.itemReviewed as a Claim')
  check(item, '$.itemReviewed', GOOGLE_CLAIM_REVIEW.Claim)
  check(item?.author, '$.itemReviewed.author', GOOGLE_CLAIM_REVIEW.claimAuthor)
  const rating = review.reviewRating as Node | undefined
  if (rating !== undefined && rating['@type'] !== 'Rating') gaps.push('required: $.reviewRating as a Rating')
  check(rating, '$.reviewRating', GOOGLE_CLAIM_REVIEW.Rating)
  if (options.numeric) check(rating, '$.reviewRating', GOOGLE_CLAIM_REVIEW.numericRating)
  for (const key of ['url'] as const) {
    const value = review[key]
    if (typeof value === 'string' && !/^https?:\/\//.test(value)) gaps.push(`required: $.${key} as an absolute URL`)
  }
  if (typeof review.claimReviewed === 'string' && review.claimReviewed.length === 0) {
    gaps.push('required: $.claimReviewed not empty')
  }
  return gaps
}
