import type { Db } from '../db/schema.js'
import { inTransaction, type Transaction } from '../db/transaction.js'
import { ApiError, notFound } from '../errors/problems.js'
import * as erasure from '../repositories/erasure.repository.js'
import type { Erasure } from '../schemas/erasure.schema.js'
import * as derived from './derived-state.js'

/**
 * Erasure, for a legal takedown: unlike a delete, the record is removed for good, with its history and what exists
 * only for it, and its id answers 404 from then on (no tombstone keeps its text or its name). Admin keys only (the
 * routes say so). Each answers with what it removed.
 */

const nothing = (): Erasure['removed'] => ({
  parties: [],
  claims: [],
  links: [],
  reviews: [],
  versions: 0,
  import_refs: 0,
  stored_answers: 0,
})

/** The refs and stored answers that named any removed record go too. */
async function forgetReferences(trx: Transaction, removed: Erasure['removed']): Promise<void> {
  const ids = [...removed.parties, ...removed.claims, ...removed.links, ...removed.reviews]
  removed.import_refs = await erasure.eraseImportRefs(trx, ids)
  removed.stored_answers = await erasure.forgetStoredAnswers(trx, ids)
}

/**
 * Erases a claim, live or deleted: its versions, its reviews and every link from or to it (with theirs). The
 * links of other parties' claims to it go (a link needs both ends), the claims themselves stay; the claims it
 * answered are recounted.
 */
export async function eraseClaim(db: Db, id: string): Promise<Erasure> {
  return inTransaction(db, async (trx) => {
    // The claim and those it answers, in id order like every writer of links; then the claim whatever its state.
    await derived.lockClaimWithAnswered(trx, id.toLowerCase())
    const claim = await erasure.lockAnyClaim(trx, id)
    if (claim === undefined) throw notFound(`claim ${id}`)
    const removed = nothing()
    const reviews = await erasure.eraseReviews(trx, { claimId: claim.id })
    const { links, versions: linkVersions } = await erasure.eraseLinksOfClaim(trx, claim.id)
    removed.versions = reviews.versions + linkVersions + (await erasure.eraseClaimRow(trx, claim.id))
    removed.claims = [claim.id]
    removed.links = links.map((link) => link.id).sort()
    removed.reviews = reviews.reviews.map((review) => review.id).sort()
    await derived.claimDeleted(
      trx,
      claim.id,
      links
        .filter((link) => link.live)
        .map((link) => ({
          kind: link.kind,
          fromPartyId: link.from_party_id,
          toPartyId: link.to_party_id,
          toClaimId: link.to_claim_id,
        })),
    )
    await forgetReferences(trx, removed)
    return { kind: 'claim', id: claim.id, removed }
  })
}

/**
 * Erases a party, live or deleted, by id or slug (a live party first, else the one deleted last with the slug),
 * with its versions.
 * Refused (409) while anything names it, deleted or not: its claims and reviews are erased first, each on its
 * own, so that an erasure says exactly what it removed.
 */
export async function eraseParty(db: Db, key: string): Promise<Erasure> {
  return inTransaction(db, async (trx) => {
    const party = await erasure.lockAnyParty(trx, key)
    if (party === undefined) throw notFound(`party ${key}`)
    const names = await erasure.countPartyRecords(trx, party.id)
    if (names.claims > 0 || names.reviews > 0 || names.parties > 0) {
      throw new ApiError(
        'conflict',
        `party ${party.slug} is still named by ${names.claims} claim(s), ${names.reviews} review(s) and ` +
          `${names.parties} party(ies) speaking for it, deleted or not; erase those first (and move or erase the ` +
          'parties that speak for it)',
      )
    }
    await derived.partyErased(trx, party.id)
    const versions = await erasure.erasePartyRow(trx, party.id)
    const removed = { ...nothing(), parties: [party.id], versions }
    await forgetReferences(trx, removed)
    return { kind: 'party', id: party.id, removed }
  })
}

/** Erases a review, live or deleted, with its versions; its claim, when live, is recounted. */
export async function eraseReview(db: Db, id: string): Promise<Erasure> {
  return inTransaction(db, async (trx) => {
    const found = await erasure.findAnyReview(trx, id)
    if (found === undefined) throw notFound(`review ${id}`)
    // The claim first, then the review: the order of every writer of a claim's reviews.
    await derived.lockClaims(trx, [found.claim_id])
    const review = await erasure.findAnyReview(trx, found.id, { forUpdate: true })
    if (review === undefined) throw notFound(`review ${id}`)
    const erased = await erasure.eraseReviews(trx, { reviewId: review.id })
    if (erased.reviews.some((row) => row.live)) await derived.reviewsChanged(trx, [review.claim_id])
    const removed = { ...nothing(), reviews: [review.id], versions: erased.versions }
    await forgetReferences(trx, removed)
    return { kind: 'review', id: review.id, removed }
  })
}
