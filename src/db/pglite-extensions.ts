import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'

/**
 * The extensions every PGlite instance loads, as the migrations expect them (CREATE EXTENSION works only on one
 * that was loaded): pg_trgm, for near-duplicate claims.
 */
export const PGLITE_EXTENSIONS = { pg_trgm }
