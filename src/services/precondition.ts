import type { Db } from '../db/schema.js'
import { ApiError } from '../errors/problems.js'
import { teamOfKey } from '../repositories/api-key.repository.js'
import { type ApiKeyIdentity, grants } from '../schemas/api-key.schema.js'

/** The key that created a record (`id` null for records made without one) and that key's team. */
export interface Creator {
  id: string | null
  team: string | null
}

/** The creator of a record whose `created_by` is this key id, with the key's team. */
export async function creatorOf(db: Db, createdBy: string | null): Promise<Creator> {
  return { id: createdBy, team: createdBy === null ? null : await teamOfKey(db, createdBy) }
}

/**
 * A check a write makes against the current representation and the key that created the record, inside its
 * transaction and before it changes anything; it throws to refuse the write. The HTTP layer builds one from the
 * request's key, If-Match and If-None-Match.
 */
export type Precondition<T> = (current: T, creator: Creator) => void

/** A `write` key changes and deletes what it or a key of its team created; an `admin` key anything. */
export function assertMayChange(key: ApiKeyIdentity | null, creator: Creator): void {
  if (key !== null && grants(key.scopes, 'admin')) return
  if (key !== null && creator.id !== null && creator.id === key.id) return
  if (key !== null && key.team !== null && creator.team === key.team) return
  throw new ApiError(
    'forbidden',
    'this record was created with another API key: only that key, a key of its team or an admin key may change ' +
      'or delete it',
  )
}

/** The precondition of a write on behalf of `key` that has no entity tags to check: ownership alone. */
export const ownedBy =
  (key: ApiKeyIdentity | null): Precondition<unknown> =>
  (_current, creator) =>
    assertMayChange(key, creator)
