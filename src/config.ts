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
  EXPORT_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 600_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 100 * 1024 * 1024, default: 1024 * 1024 }),
  IMPORT_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 100 * 1024 * 1024 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 10_000 }),
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
  /** How long one CSV or NDJSON export may run, in place of statementTimeoutMs, which would cut it off. */
  exportTimeoutMs: number
  bodyLimitBytes: number
  /** Largest NDJSON body of an import; it streams, so this bounds the work, not the memory. */
  importBodyLimitBytes: number
  shutdownGraceMs: number
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
    exportTimeoutMs: parsed.EXPORT_TIMEOUT_MS,
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    importBodyLimitBytes: parsed.IMPORT_BODY_LIMIT_BYTES,
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
  }
}
