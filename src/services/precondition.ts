import { ApiError } from '../errors/problems.js'
import { type ApiKeyIdentity, grants } from '../schemas/api-key.schema.js'

/**
 * A check a write makes against the current representation and the key that created the record (null for
 * records made without one), inside its transaction and before it changes anything; it throws to refuse the
 * write. The HTTP layer builds one from the request's key, If-Match and If-None-Match.
 */
export type Precondition<T> = (current: T, createdBy: string | null) => void

/** A `write` key changes and deletes only what it created; an `admin` key anything. */
export function assertMayChange(key: ApiKeyIdentity | null, createdBy: string | null): void {
  if (key !== null && (grants(key.scopes, 'admin') || createdBy === key.id)) return
  throw new ApiError(
    'forbidden',
    'this record was created with another API key: only that key or an admin key may change or delete it',
  )
}

/** The precondition of a write on behalf of `key` that has no entity tags to check: ownership alone. */
export const ownedBy =
  (key: ApiKeyIdentity | null): Precondition<unknown> =>
  (_current, createdBy) =>
    assertMayChange(key, createdBy)
