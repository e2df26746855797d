/** What the two bench scripts share: where the scratch database is, and the record of how it was made. */

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
}

/** The command line as it can be typed again, with the server it ran against: its password masked, as it is kept. */
export function commandLine(server: URL): string {
  const shown = new URL(server)
  if (shown.password !== '') shown.password = '***'
  const args = process.argv.slice(2).map((arg) => (/^[\w./=:-]+$/.test(arg) ? arg : `'${arg}'`))
  const script = process.argv[1]?.replace(`${process.cwd()}/`, '') ?? ''
  return [`DATABASE_URL=${shown}`, 'npx tsx', script, ...args].join(' ')
}

export const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9
