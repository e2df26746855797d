import type { Db } from '../db/schema.js'
import * as parties from '../repositories/party.repository.js'
import * as reviews from '../repositories/review.repository.js'
import type { ReviewRecord } from '../repositories/review.repository.js'
import type { Claim, ClaimSource } from '../schemas/claim.schema.js'
import { getClaim } from './claim.service.js'

/**
 * A fact-checker reviews a claim once, so a claim has as many reviews as there are fact-checkers at most; past
 * this many, the document holds the latest published (a bound on one response, documented in docs/http-contract.md).
 */
const CLAIM_REVIEWS_MAX = 1000

type Node = { '@type': string } & Record<string, unknown>

/** Who spoke, as schema.org knows speakers: a person, or else an organisation (a state, a ministry, a newsroom). */
function agent(party: { name: string; kind: string; wikidata: string | null }): Node {
  return {
    '@type': party.kind === 'person' ? 'Person' : 'Organization',
    name: party.name,
    ...(party.wikidata === null ? {} : { sameAs: `https://www.wikidata.org/wiki/${party.wikidata}` }),
  }
}

function appearance(source: ClaimSource): Node {
  return {
    '@type': 'CreativeWork',
    url: source.url,
    ...(source.title === undefined ? {} : { headline: source.title }),
    ...(source.publisher === undefined ? {} : { publisher: { '@type': 'Organization', name: source.publisher } }),
    ...(source.published_at === undefined ? {} : { datePublished: source.published_at }),
  }
}

function claimNode(claim: Claim, claimant: Node): Node {
  return {
    '@type': 'Claim',
    text: claim.text,
    author: claimant,
    datePublished: claim.stated_at,
    inLanguage: claim.language,
    appearance: claim.sources.map(appearance),
    ...(claim.location === null
      ? {}
      : {
          contentLocation: {
            '@type': 'Place',
            name: claim.location.name,
            ...(claim.location.lat === null || claim.location.lon === null
              ? {}
              : { geo: { '@type': 'GeoCoordinates', latitude: claim.location.lat, longitude: claim.location.lon } }),
          },
        }),
  }
}

function claimReviewNode(claim: Claim, item: Node, review: ReviewRecord): Node {
  const scale =
    review.rating_value === null
      ? {}
      : { ratingValue: review.rating_value, bestRating: review.best_rating, worstRating: review.worst_rating }
  return {
    '@type': 'ClaimReview',
    ...(review.url === null ? {} : { url: review.url }),
    claimReviewed: claim.text,
    itemReviewed: item,
    author: agent({ name: review.reviewer_name, kind: review.reviewer_kind, wikidata: review.reviewer_wikidata }),
    datePublished: review.published_at.toISOString(),
    reviewRating: { '@type': 'Rating', alternateName: review.rating_label, ...scale },
    ...(review.summary === null ? {} : { reviewBody: review.summary }),
  }
}

/**
 * A live claim as schema.org JSON-LD, the form search engines and fact-check aggregators read: a `ClaimReview`
 * per review, latest published first, each with the claim as its `itemReviewed`; the `Claim` alone when nobody
 * has reviewed it.
 */
export async function getClaimReviewDocument(db: Db, claimId: string) {
  const claim = await getClaim(db, claimId)
  const claimant = await parties.findPartyByKey(db, claim.party.id)
  const item = claimNode(claim, agent(claimant ?? { name: claim.party.name, kind: 'other', wikidata: null }))
  const rows = claim.review_count === 0 ? [] : await reviews.listReviewsOfClaim(db, claim.id, CLAIM_REVIEWS_MAX)
  return {
    '@context': 'https://schema.org' as const,
    '@graph': rows.length === 0 ? [item] : rows.map((review) => claimReviewNode(claim, item, review)),
  }
}
