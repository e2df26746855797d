import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../db/schema.js'
import { notFound } from '../errors/problems.js'
import { type CountKind, isUuid, type ListTotal } from '../schemas/common.schema.js'
import { countList } from './list-count.js'
import * as apiKeys from '../repositories/api-key.repository.js'
import {
  type ApiKey,
  type ApiKeyIdentity,
  type CreateApiKeyInput,
  type Scope,
  SCOPES,
  TOKEN_PREFIX,
} from '../schemas/api-key.schema.js'

/** 32 random bytes (256 bits) as base64url after the prefix: 47 characters in all. */
const TOKEN_SHAPE = new RegExp(`^${TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`)
/** What lists show of a token: the prefix and 8 more characters (48 bits, enough to tell keys apart). */
const SHOWN_CHARACTERS = TOKEN_PREFIX.length + 8

const hashOf = (token: string) => createHash('sha256').update(token).digest()

export function toApiKey(row: apiKeys.ApiKeyRecord): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as Scope[],
    team: row.team,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  }
}

/** Makes a key; the token is returned here and never again: only its hash is stored. */
export async function createApiKey(db: Db, input: CreateApiKeyInput): Promise<{ key: ApiKey; token: string }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
  // Stored in the order of SCOPES, so that a key reads the same whichever order it was asked for in.
  const scopes = SCOPES.filter((scope) => input.scopes.includes(scope))
  const row = await apiKeys.insertApiKey(db, {
    name: input.name,
    prefix: token.slice(0, SHOWN_CHARACTERS),
    secret_hash: hashOf(token),
    scopes,
    team: input.team ?? null,
  })
  return { key: toApiKey(row), token }
}

/**
 * The live key a token belongs to, or undefined for a token that is malformed, unknown or revoked. A malformed
 * token is refused without a query, so garbage in the header costs nothing.
 */
export async function authenticate(db: Db, token: string): Promise<ApiKeyIdentity | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined
  const row = await apiKeys.findLiveKeyByHash(db, hashOf(token))
  return row === undefined ? undefined : { id: row.id, name: row.name, scopes: row.scopes as Scope[], team: row.team }
}

export async function getApiKey(db: Db, id: string): Promise<ApiKey> {
  const row = await apiKeys.findApiKey(db, id)
  if (row === undefined) throw notFound(`API key ${id}`)
  return toApiKey(row)
}

/** Up to `limit + 1` keys, newest first. */
export async function listApiKeys(
  db: Db,
  page: { limit: number; after?: [string, string]; backward?: boolean },
): Promise<ApiKey[]> {
  const rows = await apiKeys.listApiKeys(db, { ...page, limit: page.limit + 1 })
  return rows.map(toApiKey)
}

/** How many keys there are, as `count` asks. */
export async function countApiKeys(db: Db, kind: CountKind): Promise<ListTotal> {
  return countList(db, apiKeys.everyApiKey(db), kind)
}

/** Revokes a key at once: its next request is a 401. Revoking a revoked key changes nothing. */
export async function revokeApiKey(db: Db, id: string): Promise<ApiKey> {
  const row = await apiKeys.revokeApiKey(db, id)
  if (row === undefined) throw notFound(`API key ${id}`)
  return toApiKey(row)
}

/** The keys a token prefix (as `list` shows it) or an id names; for the command line. */
export async function findApiKeys(db: Db, idOrPrefix: string): Promise<ApiKey[]> {
  const rows = isUuid(idOrPrefix)
    ? [await apiKeys.findApiKey(db, idOrPrefix)].filter((row) => row !== undefined)
    : await apiKeys.findApiKeysByPrefix(db, idOrPrefix)
  return rows.map(toApiKey)
}
