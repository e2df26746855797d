import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

/** The ConfigError loadConfig throws for `env`; undefined when it throws nothing or something else. */
function configError(env: NodeJS.ProcessEnv): ConfigError | undefined {
  try {
    loadConfig(env)
  } catch (error) {
    return error instanceof ConfigError ? error : undefined
  }
  return undefined
}

t.test('an empty environment gives the documented defaults', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    dataDir: './data',
    logLevel: 'info',
    migrateOnStart: true,
  })
  t.equal(config.databaseUrl, undefined)
  t.ok('databaseUrl' in config)
})

t.test('values are read from the environment and typed', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATA_DIR: '/var/lib/counterclaim',
    LOG_LEVEL: 'debug',
    DATABASE_URL: 'postgresql://app@db.internal:5432/counterclaim',
    DATABASE_POOL_MAX: '4',
  })
  t.equal(config.port, 8080)
  t.equal(config.host, '0.0.0.0')
  t.equal(config.dataDir, '/var/lib/counterclaim')
  t.equal(config.logLevel, 'debug')
  t.equal(config.databaseUrl, 'postgresql://app@db.internal:5432/counterclaim')
  t.equal(config.databasePoolMax, 4)
  t.equal(loadConfig({ DATABASE_URL: 'postgres://x/y' }).databaseUrl, 'postgres://x/y')
})

t.test('PORT=abc is a ConfigError naming PORT', async (t) => {
  const error = configError({ PORT: 'abc' })
  t.ok(error instanceof ConfigError, 'throws a ConfigError')
  t.match(error?.message, /\bPORT\b/)
  t.notMatch(error?.message, /LOG_LEVEL|DATABASE_URL/, 'names only the bad variable')

  t.match(configError({ PORT: '70000' })?.message, /\bPORT\b/, 'out of range')
  t.match(configError({ PORT: '3000.5' })?.message, /\bPORT\b/, 'not an integer')
})

t.test('LOG_LEVEL=loud is a ConfigError naming LOG_LEVEL and the allowed values', async (t) => {
  const error = configError({ LOG_LEVEL: 'loud' })
  t.ok(error instanceof ConfigError, 'throws a ConfigError')
  t.match(error?.message, /\bLOG_LEVEL\b/)
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
    t.match(error?.message, new RegExp(`\\b${level}\\b`), `lists ${level}`)
  }
})

t.test('a DATABASE_URL that is not PostgreSQL is refused', async (t) => {
  const error = configError({ DATABASE_URL: 'mysql://x' })
  t.ok(error instanceof ConfigError, 'throws a ConfigError')
  t.match(error?.message, /\bDATABASE_URL\b/)
  t.ok(configError({ DATABASE_URL: 'not a url' }) instanceof ConfigError)
})

t.test('an empty variable means unset', async (t) => {
  t.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined)
  t.equal(loadConfig({ PORT: '' }).port, 3000)
  t.equal(loadConfig({ LOG_LEVEL: '' }).logLevel, 'info')
})

t.test('DATABASE_PREPARED_STATEMENTS is on unless turned off', async (t) => {
  t.equal(loadConfig({}).databasePreparedStatements, true)
  t.equal(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements, false)
  t.ok(configError({ DATABASE_PREPARED_STATEMENTS: 'no' }) instanceof ConfigError)
})

t.test('MIGRATE_ON_START is a boolean', async (t) => {
  t.equal(loadConfig({ MIGRATE_ON_START: 'false' }).migrateOnStart, false)
  t.equal(loadConfig({ MIGRATE_ON_START: 'true' }).migrateOnStart, true)
  t.ok(configError({ MIGRATE_ON_START: 'maybe' }) instanceof ConfigError)
})

t.test('several bad variables are all named at once', async (t) => {
  const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud' })
  t.match(error?.message, /\bPORT\b/)
  t.match(error?.message, /\bLOG_LEVEL\b/)
})

t.test('loadConfig reads only the environment it is given', async (t) => {
  const config = loadConfig({ PORT: '4000' })
  t.equal(config.port, 4000)
  t.equal(config.databaseUrl, undefined, 'DATABASE_URL of the test process is not read')
})

