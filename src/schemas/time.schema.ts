import { type Static, Type } from '@sinclair/typebox'
import { isStorableInstant } from './common.schema.js'
import { NullableEnum, StringEnum } from './string-enum.js'

/** How finely a time is known, coarsest first. */
export const TIME_PRECISIONS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const
export type TimePrecision = (typeof TIME_PRECISIONS)[number]

/** The name of the format of a time that may be given at any precision (registered with every Ajv instance). */
export const PARTIAL_DATE_TIME_FORMAT = 'partial-date-time'

export const PartialDateTime = Type.String({
  format: PARTIAL_DATE_TIME_FORMAT,
  maxLength: 64,
  description:
    'A year (`2020`), a month (`2020-10`), a day (`2020-10-07`), a time of day without an offset, as ' +
    '`<input type="datetime-local">` sends it (`2020-10-07T14:30`, seconds optional), which is read as UTC, ' +
    'or an RFC 3339 date-time with an offset. Years, months and days are UTC calendar spans.',
  examples: ['2020-10-07', '2020-10', '2020', '2020-10-07T14:30', '2020-10-06T19:00:00+04:00'],
})

export const TimePrecisionSchema = StringEnum(TIME_PRECISIONS, {
  title: 'TimePrecision',
  description:
    'How finely the time is known: the time is the first instant (UTC) of a span of one year, month, day, hour, ' +
    'minute or second.',
})

/** The precision of a time that may be absent: null when the time is. */
export const NullableTimePrecisionSchema = NullableEnum(
  TimePrecisionSchema,
  'How finely the time is known (see stated_at_precision); null when there is no time.',
)

/** A time read from the text a client sent: the first instant of its span (RFC 3339, UTC, milliseconds), and how finely it is known. */
export interface PreciseTime {
  instant: string
  precision: TimePrecision
}

const SHAPE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?([Zz]|[+-]\d{2}:\d{2})?)?)?)?$/

/**
 * The time a partial date-time names, or undefined when it names none: a month 13, a 30 February, an hour 24, a
 * leap second, an offset past ±23:59, a year outside 0001 to 9999. Fractions of a second are cut to the
 * millisecond, as every stored time is.
 */
export function parsePartialDateTime(text: string): PreciseTime | undefined {
  const match = SHAPE.exec(text)
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second, fraction, offset] = match
  const precision: TimePrecision =
    second !== undefined
      ? 'second'
      : minute !== undefined
        ? 'minute'
        : hour !== undefined
          ? 'hour'
          : day !== undefined
            ? 'day'
            : month !== undefined
              ? 'month'
              : 'year'
  const parts = [year, month ?? '1', day ?? '1', hour ?? '0', minute ?? '0', second ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const [y, mo, d, h, mi, s] = parts
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined
  const date = new Date(0)
  // setUTCFullYear, unlike Date.UTC, takes the years 1 to 99 as they are.
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, s, fraction === undefined ? 0 : Number(`${fraction.slice(1)}00`.slice(0, 3)))
  let ms = date.getTime()
  if (offset !== undefined && offset.toUpperCase() !== 'Z') {
    const offsetHours = Number(offset.slice(1, 3))
    const offsetMinutes = Number(offset.slice(4, 6))
    if (offsetHours > 23 || offsetMinutes > 59) return undefined
    ms -= (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  }
  if (!isStorableInstant(ms) || !isStorableInstant(spanEnd(ms, precision) - 1)) return undefined
  return { instant: new Date(ms).toISOString(), precision }
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month, 0)
  return date.getUTCDate()
}

/** The end of the span a time of this precision names, which it excludes (milliseconds since the epoch). */
export function spanEnd(start: number | string | Date, precision: TimePrecision): number {
  const date = new Date(start)
  switch (precision) {
    case 'year':
      date.setUTCFullYear(date.getUTCFullYear() + 1)
      break
    case 'month':
      date.setUTCMonth(date.getUTCMonth() + 1)
      break
    case 'day':
      date.setUTCDate(date.getUTCDate() + 1)
      break
    case 'hour':
      date.setUTCHours(date.getUTCHours() + 1)
      break
    case 'minute':
      date.setUTCMinutes(date.getUTCMinutes() + 1)
      break
    case 'second':
      date.setUTCSeconds(date.getUTCSeconds() + 1)
      break
  }
  return date.getTime()
}

/** Whether `precision` is as coarse as `than` or coarser. */
export const coarserOrEqual = (precision: TimePrecision, than: TimePrecision) =>
  TIME_PRECISIONS.indexOf(precision) <= TIME_PRECISIONS.indexOf(than)

/** Whether an instant is the first of a span of this precision (in UTC): a day at midnight, a month on its 1st. */
export function startsSpan(instant: string | Date, precision: TimePrecision): boolean {
  const date = new Date(instant)
  const units = [
    date.getUTCMonth(),
    date.getUTCDate() - 1,
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  ]
  // Past the units a precision names, every unit is at its start; a second keeps its milliseconds.
  const named = TIME_PRECISIONS.indexOf(precision)
  return precision === 'second' || (units.slice(named, 5).every((unit) => unit === 0) && units[5] === 0)
}

/** A time written at its precision: `2020`, `2020-10`, `2020-10-07`, or the whole RFC 3339 instant. */
export function atPrecision(instant: string, precision: TimePrecision): string {
  switch (precision) {
    case 'year':
      return instant.slice(0, 4)
    case 'month':
      return instant.slice(0, 7)
    case 'day':
      return instant.slice(0, 10)
    default:
      return instant
  }
}

export type PartialDateTimeInput = Static<typeof PartialDateTime>

/**
 * The first instant of the span a filter's time names (`2020-10-07` starts at its midnight, UTC), or undefined
 * without one. A bound compares with each claim's own first instant.
 */
export function filterBound(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  const time = parsePartialDateTime(text)
  if (time === undefined) throw new Error(`${text} passed validation but names no time`)
  return time.instant
}
