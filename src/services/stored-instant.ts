/**
 * An RFC 3339 time as every record stores it: in UTC, to the millisecond, cut as JavaScript reads it. Applied
 * before writing and before comparing, so that what is stored, what a version keeps and what an import compares
 * are the same instant (PostgreSQL would round sub-millisecond digits instead).
 */
export const storedInstant = (text: string): string => new Date(text).toISOString()
