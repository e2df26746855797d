import type { Db } from '../db/schema.js'
import { ApiError, notFound } from '../errors/problems.js'
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

interface Speaker {
  name: string
  kind: string
  wikidata: string | null
  url: string | null
  logo: string | null
}

/** Who spoke, as schema.org knows speakers: a person, or else an organisation (a state, a ministry, a newsroom). */
function agent(party: Speaker): Node {
  const person = party.kind === 'person'
  return {
    '@type': person ? 'Person' : 'Organization',
    name: party.name,
    ...(party.url === null ? {} : { url: party.url }),
    ...(party.logo === null ? {} : person ? { image: party.logo } : { logo: party.logo }),
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

/**
 * The appearances of a claim: its sources, and then a CreativeWork published by each party that relayed it and
 * that no source already names as publisher, so that a relay reads as where the claim appeared, not as its author.
 */
function appearances(claim: Claim): Node[] {
  const publishers = new Set(claim.sources.map((source) => source.publisher?.toLowerCase()))
  const relays = claim.relayed_by.filter((party) => !publishers.has(party.name.toLowerCase()))
  return [
    ...claim.sources.map(appearance),
    ...relays.map((party) => ({ '@type': 'CreativeWork', publisher: { '@type': 'Organization', name: party.name } })),
  ]
}

/** The source that carried the claim first: the earliest published, or the first listed when none says when. */
function firstAppearance(sources: ClaimSource[]): ClaimSource | undefined {
  const dated = sources.filter((source) => source.published_at !== undefined)
  if (dated.length === 0) return sources[0]
  return dated.reduce((first, source) => (source.published_at! < first.published_at! ? source : first))
}

/** The claim as its reviews' `itemReviewed`, in the words of the version a review rated. */
function claimNode(claim: Claim, claimant: Node, text: string): Node {
  const first = firstAppearance(claim.sources)
  return {
    '@type': 'Claim',
    text,
    author: claimant,
    datePublished: claim.stated_at,
    inLanguage: claim.language,
    appearance: appearances(claim),
    ...(first === undefined ? {} : { firstAppearance: appearance(first) }),
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

/**
 * One review as a ClaimReview: `claimReviewed` is the review's claim summary, or else the wording of the claim
 * version it rated, never a wording the claim took after the verdict. Only a published review (one with a url).
 */
function claimReviewNode(
  claim: Claim,
  claimant: Node,
  review: ReviewRecord & { url: string },
): Node & { '@type': 'ClaimReview'; url: string; claimReviewed: string } {
  const scale =
    review.rating_value === null
      ? {}
      : { ratingValue: review.rating_value, bestRating: review.best_rating, worstRating: review.worst_rating }
  return {
    '@type': 'ClaimReview' as const,
    url: review.url,
    claimReviewed: review.claim_summary ?? review.rated_text,
    itemReviewed: claimNode(claim, claimant, review.rated_text),
    author: agent({
      name: review.reviewer_name,
      kind: review.reviewer_kind,
      wikidata: review.reviewer_wikidata,
      url: review.reviewer_url,
      logo: review.reviewer_logo,
    }),
    datePublished: review.published_at.toISOString(),
    reviewRating: { '@type': 'Rating', alternateName: review.rating_label, name: review.rating_label, ...scale },
    ...(review.summary === null ? {} : { reviewBody: review.summary }),
  }
}

const published = (review: ReviewRecord): review is ReviewRecord & { url: string } => review.url !== null

async function claimantOf(db: Db, claim: Claim): Promise<Node> {
  const claimant = await parties.findPartyByKey(db, claim.party.id)
  return agent(claimant ?? { name: claim.party.name, kind: 'other', wikidata: null, url: null, logo: null })
}

/**
 * A live claim as schema.org JSON-LD, the form search engines and fact-check aggregators read: a `ClaimReview`
 * per published review (drafts, without a url, are left out), latest published first, each with the claim as its
 * `itemReviewed`; the `Claim` alone when it has none.
 */
export async function getClaimReviewDocument(db: Db, claimId: string) {
  const claim = await getClaim(db, claimId)
  const claimant = await claimantOf(db, claim)
  const rows = claim.review_count === 0 ? [] : await reviews.listReviewsOfClaim(db, claim.id, CLAIM_REVIEWS_MAX)
  const reviewed = rows.filter(published)
  return {
    '@context': 'https://schema.org' as const,
    '@graph':
      reviewed.length === 0
        ? [claimNode(claim, claimant, claim.text)]
        : reviewed.map((review) => claimReviewNode(claim, claimant, review)),
  }
}

/**
 * One live review as a schema.org ClaimReview document, for a desk to publish its own verdict alone. A draft (a
 * review without a url, which search engines require) has none: 409 says so.
 */
export async function getReviewClaimReviewDocument(db: Db, reviewId: string) {
  const review = await reviews.findReviewById(db, reviewId)
  if (review === undefined) throw notFound(`review ${reviewId}`)
  if (!published(review)) {
    throw new ApiError(
      'review-is-draft',
      `review ${review.id} has no url: a review is published as a ClaimReview only with the url of its fact-check`,
    )
  }
  const claim = await getClaim(db, review.claim_id)
  return {
    '@context': 'https://schema.org' as const,
    ...claimReviewNode(claim, await claimantOf(db, claim), review),
  }
}
