/** No connection to the database could be had: it is down, unreachable, or every pooled connection is busy. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
}
