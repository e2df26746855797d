import { isIP } from 'node:net'
import { OptionalKind, TransformKind, Type, type StaticDecode, type TSchema } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { StringEnum } from './schemas/string-enum.js'

/** Settings read together into one object of the configuration, from variables that share a prefix. */
class SettingGroup<Settings extends Record<string, TSchema>> {
  constructor(
    readonly prefix: string,
    readonly settings: Settings,
  ) {}
}

/**
 * Every setting the service reads from its environment, defined once: the variable is the key in upper snake case
 * (after its group's prefix), the schema gives its type, bounds, default and the description the documentation
 * table is generated from (`npm run docs:config`). Validated once at start; a bad value stops the process with a
 * message that names the variable, instead of surfacing later as a confusing runtime error.
 */
/** The request headers of the API: a page of an allowed origin may always send them. */
const API_REQUEST_HEADERS = [
  'Accept',
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'Counterclaim-Consistency',
  'X-Request-Id',
]
const isApiRequestHeader = (name: string) => API_REQUEST_HEADERS.some((api) => api.toLowerCase() === name.toLowerCase())

export const SETTINGS = {
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on.' }),
  host: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'Address to listen on; `0.0.0.0` to accept connections from other machines.',
  }),
  databaseUrl: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description:
        '`postgres://user:password@host:port/database` of a PostgreSQL 15+ server. Unset (or empty): the embedded database.',
    }),
  ),
  databaseReadUrl: Type.Transform(
    Type.Optional(
      Type.String({
        description:
          'Streaming replicas of `DATABASE_URL` that serve reads, `postgres://` URLs separated by commas: `GET` and ' +
          '`HEAD` go to one that is up and within `REPLICA_MAX_LAG_MS`, else to the primary; writes, and the reads ' +
          'within them, to the primary. Needs `DATABASE_URL` (the embedded database has no replicas).',
      }),
    ),
  )
    .Decode((value) => (value === undefined ? undefined : readUrlsOf(value)))
    .Encode((value) => value?.join(',') ?? ''),
  replicaMaxLagMs: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 5000,
    description:
      'A replica further behind the primary than this is skipped until it catches up; lag is checked in the ' +
      'background, every quarter of this (at most every second).',
  }),
  readYourWritesWaitMs: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 250,
    description:
      'How long a read carrying `Counterclaim-Consistency` waits for a replica to replay that far before the ' +
      'primary serves it.',
  }),
  dataDir: Type.String({
    minLength: 1,
    default: './data',
    description: 'Where the embedded database keeps its files (created if missing). Ignored with `DATABASE_URL`.',
  }),
  logLevel: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    description: 'The least severe log lines written. Logs are JSON lines (pino).',
  }),
  migrateOnStart: Type.Boolean({ default: true, description: 'Apply pending migrations when the service starts.' }),
  databasePoolMax: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 10,
    description: 'Connections in the pool to a PostgreSQL server.',
  }),
  databasePreparedStatements: Type.Boolean({
    default: true,
    description:
      'Send parameterised statements as named prepared statements, planned once per connection. `false` sends ' +
      'unnamed ones, for a pooler in transaction mode (PgBouncer `pool_mode = transaction`). Ignored on the embedded database.',
  }),
  statementTimeoutMs: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 5000,
    description: 'PostgreSQL `statement_timeout` of every query on a server; a query cut off answers 503.',
  }),
  databaseConnectTimeoutMs: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 5000,
    description:
      'How long a request waits for a database connection, free in the pool or newly opened, before it answers 503.',
  }),
  databaseQueryTimeoutMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      maximum: 86_400_000,
      description:
        'How long the answer to a query is awaited (unset: `STATEMENT_TIMEOUT_MS` + 1000) before the request answers 503.',
    }),
  ),
  exportTimeoutMs: Type.Integer({
    minimum: 1000,
    maximum: 86_400_000,
    default: 600_000,
    description: 'How long a CSV or NDJSON export may run in all; each of its queries has `STATEMENT_TIMEOUT_MS`.',
  }),
  exportStallTimeoutMs: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 30_000,
    description: "How long an export's client may take nothing before its response is ended and its slot freed.",
  }),
  bodyLimitBytes: Type.Integer({
    minimum: 1024,
    maximum: 100 * 1024 * 1024,
    default: 1024 * 1024,
    description: 'Largest request body accepted; larger bodies get 413.',
  }),
  importBodyLimitBytes: Type.Integer({
    minimum: 1024,
    maximum: 1024 * 1024 * 1024,
    default: 100 * 1024 * 1024,
    description:
      'Largest body of `POST /v1/import`; it streams, so this bounds the work, not the memory. Larger gets 413.',
  }),
  importSpoolDir: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Where imports hold their bodies while they are applied, one directory per process; at start, what a process ' +
        "that no longer runs left there is removed. Unset: `counterclaim-import` in the system's temp directory.",
    }),
  ),
  importConcurrency: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 2,
    description:
      'Imports that may run at once, each holding a pooled connection until it ends; one more is answered 503 ' +
      'with `Retry-After`.',
  }),
  shutdownGraceMs: Type.Integer({
    minimum: 0,
    maximum: 120_000,
    default: 10_000,
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.',
  }),
  shutdownDrainMs: Type.Integer({
    minimum: 0,
    maximum: 120_000,
    default: 0,
    description:
      'On SIGTERM/SIGINT, how long `/readyz` answers 503 while requests are still served, before the service stops ' +
      'accepting connections: behind a load balancer, longer than it takes to see a failed health check (interval × ' +
      'fall count).',
  }),
  requestTimeoutMs: Type.Integer({
    minimum: 1000,
    maximum: 3_600_000,
    default: 30_000,
    description: 'A request, headers and body, must arrive within this, or it gets 408 and its connection is closed.',
  }),
  headersTimeoutMs: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 10_000,
    description: "A request's headers must arrive within this (at most `REQUEST_TIMEOUT_MS`), or 408.",
  }),
  keepAliveTimeoutMs: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 72_000,
    description: "An idle kept-alive connection is closed after this; keep it above a load balancer's idle timeout.",
  }),
  connectionTimeoutMs: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 0,
    description: 'A connection on which nothing moves, either way, for this long is closed; `0`: never.',
  }),
  rateLimit: new SettingGroup('RATE_LIMIT_', {
    windowMs: Type.Integer({
      minimum: 1000,
      maximum: 86_400_000,
      default: 60_000,
      description: 'The fixed window the rate limits count requests in.',
    }),
    perIp: Type.Integer({
      minimum: 0,
      maximum: 1_000_000_000,
      default: 600,
      description: 'Requests per window from one address, without an API key; `0`: no limit.',
    }),
    perKey: Type.Integer({
      minimum: 0,
      maximum: 1_000_000_000,
      default: 6000,
      description: 'Requests per window with one API key, wherever they come from; `0`: no limit.',
    }),
  }),
  trustProxy: Type.Transform(
    Type.Optional(
      Type.String({
        description:
          'Proxies whose `X-Forwarded-For` names the client: `true` (any), `false`, or addresses and ranges (`10.0.0.0/8`, `loopback`) separated by commas.',
      }),
    ),
  )
    .Decode((value) => trustProxyOf(value))
    .Encode((value) => (Array.isArray(value) ? value.join(',') : String(value))),
  corsOrigins: Type.Transform(
    Type.String({
      default: '*',
      description: 'Origins whose pages may call the API: `*` (any), `none`, or origins separated by commas.',
    }),
  )
    .Decode((value) => corsOriginsOf(value))
    .Encode((value) => (value.length === 0 ? 'none' : value.join(','))),
  corsAllowedHeaders: Type.Transform(
    Type.String({
      default: 'traceparent, tracestate, baggage, sentry-trace',
      description:
        'Request headers a page of an allowed origin may send beyond those of the API (always allowed: ' +
        `${API_REQUEST_HEADERS.join(', ')}), separated by commas, or \`none\`: by default those of distributed ` +
        'tracing and Sentry.',
    }),
  )
    .Decode((value) => [
      ...API_REQUEST_HEADERS,
      ...(value.trim() === 'none' ? [] : headerNamesOf(value).filter((name) => !isApiRequestHeader(name))),
    ])
    .Encode((value) => value.filter((name) => !isApiRequestHeader(name)).join(', ') || 'none'),
  publicUrl: Type.Transform(
    Type.Optional(
      Type.String({
        description:
          'The address clients reach the service at (`https://api.example.org`, or with a path prefix), named as the ' +
          'server of the OpenAPI document. Unset: the document names `/`, the host it is fetched from.',
      }),
    ),
  )
    .Decode((value) => (value === undefined ? undefined : publicUrlOf(value)))
    .Encode((value) => value ?? ''),
  overload: new SettingGroup('', {
    maxEventLoopDelayMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 1000,
      description: 'Overload: while the event loop lags more than this, requests get 503; `0` turns it off.',
    }),
    maxHeapUsedBytes: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Overload: while the heap is larger than this, requests get 503; `0` turns it off.',
    }),
    maxRssBytes: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Overload: while the resident memory is larger than this, requests get 503; `0` turns it off.',
    }),
  }),
  readsRequireKey: Type.Boolean({
    default: false,
    description: '`true`: reads need an API key too (any scope); writes always need one.',
  }),
  idempotencyTtlHours: Type.Integer({
    // At least a day: clients are promised that a retry within 24 hours is recognised.
    minimum: 24,
    maximum: 8760,
    default: 24,
    description: 'Hours the answer to a `POST` is kept for retries with its `Idempotency-Key`.',
  }),
  metrics: new SettingGroup('METRICS_', {
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 9464,
      description: 'TCP port of `GET /metrics` (Prometheus), apart from the API; `0` turns it off.',
    }),
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Address the metrics port listens on: loopback unless a scraper elsewhere must reach it.',
    }),
  }),
}

