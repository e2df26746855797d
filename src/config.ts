import { isIP } from 'node:net'
import { Type, type Static } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { StringEnum } from './schemas/string-enum.js'

/**
 * Every setting the service reads from its environment. Validated once at start; a bad value stops the process
 * with a message that names the variable, instead of surfacing later as a confusing runtime error.
 */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  LOG_LEVEL: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  DATABASE_QUERY_TIMEOUT_MS: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000 })),
  EXPORT_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 600_000 }),
  EXPORT_STALL_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 100 * 1024 * 1024, default: 1024 * 1024 }),
  IMPORT_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 100 * 1024 * 1024 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 10_000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 30_000 }),
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 10_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 72_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 0 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 60_000 }),
  RATE_LIMIT_PER_IP: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 600 }),
  RATE_LIMIT_PER_KEY: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 6000 }),
  TRUST_PROXY: Type.Optional(Type.String()),
  CORS_ORIGINS: Type.String({ default: '*' }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  MAX_HEAP_USED_BYTES: Type.Integer({ minimum: 0, default: 0 }),
  MAX_RSS_BYTES: Type.Integer({ minimum: 0, default: 0 }),
  READS_REQUIRE_KEY: Type.Boolean({ default: false }),
  // At least a day: clients are promised that a retry within 24 hours is recognised.
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ minimum: 24, maximum: 8760, default: 24 }),
})

type Env = Static<typeof EnvSchema>

export interface Config {
  port: number
  host: string
  /** A PostgreSQL server to use; when absent the embedded database under `dataDir` is used. */
  databaseUrl: string | undefined
  dataDir: string
  logLevel: string
  migrateOnStart: boolean
  databasePoolMax: number
  statementTimeoutMs: number
  /** How long a request waits for a database connection, free in the pool or newly opened. */
  databaseConnectTimeoutMs: number
  /** How long the client waits for a query's answer; undefined: a little longer than statementTimeoutMs. */
  databaseQueryTimeoutMs: number | undefined
  /** How long one CSV or NDJSON export may run in all (and the limit of the one query that ranks a search export). */
  exportTimeoutMs: number
  /** How long an export's client may take nothing before the export is ended and its slot freed. */
  exportStallTimeoutMs: number
  bodyLimitBytes: number
  /** Largest NDJSON body of an import; it streams, so this bounds the work, not the memory. */
  importBodyLimitBytes: number
  shutdownGraceMs: number
  /** Receiving a whole request may take this long; then it is answered 408 and its connection closed. */
  requestTimeoutMs: number
  /** Receiving a request's headers may take this long (at most requestTimeoutMs). */
  headersTimeoutMs: number
  /** An idle kept-alive connection is closed after this long. */
  keepAliveTimeoutMs: number
  /** A connection on which nothing moves, either way, for this long is closed; 0: never. */
  connectionTimeoutMs: number
  rateLimit: RateLimitConfig
  /** Which proxies in front of the service to believe about the client's address (Fastify's `trustProxy`). */
  trustProxy: boolean | string[]
  /** Origins whose pages may call the API from a browser: `['*']` for any, `[]` for none. */
  corsOrigins: string[]
  /** Thresholds past which requests are refused with 503 until the process recovers; 0 turns one off. */
  overload: { maxEventLoopDelayMs: number; maxHeapUsedBytes: number; maxRssBytes: number }
  /** When true, reads need a key with the `read` scope too; writes always need one. */
  readsRequireKey: boolean
  /** How long the answer to a POST with an Idempotency-Key is kept for its retries. */
  idempotencyTtlHours: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let parsed: Env
  try {
    // An empty variable (`DATABASE_URL=`) means "not set", as it does for most command-line tools.
    const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
    parsed = envSchema<Env>({ schema: EnvSchema, data: present, env: false })
  } catch (error) {
    const problems = (
      error as { errors?: Array<{ instancePath: string; message?: string; params: Record<string, unknown> }> }
    ).errors
    const detail = problems
      ? problems
          .map((p) => {
            const allowed = Array.isArray(p.params.allowedValues) ? ` (${p.params.allowedValues.join(', ')})` : ''
            return `${p.instancePath.replace(/^\//, '')} ${p.message ?? 'is invalid'}${allowed}`
          })
          .join('; ')
      : (error as Error).message
    throw new ConfigError(`invalid configuration: ${detail}`)
  }
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    dataDir: parsed.DATA_DIR,
    logLevel: parsed.LOG_LEVEL,
    migrateOnStart: parsed.MIGRATE_ON_START,
    databasePoolMax: parsed.DATABASE_POOL_MAX,
    statementTimeoutMs: parsed.STATEMENT_TIMEOUT_MS,
    databaseConnectTimeoutMs: parsed.DATABASE_CONNECT_TIMEOUT_MS,
    databaseQueryTimeoutMs: parsed.DATABASE_QUERY_TIMEOUT_MS,
    exportTimeoutMs: parsed.EXPORT_TIMEOUT_MS,
    exportStallTimeoutMs: parsed.EXPORT_STALL_TIMEOUT_MS,
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    importBodyLimitBytes: parsed.IMPORT_BODY_LIMIT_BYTES,
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: headersTimeoutOf(parsed.HEADERS_TIMEOUT_MS, parsed.REQUEST_TIMEOUT_MS),
    keepAliveTimeoutMs: parsed.KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeoutMs: parsed.CONNECTION_TIMEOUT_MS,
    rateLimit: {
      windowMs: parsed.RATE_LIMIT_WINDOW_MS,
      perIp: parsed.RATE_LIMIT_PER_IP,
      perKey: parsed.RATE_LIMIT_PER_KEY,
    },
    trustProxy: trustProxyOf(parsed.TRUST_PROXY),
    corsOrigins: corsOriginsOf(parsed.CORS_ORIGINS),
    overload: {
      maxEventLoopDelayMs: parsed.MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: parsed.MAX_HEAP_USED_BYTES,
      maxRssBytes: parsed.MAX_RSS_BYTES,
    },
    readsRequireKey: parsed.READS_REQUIRE_KEY,
    idempotencyTtlHours: parsed.IDEMPOTENCY_TTL_HOURS,
  }
}

