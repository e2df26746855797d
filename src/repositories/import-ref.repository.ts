import { sql } from 'kysely'
import type { Db, ImportRefKind } from '../db/schema.js'

/**
 * The records that many import refs of one namespace name, live or deleted, in one query; unknown refs are not
 * in the answer.
 */
export async function findRefRecordIds(db: Db, namespace: string, refs: Array<{ kind: ImportRefKind; ref: string }>) {
  if (refs.length === 0) return []
  const { rows } = await sql<{ kind: ImportRefKind; ref: string; record_id: string }>`
    SELECT r.kind, r.ref, r.record_id
    FROM unnest(${refs.map((ref) => ref.kind)}::text[], ${refs.map((ref) => ref.ref)}::text[]) AS wanted (kind, ref)
    JOIN import_refs r ON r.namespace = ${namespace} AND r.kind = wanted.kind AND r.ref = wanted.ref`.execute(db)
  return rows
}

/**
 * Gives records of one kind their import refs, in one statement. A ref names one record for good: an import that
 * makes the same new ref at the same time fails on the primary key instead of binding it twice.
 */
export async function bindRefs(
  db: Db,
  namespace: string,
  kind: ImportRefKind,
  refs: Array<{ ref: string; recordId: string }>,
): Promise<void> {
  if (refs.length === 0) return
  await db
    .insertInto('import_refs')
    .values(refs.map(({ ref, recordId }) => ({ namespace, kind, ref, record_id: recordId })))
    .execute()
}
