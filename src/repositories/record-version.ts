import { sql } from 'kysely'

/**
 * What every change to a versioned record also sets: the next `version` (the edit counter that history and
 * clients see) and `updated_at`. Spread into the `set` of an update of any table that has both columns.
 */
export const nextVersion = () => ({ version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })

/** A soft delete: the record leaves every read, and the deletion counts as a change. */
export const softDeletion = () => ({ ...nextVersion(), deleted_at: sql<Date>`now()` })
