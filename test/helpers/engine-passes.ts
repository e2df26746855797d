/**
 * The suite runs twice in CI: on the embedded database, and against a server (DATABASE_URL set). A test whose work
 * does not depend on the engine, such as the documented walk-throughs (which always start their own service on the
 * embedded database) or the client's type checks, runs on the embedded pass only: the other would repeat it exactly.
 */
export const ENGINE_INDEPENDENT =
  process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === ''
    ? false
    : 'does not depend on the database engine: runs when DATABASE_URL is unset'
