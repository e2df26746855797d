import { readdir } from 'node:fs/promises'
import type pg from 'pg'
import { MIGRATIONS_DIR } from '../src/db/migrator.js'

/** What the bench scripts share: where the scratch database is, and the record of how it was made. */

export const DEFAULT_DATABASE = 'counterclaim_bench'

/** The server named by DATABASE_URL; the scripts stop here, with a message, when it is not set. */
export function serverUrl(): URL {
  const value = process.env.DATABASE_URL
  if (value === undefined || value === '') {
    console.error('DATABASE_URL is not set: give the server, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test')
    process.exit(2)
  }
  if (!/^postgres(ql)?:\/\//.test(value)) {
    console.error(`DATABASE_URL is not a postgres:// URL: ${value}`)
    process.exit(2)
  }
  return new URL(value)
}

/**
 * The name is interpolated into DROP DATABASE and CREATE DATABASE, and the generator drops what it names: only
 * plain lower-case identifiers are taken, never the database DATABASE_URL itself names nor a system one.
 */
export function checkDatabaseName(name: string, server: URL): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`--database ${name}: use a-z, 0-9 and _ only`)
  const own = decodeURIComponent(server.pathname.replace(/^\//, ''))
  if (name === own || name === 'postgres' || name.startsWith('template')) {
    throw new Error(`--database ${name}: refusing to use a database that is not a scratch one`)
  }
  return name
}

export function databaseUrl(server: URL, name: string): string {
  const url = new URL(server)
  url.pathname = `/${name}`
  return url.toString()
}

/** Kept as the database's comment by the generator, so that the plans can say how their data was made. */
export interface GenerationRecord {
  command: string
  scale: number
  generated_at: string
  seconds: number
  counts: { parties: number; claims: number; links: number; disputed: number }
  fingerprint: string
  /** The last migration applied when the data was made: the plans are of that schema. */
  migration: string
  /** Each step of the load, with the rows it made (absent from records made before steps were kept). */
  steps?: Array<{ name: string; seconds: number; rows?: number }>
}

/** The record the generator left as the database's comment, if it left one. */
export async function readGenerationRecord(client: pg.ClientBase, name: string): Promise<GenerationRecord | undefined> {
  const { rows } = await client.query<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [name],
  )
  const comment = rows[0]?.comment
  if (comment === null || comment === undefined) return undefined
  try {
    return JSON.parse(comment) as GenerationRecord
  } catch {
    return undefined
  }
}

/** The last migration of the code, by file name. */
export async function latestMigration(): Promise<string | undefined> {
  return (await readdir(MIGRATIONS_DIR))
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .at(-1)
    ?.replace(/\.sql$/, '')
}

/**
 * Whether data made by the generator still stands for the code: made at its migration head, or made earlier and
 * migrated forward since (the service migrates on start), which is how a deployed database gets there too.
 * Anything else (a database behind the code, or of a schema the code does not know) is refused, with the reason.
 */
export function generationFits(
  record: GenerationRecord | undefined,
  applied: string | undefined,
  head: string | undefined,
): { fits: boolean; note: string } {
  if (record === undefined) return { fits: false, note: 'no generation record: not made by bench/generate-data.ts' }
  if (record.migration === head) return { fits: true, note: `generated at the migration head ${head}` }
  if (applied === head && record.migration < (head ?? '')) {
    return { fits: true, note: `generated at migration ${record.migration}, migrated forward to ${head}` }
  }
  return {
    fits: false,
    note: `generated at migration ${record.migration}, at ${applied ?? 'no migration'} now; the code is at ${head}`,
  }
}

/** The command line as it can be typed again, with the server it ran against: its password masked, as it is kept. */
export function commandLine(server: URL): string {
  const shown = new URL(server)
  if (shown.password !== '') shown.password = '***'
  const args = process.argv.slice(2).map((arg) => (/^[\w./=:-]+$/.test(arg) ? arg : `'${arg}'`))
  const script = process.argv[1]?.replace(`${process.cwd()}/`, '') ?? ''
  return [`DATABASE_URL=${shown}`, 'npx tsx', script, ...args].join(' ')
}

/** The last migration applied to the database the client is connected to. */
export async function appliedMigration(client: pg.ClientBase): Promise<string | undefined> {
  const { rows: found } = await client.query<{ found: boolean }>(
    "SELECT to_regclass('public.kysely_migration') IS NOT NULL AS found",
  )
  if (!found[0]?.found) return undefined
  const { rows } = await client.query<{ name: string | null }>('SELECT max(name) AS name FROM kysely_migration')
  return rows[0]?.name ?? undefined
}

export const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9
