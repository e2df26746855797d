/**
 * The SQLSTATEs the service tells apart, each named once (PostgreSQL's "Appendix A. Error Codes"), by class: what
 * it means, and why the service cares. Errors are told apart by these codes, never by their message text.
 */
export const SqlState = {
  /** 23502 not_null_violation: a value the table requires is missing; the request is unprocessable (422). */
  notNullViolation: '23502',
  /** 23503 foreign_key_violation: a referenced row went away in a race the service's own checks lost (409). */
  foreignKeyViolation: '23503',
  /** 23505 unique_violation: another row holds the same unique value, a race the checks lost (409). */
  uniqueViolation: '23505',
  /** 23514 check_violation: a value outside a table's CHECK constraint; the request is unprocessable (422). */
  checkViolation: '23514',
  /** 40001 serialization_failure: the transaction was rolled back for another; it may simply run again. */
  serializationFailure: '40001',
  /** 40P01 deadlock_detected: the transaction was rolled back to break a deadlock; it may simply run again. */
  deadlockDetected: '40P01',
  /** 53100 disk_full: the server's disk has no room for what a write needs; writes fail until space is freed (503). */
  diskFull: '53100',
  /** 53300 too_many_connections: the server has no connection to give; the database is unavailable (503). */
  tooManyConnections: '53300',
  /** 57014 query_canceled: statement_timeout cut the query off; the database did not answer in time (503). */
  queryCanceled: '57014',
} as const

/** Classes (the first two characters) of which every member means the same to the service. */
export const SqlStateClass = {
  /** 08 connection exception: the connection could not be made or was lost; the database is unavailable (503). */
  connectionException: '08',
  /** 22 data exception: a value the column's type cannot hold (out of range, bad text); unprocessable (422). */
  dataException: '22',
} as const

/**
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 57P04 database_dropped, 57P05
 * idle_session_timeout: the server is going, gone or not yet back; the database is unavailable (503).
 */
export const SERVER_GONE_PREFIX = '57P'

const SQLSTATE_SHAPE = /^[0-9A-Z]{5}$/

/** The SQLSTATE of an error the PostgreSQL server sent; undefined for any other error (a socket's, a bug). */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && SQLSTATE_SHAPE.test(code) ? code : undefined
}

/** Whether the database refused a write because it would break the unique index or constraint `constraint`. */
export function violatesUniqueKey(error: unknown, constraint: string): boolean {
  return sqlStateOf(error) === SqlState.uniqueViolation && (error as { constraint?: unknown }).constraint === constraint
}
