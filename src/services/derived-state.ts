import { sql } from 'kysely'
import { withoutClientTimeouts } from '../db/guarded-client.js'
import type { Db } from '../db/schema.js'
import { type Transaction, withStatementTimeout } from '../db/transaction.js'
import * as derived from '../repositories/derived-state.repository.js'
import type { AnsweredClaimCopy, Drift, LinkChange } from '../repositories/derived-state.repository.js'
import type { LinkKind } from '../repositories/link.repository.js'

/**
 * The one owner of derived state: a claim's rebuttal and support counts, last response time, standing (what
 * corrections and retractions of it made of it) and review count, the matrix's rebuttal and support pair counts, and the
 * copies of their claims that links keep. Every write path reports what happened (links added or removed, a claim
 * restated or deleted, reviews changed) here, in its transaction, after locking the claims concerned with the lock
 * functions below, which take them in id order.
 */

/** Locks the live claims among `ids` in id order, and returns them; see derived-state.repository's lockClaims. */
export const lockClaims = derived.lockClaims

/**
 * Locks a claim and the claims it answers, all in id order like every writer of links, and returns the ids of
 * the answered ones. Which claims it answers is known only by reading its links, and may change while this waits
 * for a lock: when a new one appears after locking, the locks are given back (to a savepoint) and taken again
 * for the new set, still in order. Taking the newcomer's lock out of order could deadlock with its writer.
 */
export async function lockClaimWithAnswered(trx: Transaction, id: string): Promise<string[]> {
  for (;;) {
    const answered = await derived.answeredClaimIds(trx, id)
    await sql`SAVEPOINT lock_answered`.execute(trx)
    await derived.lockClaims(trx, [id, ...answered])
    const now = await derived.answeredClaimIds(trx, id)
    if (now.every((answeredId) => answered.includes(answeredId))) {
      await sql`RELEASE SAVEPOINT lock_answered`.execute(trx)
      return now
    }
    await sql`ROLLBACK TO SAVEPOINT lock_answered`.execute(trx)
    await sql`RELEASE SAVEPOINT lock_answered`.execute(trx)
  }
}

/**
 * Locks the claims that a claim already locked answers, after it. No link from it can appear meanwhile (making
 * one locks both its claims); but these locks come out of id order, so a deadlock is possible, and the caller
 * must be a unit of work that reruns (the import applies its file again).
 */
export async function lockAnsweredAfter(trx: Transaction, id: string): Promise<string[]> {
  const answered = await derived.answeredClaimIds(trx, id)
  await derived.lockClaims(trx, answered)
  return answered
}

/** A link made or deleted, as the derived state counts it. */
export interface LinkEvent {
  kind: LinkKind
  fromPartyId: string
  toPartyId: string
  toClaimId: string
}

const pairChange = (link: LinkEvent, delta: number): LinkChange => ({
  kind: link.kind,
  from_party_id: link.fromPartyId,
  to_party_id: link.toPartyId,
  delta,
})

const distinct = (ids: Iterable<string>) => [...new Set(ids)]

/**
 * The pair counts of links made (or deleted) by a write of many, summed per kind and (claimant, rebutter) pair as
 * they are made, to move once at its end (settlePairCounts), in key order: memory grows with the pairs of
 * parties, not with the links.
 */
export class PendingPairCounts {
  private readonly deltas = new Map<string, LinkChange>()

  add(change: LinkChange): void {
    const key = `${change.kind}/${change.to_party_id}/${change.from_party_id}`
    const sum = this.deltas.get(key)
    if (sum === undefined) this.deltas.set(key, { ...change })
    else sum.delta += change.delta
  }

  changes(): LinkChange[] {
    return [...this.deltas.values()]
  }
}

/**
 * Links were made: the answered claims (locked) are recounted, and the matrix's pair counts move now or, given
 * `pending`, when the caller settles them.
 */
export async function linksAdded(trx: Transaction, added: LinkEvent[], pending?: PendingPairCounts): Promise<void> {
  if (added.length === 0) return
  const changes = added.map((link) => pairChange(link, 1))
  if (pending === undefined) await derived.countResponsePairs(trx, changes)
  else for (const change of changes) pending.add(change)
  await derived.recountResponses(trx, distinct(added.map((link) => link.toClaimId)))
}