t.test('limits: documented defaults', async (t) => {
  const config = loadConfig({})
  t.same(config.rateLimit, { windowMs: 60_000, perIp: 600, perKey: 6000 })
  t.same(config.corsOrigins, ['*'])
  t.equal(config.trustProxy, false)
  t.same(config.overload, { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0, maxRssBytes: 0 })
  t.same(
    [config.requestTimeoutMs, config.headersTimeoutMs, config.keepAliveTimeoutMs, config.connectionTimeoutMs],
    [30_000, 10_000, 72_000, 0],
  )
})

t.test('rate limits are integers; 0 means no limit, and a window is at least a second', async (t) => {
  t.same(loadConfig({ RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_KEY: '100', RATE_LIMIT_WINDOW_MS: '1000' }).rateLimit, {
    windowMs: 1000,
    perIp: 0,
    perKey: 100,
  })
  t.match(configError({ RATE_LIMIT_PER_IP: '-1' })?.message, /\bRATE_LIMIT_PER_IP\b/)
  t.match(configError({ RATE_LIMIT_PER_KEY: 'lots' })?.message, /\bRATE_LIMIT_PER_KEY\b/)
  t.match(configError({ RATE_LIMIT_WINDOW_MS: '10' })?.message, /\bRATE_LIMIT_WINDOW_MS\b/)
})

t.test('TRUST_PROXY: true, false, or the proxies’ addresses and ranges', async (t) => {
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
  t.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.1,fd00::/8,loopback' }).trustProxy, [
    '10.0.0.0/8',
    '192.0.2.1',
    'fd00::/8',
    'loopback',
  ])
  for (const bad of ['1', 'yes', '10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/2']) {
    t.match(configError({ TRUST_PROXY: bad })?.message, /\bTRUST_PROXY\b/, `refuses ${bad}`)
  }
})

t.test('CORS_ORIGINS: *, none, or origins', async (t) => {
  t.same(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins, ['*'])
  t.same(loadConfig({ CORS_ORIGINS: 'none' }).corsOrigins, [])
  t.same(loadConfig({ CORS_ORIGINS: 'https://app.example.org, http://localhost:5173' }).corsOrigins, [
    'https://app.example.org',
    'http://localhost:5173',
  ])
  for (const bad of ['app.example.org', 'https://app.example.org/', 'https://app.example.org/path', 'ftp://x.org']) {
    t.match(configError({ CORS_ORIGINS: bad })?.message, /\bCORS_ORIGINS\b/, `refuses ${bad}`)
  }
})

t.test('CORS_ALLOWED_HEADERS: header names, by default those of the API and of tracing', async (t) => {
  const defaults = loadConfig({}).corsAllowedHeaders.map((name) => name.toLowerCase())
  for (const name of ['authorization', 'if-match', 'idempotency-key', 'traceparent', 'tracestate', 'baggage']) {
    t.ok(defaults.includes(name), `allows ${name} by default`)
  }
  t.ok(defaults.includes('sentry-trace'))
  const api = [
    'Accept',
    'Authorization',
    'Content-Type',
    'If-Match',
    'If-None-Match',
    'Idempotency-Key',
    'Counterclaim-Consistency',
    'X-Request-Id',
  ]
  t.same(
    loadConfig({ CORS_ALLOWED_HEADERS: 'authorization, X-Custom ' }).corsAllowedHeaders,
    [...api, 'X-Custom'],
    'a value adds to the headers of the API, which it cannot take away',
  )
  t.same(loadConfig({ CORS_ALLOWED_HEADERS: 'none' }).corsAllowedHeaders, api, 'none: the headers of the API alone')
  for (const bad of [',', 'X Custom', 'X-Custom, a:b']) {
    t.match(configError({ CORS_ALLOWED_HEADERS: bad })?.message, /\bCORS_ALLOWED_HEADERS\b/, `refuses ${bad}`)
  }
})

t.test('PUBLIC_URL: optional, an http(s) URL written without its trailing slash', async (t) => {
  t.equal(loadConfig({}).publicUrl, undefined)
  t.equal(loadConfig({ PUBLIC_URL: 'https://api.example.org/' }).publicUrl, 'https://api.example.org')
  t.equal(loadConfig({ PUBLIC_URL: 'https://example.org/counterclaim' }).publicUrl, 'https://example.org/counterclaim')
  for (const bad of ['api.example.org', 'ftp://example.org', 'https://example.org/?x=1', 'https://example.org/#a']) {
    t.match(configError({ PUBLIC_URL: bad })?.message, /\bPUBLIC_URL\b/, `refuses ${bad}`)
  }
})
