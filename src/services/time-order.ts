import type { Db } from '../db/schema.js'
import { ApiError, type FieldError } from '../errors/problems.js'
import * as links from '../repositories/link.repository.js'
import type { StatedTime } from '../repositories/link.repository.js'
import { atPrecision, spanEnd } from '../schemas/time.schema.js'

/**
 * Whether a response was stated before the claim it answers: its whole span (a day, a minute…) ended by the time
 * the other's began. Two times whose spans overlap are not in order either way: the same day is not earlier.
 */
export function statedBefore(response: StatedTime, answered: StatedTime): boolean {
  return spanEnd(response.stated_at, response.stated_at_precision) <= new Date(answered.stated_at).getTime()
}

/** What `outOfTimeOrder` is told when the response is a claim sent with its link, not recorded. */
export const NEW_CLAIM = 'new claim'

/** A claim's time as written at its precision: `2023-10-17 (day)`. */
export const written = (claim: StatedTime) =>
  `${atPrecision(new Date(claim.stated_at).toISOString(), claim.stated_at_precision)} (${claim.stated_at_precision})`

/**
 * The 422 of a link whose response was stated before the claim it answers, naming both times. A response sent
 * with the link (`link` is then `'new claim'`) has no id to name: nothing was recorded.
 */
export function outOfTimeOrder(
  response: StatedTime,
  answered: StatedTime,
  at: Pick<FieldError, 'in' | 'field'>,
  link?: string,
): ApiError {
  const responding = link === NEW_CLAIM ? 'the new claim' : `claim ${response.id}`
  const message =
    `${responding}, stated ${written(response)}, was stated before claim ${answered.id} it answers, ` +
    `stated ${written(answered)}` +
    (link === undefined || link === NEW_CLAIM ? '' : ` (link ${link})`) +
    '; a response made before the claim it answers is a prebuttal: say so with prebuttal: true'
  return new ApiError('out-of-time-order', message, { errors: [{ ...at, message }] })
}

/**
 * Refuses a claim's new time when a live link that is no prebuttal would then join a response to a claim stated
 * after it: the claim answering something stated later, or something answering it stated earlier.
 */
export async function checkTimeOrderOfClaim(trx: Db, claimId: string, field: Pick<FieldError, 'in' | 'field'>) {
  for (const link of await links.nonPrebuttalLinksOfClaim(trx, claimId)) {
    if (statedBefore(link.from, link.to)) throw outOfTimeOrder(link.from, link.to, field, link.id)
  }
}