/** Moves the pair counts that linksAdded left pending. */
export async function settlePairCounts(trx: Transaction, pending: PendingPairCounts): Promise<void> {
  await derived.countResponsePairs(trx, pending.changes())
}

/**
 * Links were deleted: the answered claims (locked) are recounted, and the matrix's pair counts move now or, given
 * `pending`, when the caller settles them.
 */
export async function linksRemoved(trx: Transaction, removed: LinkEvent[], pending?: PendingPairCounts): Promise<void> {
  await uncountLinks(trx, removed, removed, pending)
}

/**
 * A claim was deleted, with `removed`, the links from and to it: the pair counts move (now, or given `pending`
 * when the caller settles them), and the claims it answered (locked with it by lockClaimWithAnswered) are
 * recounted; the deleted claim itself counts no more.
 */
export async function claimDeleted(
  trx: Transaction,
  claimId: string,
  removed: LinkEvent[],
  pending?: PendingPairCounts,
): Promise<void> {
  await uncountLinks(
    trx,
    removed,
    removed.filter((link) => link.toClaimId !== claimId),
    pending,
  )
}

/** Moves the pair counts of deleted links, and recounts the live claims that `recounted` answer. */
async function uncountLinks(
  trx: Transaction,
  removed: LinkEvent[],
  recounted: LinkEvent[],
  pending: PendingPairCounts | undefined,
): Promise<void> {
  const changes = removed.map((link) => pairChange(link, -1))
  if (pending === undefined) await derived.countResponsePairs(trx, changes)
  else for (const change of changes) pending.add(change)
  await derived.recountResponses(trx, distinct(recounted.map((link) => link.toClaimId)))
}

/** A party is being erased: the matrix forgets its pairs, which count nothing once it has no claims. */
export async function partyErased(trx: Transaction, partyId: string): Promise<void> {
  await derived.forgetResponsePairsOf(trx, partyId)
}

/**
 * A claim was edited: `claim` is what it now says of what links copy, `changed` which of those the edit set.
 * The copies its links keep follow, and, when its stated_at moved, the claims it answers (`answered`, locked
 * with it by lockClaimWithAnswered or lockAnsweredAfter) are recounted, since it may be their latest response.
 */
export async function claimRestated(
  trx: Transaction,
  claim: AnsweredClaimCopy & { id: string },
  changed: { tags: boolean; statedAt: boolean },
  answered: string[],
): Promise<void> {
  if (changed.statedAt) await derived.copyRespondingClaim(trx, claim.id, claim.stated_at)
  await derived.recountResponses(trx, answered)
  if (changed.tags || changed.statedAt) {
    await derived.copyAnsweredClaim(trx, claim.id, { tags: claim.tags, stated_at: claim.stated_at })
  }
}

/** A rebuttal of this claim (locked) now names another aspect or measure: its disputed aspects follow. */
export async function rebuttalRestated(trx: Transaction, claimId: string): Promise<void> {
  await derived.recountResponses(trx, [claimId])
}

/** Reviews of these claims (locked) were made or deleted: one or many, in one statement. */
export async function reviewsChanged(trx: Transaction, claimIds: Iterable<string>): Promise<void> {
  await derived.recountReviews(trx, distinct(claimIds))
}

/**
 * Every difference between the stored derived state and a fresh count of it, without the time limits meant for
 * requests: it reads whole tables. Each of its queries compares within one snapshot, so writes meanwhile (a
 * running service) are not taken for differences.
 */
export async function derivedStateDrift(db: Db): Promise<Drift[]> {
  return withoutClientTimeouts(() => withStatementTimeout(db, 0, (trx) => derived.findDrift(trx)))
}

/** derivedStateDrift within a transaction the caller holds: a copy of the database checks itself before it commits. */
export function derivedStateDriftWithin(trx: Db): Promise<Drift[]> {
  return derived.findDrift(trx)
}
