import { type Updateable, sql } from 'kysely'
import type { Database, Db } from '../db/schema.js'

/**
 * What every change to a versioned record also sets: the next `version` (the edit counter that history and
 * clients see) and `updated_at`. Spread into the `set` of an update of any table that has both columns.
 */
export const nextVersion = () => ({ version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })

/**
 * Who deleted a record, and when: the API key (null without one), and the time, now unless told otherwise (an
 * import stating a deletion keeps the time it happened).
 */
export interface DeletionStamp {
  by: string | null
  at?: Date
}

/** A soft delete: the record leaves every read, and the deletion counts as a change. */
export const softDeletion = (stamp: DeletionStamp) => ({
  ...nextVersion(),
  deleted_at: stamp.at === undefined ? sql<Date>`now()` : stamp.at,
  deleted_by: stamp.by,
})

/** The tables of records that carry a version and are deleted softly. */
export type VersionedTable = 'parties' | 'events' | 'claims' | 'links' | 'reviews'

/** The records whose earlier versions are kept: each in its own table, under its own column. */
const VERSIONS = {
  parties: { table: 'party_versions', record: 'party_id' },
  events: { table: 'event_versions', record: 'event_id' },
  claims: { table: 'claim_versions', record: 'claim_id' },
  links: { table: 'link_versions', record: 'link_id' },
  reviews: { table: 'review_versions', record: 'review_id' },
} as const

export type KeptVersions = keyof typeof VERSIONS

/** Changes a record's columns, and makes the change its next version. */
export async function updateRecord<T extends VersionedTable>(
  db: Db,
  table: T,
  id: string,
  values: Updateable<Database[T]>,
): Promise<void> {
  await db
    .updateTable(table as VersionedTable)
    .set({ ...values, ...nextVersion() })
    .where('id', '=', id)
    .execute()
}

export async function softDeleteRecord(db: Db, table: VersionedTable, id: string, stamp: DeletionStamp): Promise<void> {
  await db.updateTable(table).set(softDeletion(stamp)).where('id', '=', id).execute()
}

/** Versions of a record, newest first, below `beforeVersion` when given. */
export async function listVersions(db: Db, of: KeptVersions, recordId: string, limit: number, beforeVersion?: number) {
  const { table, record } = VERSIONS[of]
  let select = db
    .selectFrom(`${table} as v` as 'claim_versions as v')
    .leftJoin('api_keys', 'api_keys.id', 'v.recorded_by')
    .select(['v.version', 'v.snapshot', 'v.recorded_at', 'v.recorded_by', 'api_keys.name as recorded_by_name'])
    .select('v.edit_note')
    .where(sql.ref(`v.${record}`), '=', recordId)
    .orderBy('v.version', 'desc')
    .limit(limit)
  if (beforeVersion !== undefined) select = select.where('v.version', '<', beforeVersion)
  return select.execute()
}

/** Who made a version and why: the API key's id (null from the command line), and the editor's note. */
export interface VersionAuthorship {
  recordedBy: string | null
  editNote?: string | null
}

/** Records versions (of one record, or a bulk import's many), all made by one key, in one statement. */
export async function insertVersions(
  db: Db,
  of: KeptVersions,
  versions: Array<{ recordId: string; version: number; snapshot: unknown }>,
  authorship: VersionAuthorship,
): Promise<void> {
  if (versions.length === 0) return
  const { table, record } = VERSIONS[of]
  await db
    .insertInto(table)
    .values(
      versions.map((v) => ({
        [record]: v.recordId,
        version: v.version,
        snapshot: JSON.stringify(v.snapshot),
        recorded_by: authorship.recordedBy,
        edit_note: authorship.editNote ?? null,
      })),
    )
    .execute()
}
