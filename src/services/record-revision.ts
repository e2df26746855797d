import type { Static, TObject } from '@sinclair/typebox'
import type { Updateable } from 'kysely'
import type { Database, Db } from '../db/schema.js'
import type { TombstoneKind } from '../schemas/tombstone.schema.js'
import {
  type DeletionStamp,
  type KeptVersions,
  type VersionAuthorship,
  type VersionedTable,
  insertVersions,
  listVersions,
  softDeleteRecord,
  updateRecord,
} from '../repositories/record-version.js'
import { type Precondition, creatorOf } from './precondition.js'
import { findTombstone, missingRecord } from './tombstone.js'

/** One kind of versioned record, as the services read it and answer with it. */
export interface RecordKind<Table extends VersionedTable, Row extends StoredRecord, T extends { version: number }> {
  /** What problems and tombstones call it: `claim … does not exist`. */
  name: TombstoneKind
  table: Table
  /** The live record with this key; `forUpdate` locks it until the transaction ends. */
  find: (db: Db, key: string, options?: { forUpdate?: boolean }) => Promise<Row | undefined>
  /** The record as the API serves it, and as preconditions compare it. */
  present: (row: Row) => T
  /**
   * Where its earlier versions are kept, and what each keeps of it: everything an edit can change. None for a
   * record whose edits are not kept.
   */
  versions?: { of: KeptVersions; fields: ReadonlyArray<keyof T> }
}

type Find<Row> = RecordKind<VersionedTable, Row & StoredRecord, { version: number }>['find']

/** A kind of record whose edits are not kept. */
export function recordKind<Table extends VersionedTable, Row extends StoredRecord, T extends { version: number }>(
  name: TombstoneKind,
  table: Table,
  find: Find<Row>,
  present: (row: Row) => T,
): RecordKind<Table, Row, T>
/** A kind of record whose every version is kept, as `snapshot`, the schema of a version's record, names it. */
export function recordKind<
  Table extends VersionedTable & KeptVersions,
  Row extends StoredRecord,
  T extends { version: number },
  S extends TObject,
>(
  name: TombstoneKind,
  table: Table,
  find: Find<Row>,
  present: (row: Row) => T,
  snapshot: keyof Static<S> extends keyof T ? S : never,
): RecordKind<Table, Row, T> & Required<Pick<RecordKind<Table, Row, T>, 'versions'>>
export function recordKind<Table extends VersionedTable, Row extends StoredRecord, T extends { version: number }>(
  name: TombstoneKind,
  table: Table,
  find: Find<Row>,
  present: (row: Row) => T,
  snapshot?: TObject,
): RecordKind<Table, Row, T> {
  if (snapshot === undefined) return { name, table, find, present }
  const fields = Object.keys(snapshot.properties) as Array<keyof T>
  return { name, table, find, present, versions: { of: table as KeptVersions, fields } }
}

/** A version of a record, as its kind keeps it. */
export function snapshotOf<T>(record: T, fields: ReadonlyArray<keyof T>): Partial<T> {
  return Object.fromEntries(fields.map((field) => [field, record[field]])) as Partial<T>
}

interface StoredRecord {
  id: string
  created_by: string | null
}

/** The live record with this key, as served; 410 with its tombstone when it was deleted, else 404. */
export async function readRecord<Row extends StoredRecord, T extends { version: number }>(
  db: Db,
  kind: RecordKind<VersionedTable, Row, T>,
  key: string,
): Promise<T> {
  const row = await kind.find(db, key)
  if (row === undefined) throw await missingRecord(db, kind.name, key)
  return kind.present(row)
}

/**
 * Reads the record a write changes, locked until the transaction ends, and checks the write's precondition
 * (ownership, If-Match) against it before anything changes.
 */
async function lockForWrite<Row extends StoredRecord, T extends { version: number }>(
  trx: Db,
  kind: RecordKind<VersionedTable, Row, T>,
  key: string,
  precondition: Precondition<T>,
): Promise<Row> {
  const row = await kind.find(trx, key, { forUpdate: true })
  // A deleted record answers 410 whatever the preconditions: they apply to a record that is there (RFC 9110, 13.2.1).
  if (row === undefined) throw await missingRecord(trx, kind.name, key)
  precondition(kind.present(row), await creatorOf(trx, row.created_by))
  return row
}

/** What an edit of one kind of record does beyond the skeleton that every edit shares. */
export interface Revision<Table extends VersionedTable, Row, T = unknown> {
  /** Locks taken before the record's own, in the order every writer takes them, from the record as it reads. */
  lockBefore?: (record: T) => Promise<unknown>
  /** The columns the edit sets, from the current row; a check that refuses the edit throws here. */
  changes: (row: Row) => Updateable<Database[Table]> | Promise<Updateable<Database[Table]>>
  /** What the edit changes elsewhere in the same transaction: copies of the record, counts derived from it. */
  follow?: (row: Row, values: Updateable<Database[Table]>) => Promise<void>
}

