import { DatabaseUnavailableError } from '../db/database-errors.js'
import { SERVER_GONE_PREFIX, SqlState, SqlStateClass, sqlStateOf } from '../db/postgres-error-codes.js'
import { ApiError, unavailable } from './problems.js'

/** What a failure of the database is to its clients and to its operators (who count them by this kind). */
export type DatabaseErrorKind = 'unavailable' | 'timeout' | 'collision' | 'disk-full' | 'conflict' | 'invalid'

/**
 * The kind of a database error, told by SQLSTATE (never by message text); undefined for any other error. Anything
 * that says the database is away, overloaded or out of space is a 503 the client may retry; integrity errors that
 * the repositories did not turn into a precise problem first (a race between two requests) are conflicts.
 */
export function databaseErrorKind(error: unknown): DatabaseErrorKind | undefined {
  if (error instanceof DatabaseUnavailableError) return 'unavailable'
  const nodeCode = (error as { code?: unknown } | null | undefined)?.code
  if (typeof nodeCode === 'string' && CONNECTION_ERRORS.has(nodeCode)) return 'unavailable'
  const code = sqlStateOf(error)
  if (code === undefined) return undefined
  if (code === SqlState.uniqueViolation || code === SqlState.foreignKeyViolation) return 'conflict'
  if (
    code === SqlState.checkViolation ||
    code === SqlState.notNullViolation ||
    code.startsWith(SqlStateClass.dataException)
  ) {
    return 'invalid'
  }
  if (code === SqlState.queryCanceled) return 'timeout'
  if (code === SqlState.serializationFailure || code === SqlState.deadlockDetected) return 'collision'
  if (code === SqlState.diskFull) return 'disk-full'
  if (
    code.startsWith(SqlStateClass.connectionException) ||
    code.startsWith(SERVER_GONE_PREFIX) ||
    code === SqlState.tooManyConnections
  ) {
    return 'unavailable'
  }
  return undefined
}

/** The problem a database error is answered with; undefined for an error that is not the database's. */
export function problemFromDatabaseError(error: unknown): ApiError | undefined {
  switch (databaseErrorKind(error)) {
    case undefined:
      return undefined
    case 'unavailable':
      return unavailable(
        error instanceof DatabaseUnavailableError
          ? 'the database is not reachable or is overloaded'
          : 'the database is not reachable',
      )
    case 'timeout':
      return unavailable('the database did not answer in time')
    case 'collision':
      return unavailable('the request collided with another one; retry it')
    case 'disk-full':
      return unavailable('the database has no space left on its disk: writes fail until space is freed')
    case 'invalid':
      return new ApiError('unprocessable-entity', 'a value in the request is out of the range the database accepts')
    case 'conflict':
      return sqlStateOf(error) === SqlState.uniqueViolation
        ? new ApiError('conflict', 'a record with the same unique values already exists')
        : new ApiError('conflict', 'a record this request refers to was changed or removed meanwhile')
  }
}

/** Node's errors for a socket to the server that could not be opened or was lost. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])