type SettingValue<S extends TSchema> = S extends { [OptionalKind]: 'Optional' }
  ? StaticDecode<S> | undefined
  : StaticDecode<S>
type ConfigOf<Settings> = {
  [K in keyof Settings]: Settings[K] extends SettingGroup<infer Group>
    ? ConfigOf<Group>
    : Settings[K] extends TSchema
      ? SettingValue<Settings[K]>
      : never
}

/** The configuration the code reads: the settings under their keys, camelCase, groups as nested objects. */
export type Config = ConfigOf<typeof SETTINGS>
export type RateLimitConfig = Config['rateLimit']

/** One environment variable: where its value goes in Config, and its schema. */
export interface Setting {
  variable: string
  path: readonly [string] | readonly [string, string]
  schema: TSchema
}

const upperSnake = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()

/** Every setting, in the order of SETTINGS. */
export const SETTING_LIST: readonly Setting[] = Object.entries(SETTINGS).flatMap(([key, entry]): Setting[] =>
  entry instanceof SettingGroup
    ? Object.entries(entry.settings as Record<string, TSchema>).map(([member, schema]) => ({
        variable: entry.prefix + upperSnake(member),
        path: [key, member] as const,
        schema,
      }))
    : [{ variable: upperSnake(key), path: [key] as const, schema: entry }],
)