/**
 * Edits a record within the caller's transaction: locks it and checks the precondition, sets the changed columns
 * as its next version, and records that version, with who made it and why, where the kind keeps them. Returns the
 * record as edited.
 */
export async function reviseRecord<
  Table extends VersionedTable,
  Row extends StoredRecord,
  T extends { version: number },
>(
  trx: Db,
  kind: RecordKind<Table, Row, T>,
  key: string,
  precondition: Precondition<T>,
  authorship: VersionAuthorship,
  revision: Revision<Table, Row, T>,
): Promise<T> {
  if (revision.lockBefore !== undefined) await revision.lockBefore(await readRecord(trx, kind, key))
  const row = await lockForWrite(trx, kind, key, precondition)
  const values = await revision.changes(row)
  await updateRecord(trx, kind.table, row.id, values)
  await revision.follow?.(row, values)
  const updated = await readRecord(trx, kind, row.id)
  if (kind.versions !== undefined) {
    const snapshot = snapshotOf(updated, kind.versions.fields)
    await insertVersions(trx, kind.versions.of, [{ recordId: row.id, version: updated.version, snapshot }], authorship)
  }
  return updated
}

/** What a deletion of one kind of record does beyond the skeleton that every deletion shares. */
export interface Removal<Row, T> {
  /** Locks taken before the record's own, in the order every writer takes them, from the record as it reads. */
  lockBefore?: (record: T) => Promise<unknown>
  /** Refusals beyond the precondition, on the locked record, before anything is written. */
  check?: (row: Row) => Promise<void>
  /** What the deletion changes elsewhere in the same transaction: what goes with the record, what counted it. */
  follow?: (row: Row) => Promise<void>
}

/**
 * Deletes a record (softly) within the caller's transaction: locks it, checks the precondition, marks it deleted
 * by the API key and at the time `stamp` names.
 */
export async function removeRecord<Row extends StoredRecord, T extends { version: number }>(
  trx: Db,
  kind: RecordKind<VersionedTable, Row, T>,
  key: string,
  precondition: Precondition<T>,
  stamp: DeletionStamp,
  removal: Removal<Row, T> = {},
): Promise<void> {
  if (removal.lockBefore !== undefined) await removal.lockBefore(await readRecord(trx, kind, key))
  const row = await lockForWrite(trx, kind, key, precondition)
  await removal.check?.(row)
  await softDeleteRecord(trx, kind.table, row.id, stamp)
  await removal.follow?.(row)
}

/** What every history says of a version besides the record: when, by which key, and why. */
interface VersionHeading {
  version: number
  recorded_at: string
  recorded_by: { id: string; name: string } | null
  edit_note: string | null
}

/** The entry of a deleted record's history that records its deletion: when, and by which API key. */
export interface DeletionEntry {
  deleted: { deleted_at: string; deleted_by: { id: string; name: string } | null }
}

/**
 * Up to `limit + 1` versions of the record `key` names (its id, or a party's slug), newest first, below
 * `beforeVersion` when given; `entry` names each snapshot as the record's history shows it. The first is the
 * current version. A deleted record keeps its history: its newest entry is the deletion, a version of its own
 * (deleting counts as a change), with what the record said when it was deleted.
 */
export async function listRecordHistory<Row extends StoredRecord, T extends { version: number }, Entry>(
  db: Db,
  kind: RecordKind<VersionedTable, Row, T> & Required<Pick<RecordKind<VersionedTable, Row, T>, 'versions'>>,
  key: string,
  limit: number,
  beforeVersion: number | undefined,
  entry: (snapshot: unknown) => Entry,
): Promise<Array<VersionHeading & Entry & Partial<DeletionEntry>>> {
  const live = await kind.find(db, key)
  const tombstone = live === undefined ? await findTombstone(db, kind.name, key) : undefined
  // The key may be a party's slug: its versions are under the id it names.
  const id = live?.id ?? tombstone?.id
  if (id === undefined) throw await missingRecord(db, kind.name, key)
  const rows = await listVersions(db, kind.versions.of, id, limit + 1, beforeVersion)
  const versions = rows.map((row) => ({
    version: row.version,
    recorded_at: row.recorded_at.toISOString(),
    recorded_by: row.recorded_by === null ? null : { id: row.recorded_by, name: row.recorded_by_name ?? '' },
    edit_note: row.edit_note,
    ...entry(row.snapshot),
  }))
  if (tombstone === undefined || (beforeVersion !== undefined && tombstone.version >= beforeVersion)) return versions
  // Below the deletion's version, the newest kept version is what the record said when it was deleted.
  const said = rows[0]
  if (said === undefined) return versions
  const deletion = {
    version: tombstone.version,
    recorded_at: tombstone.deleted_at,
    recorded_by: tombstone.deleted_by,
    edit_note: null,
    ...entry(said.snapshot),
    deleted: { deleted_at: tombstone.deleted_at, deleted_by: tombstone.deleted_by },
  }
  return [deletion, ...versions].slice(0, limit + 1)
}
