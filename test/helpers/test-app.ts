import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/db/database.js'
import { openTestDatabase } from './test-database.js'

export interface TestContext {
  app: FastifyInstance
  database: DatabaseHandle
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/** The whole app on this test file's own database, closed (and the database dropped) when the test ends. */
export async function buildTestApp(t: Teardown, env: NodeJS.ProcessEnv = {}): Promise<TestContext> {
  const database = await openTestDatabase()
  const config = { ...loadConfig(env), migrateOnStart: false }
  const app = await buildApp({ config, database, logger: false })
  t.teardown(() => app.close())
  return { app, database }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'HEAD'

/** Sends a request through `inject` with the body as given, and returns the status, headers and parsed body. */
export async function callRaw(
  app: FastifyInstance,
  method: Method,
  url: string,
  payload?: string | Buffer,
  headers: Record<string, string> = {},
) {
  const response = await app.inject({ method, url, headers, payload })
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
  headers: Record<string, string> = {},
) {
  if (body === undefined) return callRaw(app, method, url, undefined, headers)
  return callRaw(app, method, url, JSON.stringify(body), { 'content-type': 'application/json', ...headers })
}