const EnvSchema = Type.Object(Object.fromEntries(SETTING_LIST.map(({ variable, schema }) => [variable, schema])))

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let parsed: Record<string, unknown>
  try {
    // An empty variable (`DATABASE_URL=`) means "not set", as it does for most command-line tools.
    const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
    parsed = envSchema<Record<string, unknown>>({ schema: EnvSchema, data: present, env: false })
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
  if (parsed.DATABASE_READ_URL !== undefined && parsed.DATABASE_URL === undefined) {
    throw new ConfigError(
      'invalid configuration: DATABASE_READ_URL names replicas of the PostgreSQL server at DATABASE_URL, which is ' +
        'not set (the embedded database has no replicas)',
    )
  }
  if ((parsed.HEADERS_TIMEOUT_MS as number) > (parsed.REQUEST_TIMEOUT_MS as number)) {
    throw new ConfigError('invalid configuration: HEADERS_TIMEOUT_MS must not be longer than REQUEST_TIMEOUT_MS')
  }
  const config: Record<string, unknown> = {}
  for (const { variable, path, schema } of SETTING_LIST) {
    const decode = (schema as { [TransformKind]?: { Decode: (value: unknown) => unknown } })[TransformKind]?.Decode
    const value = decode ? decode(parsed[variable]) : parsed[variable]
    const [key, member] = path
    if (member === undefined) config[key] = value
    else config[key] = { ...(config[key] as object | undefined), [member]: value }
  }
  return config as Config
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

/** One or more `postgres://` URLs separated by commas. */
function readUrlsOf(value: string): string[] {
  const urls = value
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
  const bad = urls.filter((url) => !/^postgres(ql)?:\/\/./.test(url))
  if (urls.length === 0 || bad.length > 0) {
    // A URL may hold a password: the message counts the bad ones instead of quoting them.
    throw new ConfigError(
      'invalid configuration: DATABASE_READ_URL must be postgres:// URLs separated by commas' +
        (bad.length > 0 ? ` (${bad.length} of ${urls.length} ${bad.length === 1 ? 'is' : 'are'} not)` : ''),
    )
  }
  return urls
}

/** Header names (RFC 9110 tokens) separated by commas. */
function headerNamesOf(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  const bad = names.filter((name) => !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
  if (names.length === 0 || bad.length > 0) {
    throw new ConfigError(
      `invalid configuration: CORS_ALLOWED_HEADERS must be header names separated by commas, or none` +
        (bad.length > 0 ? ` (not ${bad.map((name) => JSON.stringify(name)).join(', ')})` : ''),
    )
  }
  return names
}

/** An absolute http(s) URL without query or fragment, written without a trailing slash. */
function publicUrlOf(value: string): string {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.search !== '' || url.hash !== '') {
    throw new ConfigError(
      `invalid configuration: PUBLIC_URL must be an http or https URL without query or fragment, such as ` +
        `https://api.example.org (not ${JSON.stringify(value)})`,
    )
  }
  return url.href.replace(/\/+$/, '')
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
