import { DatabaseUnavailableError } from '../db/database-errors.js'
import { SERVER_GONE_PREFIX, SqlState, SqlStateClass, sqlStateOf } from '../db/postgres-error-codes.js'
import { ApiError, unavailable } from './problems.js'

/**
 * PostgreSQL errors that reach the error handler, mapped by SQLSTATE (never by message text). Anything that
 * says the database is away or overloaded is a 503 the client may retry; integrity errors that the repositories
 * did not turn into a precise problem first (a race between two requests) are conflicts.
 */
export function problemFromDatabaseError(error: { code?: unknown }): ApiError | undefined {
  if (error instanceof DatabaseUnavailableError) return unavailable('the database is not reachable or is overloaded')
  if (typeof error.code === 'string' && CONNECTION_ERRORS.has(error.code)) {
    return unavailable('the database is not reachable')
  }
  const code = sqlStateOf(error)
  if (code === undefined) return undefined
  if (code === SqlState.uniqueViolation) {
    return new ApiError('conflict', 'a record with the same unique values already exists')
  }
  if (code === SqlState.foreignKeyViolation) {
    return new ApiError('conflict', 'a record this request refers to was changed or removed meanwhile')
  }
  if (
    code === SqlState.checkViolation ||
    code === SqlState.notNullViolation ||
    code.startsWith(SqlStateClass.dataException)
  ) {
    return new ApiError('unprocessable-entity', 'a value in the request is out of the range the database accepts')
  }
  if (code === SqlState.queryCanceled) return unavailable('the database did not answer in time')
  if (code === SqlState.serializationFailure || code === SqlState.deadlockDetected) {
    return unavailable('the request collided with another one; retry it')
  }
  if (
    code.startsWith(SqlStateClass.connectionException) ||
    code.startsWith(SERVER_GONE_PREFIX) ||
    code === SqlState.tooManyConnections
  ) {
    return unavailable('the database is not reachable')
  }
  return undefined
}

/** Node's errors for a socket to the server that could not be opened or was lost. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])
