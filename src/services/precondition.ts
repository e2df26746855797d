/**
 * A check a write makes against the current representation, inside its transaction and before it changes
 * anything; it throws to refuse the write. The HTTP layer builds one from If-Match and If-None-Match.
 */
export type Precondition<T> = (current: T) => void
