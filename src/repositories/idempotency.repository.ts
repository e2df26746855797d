import { sql } from 'kysely'
import type { Db, IdempotencyState } from '../db/schema.js'

/** One Idempotency-Key of one API key, and the attempt (a request) that holds or wants it. */
export interface IdempotencyAttempt {
  apiKeyId: string
  idempotencyKey: string
  attemptId: string
}

/** A record that another request holds or completed, as a request that could not claim it finds it. */
export interface ExistingRecord {
  fingerprint: Buffer
  state: IdempotencyState
  responseStatus: number | null
  responseHeaders: Record<string, string> | null
  responseBody: Buffer | null
}

/** The answer a completed record keeps: status, the headers to replay, the body (null when not kept). */
export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: Buffer | null
}

const CLAIM_ATTEMPTS = 3

/**
 * Claims a key for a request, in one atomic statement: inserts the record, in progress, unless one exists. An
 * existing record is taken over only when it no longer counts: it expired (whatever request it was for), or it
 * was abandoned in progress (its lease ran out: the process running it died) by the same request. Concurrent
 * claims of one key queue on its row, and exactly one of them gets it.
 *
 * Returns undefined when the key is now this attempt's, otherwise the record that holds it. Between the claim
 * and the read of that record, its holder may delete it (a request that failed gives its key back): then the
 * claim is simply tried again.
 */
export async function claimKey(
  db: Db,
  attempt: IdempotencyAttempt,
  fingerprint: Buffer,
  { leaseMs, ttlMs }: { leaseMs: number; ttlMs: number },
): Promise<ExistingRecord | undefined> {
  for (let round = 1; ; round++) {
    const { rows } = await sql<{ attempt_id: string }>`
      INSERT INTO idempotency_records AS record
        (api_key_id, idempotency_key, fingerprint, attempt_id, state, locked_until, expires_at)
      VALUES (${attempt.apiKeyId}, ${attempt.idempotencyKey}, ${fingerprint}, ${attempt.attemptId}, 'in-progress',
              now() + ${leaseMs}::integer * interval '1 millisecond',
              now() + ${ttlMs}::bigint * interval '1 millisecond')
      ON CONFLICT (api_key_id, idempotency_key) DO UPDATE SET
        fingerprint = excluded.fingerprint, attempt_id = excluded.attempt_id, state = 'in-progress',
        locked_until = excluded.locked_until, response_status = NULL, response_headers = NULL,
        response_body = NULL, created_at = now(), expires_at = excluded.expires_at
      WHERE record.expires_at <= now()
         OR (record.state = 'in-progress' AND record.locked_until <= now()
             AND record.fingerprint = excluded.fingerprint)
      RETURNING attempt_id
    `.execute(db)
    if (rows.length === 1) return undefined
    const existing = await db
      .selectFrom('idempotency_records')
      .select(['fingerprint', 'state', 'response_status', 'response_headers', 'response_body'])
      .where('api_key_id', '=', attempt.apiKeyId)
      .where('idempotency_key', '=', attempt.idempotencyKey)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst()
    if (existing !== undefined) {
      return {
        fingerprint: existing.fingerprint,
        state: existing.state,
        responseStatus: existing.response_status,
        responseHeaders: existing.response_headers,
        responseBody: existing.response_body,
      }
    }
    // Gone (or expired) between the two statements, which a few rounds outlast; a key that keeps changing hands
    // this fast is in use.
    if (round >= CLAIM_ATTEMPTS) {
      return { fingerprint, state: 'in-progress', responseStatus: null, responseHeaders: null, responseBody: null }
    }
  }
}

/** Where the statements below find the record of an attempt: still in progress, and still held by it. */
const heldBy = (attempt: IdempotencyAttempt) => (db: Db) =>
  db
    .updateTable('idempotency_records')
    .where('api_key_id', '=', attempt.apiKeyId)
    .where('idempotency_key', '=', attempt.idempotencyKey)
    .where('attempt_id', '=', attempt.attemptId)
    .where('state', '=', 'in-progress')

/** Pushes the lease of a running attempt forward; false when the attempt no longer holds the record. */
export async function renewLease(db: Db, attempt: IdempotencyAttempt, leaseMs: number): Promise<boolean> {
  const result = await heldBy(attempt)(db)
    .set({ locked_until: sql<Date>`now() + ${leaseMs}::integer * interval '1 millisecond'` })
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/**
 * Stores the answer of an attempt and keeps it for `ttlMs` from now; false when the attempt no longer held the
 * record (its lease ran out and a retry took it over), so that nothing was stored.
 */
export async function completeKey(
  db: Db,
  attempt: IdempotencyAttempt,
  response: StoredResponse,
  ttlMs: number,
): Promise<boolean> {
  const result = await heldBy(attempt)(db)
    .set({
      state: 'completed',
      response_status: response.status,
      response_headers: JSON.stringify(response.headers),
      response_body: response.body,
      expires_at: sql<Date>`now() + ${ttlMs}::bigint * interval '1 millisecond'`,
    })
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** Gives the key back (the attempt failed and wrote nothing that counts), so that a retry can run. */
export async function releaseKey(db: Db, attempt: IdempotencyAttempt): Promise<void> {
  await db
    .deleteFrom('idempotency_records')
    .where('api_key_id', '=', attempt.apiKeyId)
    .where('idempotency_key', '=', attempt.idempotencyKey)
    .where('attempt_id', '=', attempt.attemptId)
    .where('state', '=', 'in-progress')
    .execute()
}

/** Deletes the records whose time is up; every claim already ignores them, so this only reclaims their space. */
export async function deleteExpiredRecords(db: Db): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_records')
    .where('expires_at', '<=', sql<Date>`now()`)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