export interface RateLimitConfig {
  /** The fixed window requests are counted in. */
  windowMs: number
  /** Requests per window from one address, for requests without an API key; 0: no limit. */
  perIp: number
  /** Requests per window with one API key, wherever they come from; 0: no limit. */
  perKey: number
}

function headersTimeoutOf(headersTimeoutMs: number, requestTimeoutMs: number): number {
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('invalid configuration: HEADERS_TIMEOUT_MS must not be longer than REQUEST_TIMEOUT_MS')
  }
  return headersTimeoutMs
}

/** The names proxy-addr gives to address ranges, beside addresses and CIDR ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * `true` (trust every proxy: only when the service cannot be reached but through them), or the proxies' addresses
 * and ranges, comma-separated. Unset: the peer's address is the client's. (A count of hops is not offered: it
 * cannot tell a proxy from a client that writes X-Forwarded-For itself.)
 */
function trustProxyOf(value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  const entries = value.split(',').map((entry) => entry.trim())
  const valid = (entry: string) => {
    if (PROXY_RANGES.has(entry)) return true
    const [address = '', prefix, ...rest] = entry.split('/')
    const version = isIP(address)
    if (version === 0 || rest.length > 0) return false
    return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128))
  }
  const bad = entries.filter((entry) => !valid(entry))
  if (bad.length > 0) {
    throw new ConfigError(
      `invalid configuration: TRUST_PROXY must be true, false, or addresses and ranges (10.0.0.0/8, loopback) ` +
        `separated by commas (not ${bad.map((entry) => JSON.stringify(entry)).join(', ')})`,
    )
  }
  return entries
}

/** `*` (any origin), `none`, or origins (`https://app.example.org`) separated by commas. */
function corsOriginsOf(value: string): string[] {
  if (value.trim() === '*') return ['*']
  if (value.trim() === 'none') return []
  const origins = value.split(',').map((origin) => origin.trim())
  const isOrigin = (origin: string) => {
    try {
      const url = new URL(origin)
      return /^https?:$/.test(url.protocol) && url.origin === origin
    } catch {
      return false
    }
  }
  const bad = origins.filter((origin) => !isOrigin(origin))
  if (bad.length > 0) {
    throw new ConfigError(
      `invalid configuration: CORS_ORIGINS must be *, none, or origins such as https://app.example.org ` +
        `separated by commas (not ${bad.map((origin) => JSON.stringify(origin)).join(', ')})`,
    )
  }
  return origins
}
