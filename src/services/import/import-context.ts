import type { ImportRefKind } from '../../db/schema.js'
import type { Transaction } from '../../db/transaction.js'
import { ApiError, unprocessableField } from '../../errors/problems.js'
import type { ApiKeyIdentity } from '../../schemas/api-key.schema.js'
import type { PendingPairCounts } from '../derived-state.js'
import type { Precondition } from '../precondition.js'
import type { ImportRefs } from './import-refs.js'
import { findTombstone, gone } from '../tombstone.js'

export type Outcome = 'created' | 'updated' | 'unchanged' | 'deleted'

/**
 * What a line does to the record its ref (or natural key) names when it is already there: `update` it to what the
 * line says, as an import does; or `keep` it as it is, live or deleted, as a data set loaded again does.
 */
export type ExistingRecords = 'update' | 'keep'

/** One import, within its transaction: who makes it, its refs, and the matrix counts to move at the end. */
export interface ImportContext {
  trx: Transaction
  refs: ImportRefs
  /** The key importing: what its deletion lines delete is deleted by it, under the rules of DELETE. */
  key: ApiKeyIdentity | null
  /** Records this import creates belong to its key; those it changes must be the key's, unless it is admin. */
  createdBy: string | null
  mayChange: Precondition<unknown>
  existing: ExistingRecords
  /** The matrix counts of the links it makes, to move once, at its end. */
  pairCounts: PendingPairCounts
}

/**
 * Thrown by a line whose write failed in the database after its checks passed (a slug taken meanwhile by another
 * session): the transaction is aborted, so the import cannot go on to the next line.
 */
export class ImportAborted extends Error {
  constructor(readonly problem: ApiError) {
    super(problem.detail)
  }
}

/**
 * Runs a party write whose checks have passed: a conflict it still meets came from the database (a slug taken
 * by another session meanwhile), which has aborted the transaction, so the whole import fails with it.
 */
export async function abortOnConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if (error instanceof ApiError && error.code === 'conflict') throw new ImportAborted(error)
    throw error
  }
}

/**
 * The problem of a line whose ref names record `id`, deleted: `gone`, with its tombstone, naming the ref. An
 * import does not bring a deleted record back.
 */
export async function deletedRecord(trx: Transaction, kind: ImportRefKind, ref: string, id: string) {
  const message =
    `${ref} names a ${kind} that was deleted; an import does not bring it back: give the line a new ref to ` +
    'record it again'
  const tombstone = await findTombstone(trx, kind, id)
  if (tombstone === undefined) return unprocessableField('body', 'ref', message)
  return gone(tombstone, { in: 'body', field: 'ref', message })
}
