import type { FastifyInstance } from 'fastify'
import { type AppOptions, buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/db/database.js'
import { enforceContractOnEveryApp } from './contract.js'
import { openTestDatabase } from './test-database.js'
import type { Scope } from '../../src/schemas/api-key.schema.js'
import { createApiKey } from '../../src/services/api-key.service.js'

export interface TestContext {
  app: FastifyInstance
  database: DatabaseHandle
  /** Tokens of keys made for the test: `call` sends `write` unless told otherwise. */
  keys: { read: string; write: string; otherWrite: string; admin: string }
}

// Every response a test receives through `inject`, from any app it builds, is checked against the OpenAPI document.
enforceContractOnEveryApp()

/** The token `call` and `callRaw` send for an app built by buildTestApp, when a test names none. */
const defaultTokens = new WeakMap<FastifyInstance, string>()

async function makeKey(database: DatabaseHandle, name: string, scope: Scope): Promise<string> {
  return (await createApiKey(database.db, { name, scopes: [scope] })).token
}

/** Headers carrying a key; `bearer(null)` sends none, where a request would otherwise send the default key. */
export function bearer(token: string | null): Record<string, string | undefined> {
  return { authorization: token === null ? undefined : `Bearer ${token}` }
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * A test file sends thousands of requests from one address and one key: limits far above that still count every
 * request (the rate-limit store runs, and its headers are sent) but refuse none. Load shedding is off: the
 * embedded database runs in the test's own event loop, and a long statement there would look like overload.
 * A test of the limits passes its own values in `env`.
 */
export const TEST_LIMITS = { RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_KEY: '1000000', MAX_EVENT_LOOP_DELAY_MS: '0' }

/** The whole app on this test file's own database, closed (and the database dropped) when the test ends. */
export async function buildTestApp(
  t: Teardown,
  env: NodeJS.ProcessEnv = {},
  options: Pick<AppOptions, 'explorerDirectory'> = {},
): Promise<TestContext> {
  const database = await openTestDatabase()
  const config = { ...loadConfig({ ...TEST_LIMITS, ...env }), migrateOnStart: false }
  const app = await buildApp({ ...options, config, database, logger: false })
  t.teardown(() => app.close())
  const keys = {
    read: await makeKey(database, 'test reader', 'read'),
    write: await makeKey(database, 'test writer', 'write'),
    otherWrite: await makeKey(database, 'another writer', 'write'),
    admin: await makeKey(database, 'test admin', 'admin'),
  }
  defaultTokens.set(app, keys.write)
  return { app, database, keys }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'HEAD'

/** Sends a request through `inject` with the body as given, and returns the status, headers and parsed body. */
export async function callRaw(
  app: FastifyInstance,
  method: Method,
  url: string,
  payload?: string | Buffer,
  headers: Record<string, string | undefined> = {},
) {
  const token = defaultTokens.get(app)
  const sent = token !== undefined && !('authorization' in headers) ? { ...bearer(token), ...headers } : headers
  const present = Object.fromEntries(Object.entries(sent).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >
  const response = await app.inject({ method, url, headers: present, payload })
  const type = String(response.headers['content-type'] ?? '')
  // JSON and its structured-syntax kinds (problem+json, ld+json), not NDJSON, which is many documents.
  const isJson = /^application\/([\w.-]+\+)?json\s*(;|$)/.test(type)
  const json = isJson && response.body.length > 0 ? response.json() : undefined
  return { status: response.statusCode, headers: response.headers, body: json, raw: response.body }
}

/** Sends a JSON request through `inject` and returns the status, headers and parsed body. */
export function call(
  app: FastifyInstance,
  method: Method,
  url: string,
  body?: unknown,
  headers: Record<string, string | undefined> = {},
) {
  if (body === undefined) return callRaw(app, method, url, undefined, headers)
  return callRaw(app, method, url, JSON.stringify(body), { 'content-type': 'application/json', ...headers })
}
