import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config.js'
import { openDatabase } from '../db/database.js'
import { DataDirLockedError } from '../db/data-dir-lock.js'
import { migrateToLatest } from '../db/migrator.js'
import { type ApiKey, SCOPES, type Scope } from '../schemas/api-key.schema.js'
import { SLUG_PATTERN } from '../schemas/common.schema.js'
import { createApiKey, findApiKeys, listApiKeys, revokeApiKey } from '../services/api-key.service.js'

const USAGE = `usage:
  npm run keys -- create --name <name> [--scope read|write|admin] [--team <slug>]   (default scope: write)
  npm run keys -- list
  npm run keys -- revoke <id or prefix>

Manages API keys in the configured database (DATABASE_URL, or the embedded one under DATA_DIR, with the server
stopped). create prints the token alone on standard output, the only time it is shown. A write key of a team may
change or delete what any key of that team created.`

class UsageError extends Error {}

function scopeOf(value: string | undefined): Scope {
  if (value === undefined) return 'write'
  if (!(SCOPES as readonly string[]).includes(value))
    throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}`)
  return value as Scope
}

function teamOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (value.length > 100 || !new RegExp(SLUG_PATTERN).test(value)) {
    throw new UsageError('--team must be a slug of at most 100 characters: lower-case letters, digits and hyphens')
  }
  return value
}

function describe(key: ApiKey): string {
  const state = key.revoked_at === null ? `last used ${key.last_used_at ?? 'never'}` : `revoked ${key.revoked_at}`
  const team = key.team === null ? '' : `  team ${key.team}`
  return `${key.id}  ${key.prefix}…  ${key.scopes.join(',').padEnd(5)}  ${key.name}${team}  (created ${key.created_at}, ${state})`
}

/** `npm run keys -- create|list|revoke`: API keys from the command line, also for the first key of an install. */
async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      team: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, target, ...rest] = positionals
  if (values.help === true || command === undefined) {
    console.log(USAGE)
    return
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`)
  if (command === 'create' && (values.name === undefined || values.name.trim() === '')) {
    throw new UsageError('create needs --name: who or what will hold the key')
  }
  if (command === 'revoke' && target === undefined) throw new UsageError('revoke needs the id or prefix of a key')
  if (!['create', 'list', 'revoke'].includes(command)) throw new UsageError(`unknown command: ${command}`)
  const scope = scopeOf(values.scope)
  const team = teamOf(values.team)

  const database = await openDatabase(loadConfig())
  try {
    await migrateToLatest(database.db)
    if (command === 'create') {
      const name = values.name as string
      const { key, token } = await createApiKey(database.db, { name, scopes: [scope], team })
      const ofTeam = key.team === null ? '' : `, team ${key.team}`
      console.error(`created key "${key.name}" (${key.id}, scope ${scope}${ofTeam}); its token, shown only this once:`)
      console.log(token)
    } else if (command === 'list') {
      const keys = await listApiKeys(database.db, { limit: 10_000 })
      if (keys.length === 0) console.error('no keys yet: npm run keys -- create --name <name>')
      for (const key of keys) console.log(describe(key))
    } else {
      const found = await findApiKeys(database.db, target as string)
      if (found.length !== 1) {
        throw new UsageError(
          found.length === 0
            ? `no key has the id or prefix ${target}`
            : `${found.length} keys have the prefix ${target}: use the id`,
        )
      }
      const revoked = await revokeApiKey(database.db, (found[0] as ApiKey).id)
      console.log(describe(revoked))
    }
  } finally {
    await database.close()
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(`keys: ${error.message}`)
    if (error instanceof UsageError) console.error(`\n${USAGE}`)
    process.exitCode = 2
    return
  }
  if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`keys: ${error.message}\n\n${USAGE}`)
    process.exitCode = 2
    return
  }
  console.error('keys: failed', error)
  process.exitCode = 1
})
