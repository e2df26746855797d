import { sql } from 'kysely'
import type { Db } from '../db/schema.js'

/** What is read of a key, never its hash. */
const KEY_COLUMNS = ['id', 'name', 'prefix', 'scopes', 'team', 'created_at', 'last_used_at', 'revoked_at'] as const

function selectKeys(db: Db) {
  return db.selectFrom('api_keys').select(KEY_COLUMNS)
}

export type ApiKeyRecord = NonNullable<Awaited<ReturnType<ReturnType<typeof selectKeys>['executeTakeFirst']>>>

export async function insertApiKey(
  db: Db,
  values: { name: string; prefix: string; secret_hash: Buffer; scopes: string[]; team: string | null },
): Promise<ApiKeyRecord> {
  return db.insertInto('api_keys').values(values).returning(KEY_COLUMNS).executeTakeFirstOrThrow()
}

/**
 * The live key with this hash, in one statement that also records its use: `last_used_at` moves when it is a
 * minute or more behind, so that a busy key writes its row once a minute rather than on every request.
 */
export async function findLiveKeyByHash(db: Db, secretHash: Buffer) {
  const result = await sql<{ id: string; name: string; scopes: string[]; team: string | null }>`
    WITH found AS (
      SELECT id, name, scopes, team, last_used_at FROM api_keys WHERE secret_hash = ${secretHash} AND revoked_at IS NULL
    ), touched AS (
      UPDATE api_keys SET last_used_at = now() FROM found
      WHERE api_keys.id = found.id
        AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
    )
    SELECT id, name, scopes, team FROM found`.execute(db)
  return result.rows[0]
}

/** The team of the key with this id (null for a key of no team, and for no key). */
export async function teamOfKey(db: Db, id: string): Promise<string | null> {
  const row = await db.selectFrom('api_keys').select('team').where('id', '=', id).executeTakeFirst()
  return row?.team ?? null
}

export async function findApiKey(db: Db, id: string) {
  return selectKeys(db).where('id', '=', id).executeTakeFirst()
}

/**
 * Up to `limit` keys, newest first, after the key `after` of a previous page (backward: before it, nearest
 * first); revoked keys too.
 */
export async function listApiKeys(db: Db, page: { limit: number; after?: [string, string]; backward?: boolean }) {
  const direction = page.backward ? 'asc' : 'desc'
  let select = selectKeys(db).orderBy('created_at', direction).orderBy('id', direction).limit(page.limit)
  if (page.after !== undefined) {
    const [createdAt, id] = page.after
    const comparison = sql.raw(page.backward ? '>' : '<')
    select = select.where(sql<boolean>`(created_at, id) ${comparison} (${createdAt}::timestamptz, ${id}::uuid)`)
  }
  return select.execute()
}

/** Every key, revoked ones too, for a count. */
export function everyApiKey(db: Db) {
  return db.selectFrom('api_keys').select('id')
}

/** Revokes a key; a key already revoked keeps the time it was first revoked. Undefined when there is none. */
export async function revokeApiKey(db: Db, id: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .returning(KEY_COLUMNS)
    .executeTakeFirst()
}

/** Keys whose token starts with `prefix` (what `list` shows), for the command line to revoke by prefix. */
export async function findApiKeysByPrefix(db: Db, prefix: string) {
  return selectKeys(db).where('prefix', '=', prefix).execute()
}
