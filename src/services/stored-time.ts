import { invalidField } from '../errors/problems.js'
import {
  atPrecision,
  coarserOrEqual,
  PARTIAL_DATE_TIME_FORMAT,
  parsePartialDateTime,
  type PreciseTime,
  startsSpan,
  type TimePrecision,
} from '../schemas/time.schema.js'

/** A body member's name, within the member holding the record when there is one (`claim.stated_at`). */
export const fieldOf = (holder: string | undefined, field: string) =>
  holder === undefined ? field : `${holder}.${field}`

/**
 * A time as a record stores it: the first instant of its span, and its precision. The precision is the one the
 * text is written to, or a coarser one given beside it (`…T00:00:00Z` and `day`, as a record reads back), of which
 * the time must then be the first instant.
 */
export function storedTime(
  text: string | PreciseTime,
  precision: TimePrecision | undefined,
  field: string,
): PreciseTime {
  const written = typeof text === 'string' ? parsePartialDateTime(text) : text
  if (written === undefined) throw invalidField('body', field, `must be a valid ${PARTIAL_DATE_TIME_FORMAT}`)
  if (precision === undefined) return written
  if (!coarserOrEqual(precision, written.precision)) {
    throw invalidField(
      'body',
      `${field}_precision`,
      `is finer than ${field} is known: ${atPrecision(written.instant, written.precision)} is known to the ${written.precision}`,
    )
  }
  if (!startsSpan(written.instant, precision)) {
    throw invalidField('body', field, `must be the first instant (UTC) of a ${precision}, as ${field}_precision says`)
  }
  return { instant: written.instant, precision }
}

export const precisionWithoutTime = (holder: string | undefined, field: string) =>
  invalidField('body', fieldOf(holder, `${field}_precision`), `needs ${field}: there is no time to be precise about`)
