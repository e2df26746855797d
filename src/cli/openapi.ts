import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'
import { openPgliteDatabase } from '../db/database.js'
import { PGLITE_EXTENSIONS } from '../db/pglite-extensions.js'

/**
 * `npm run openapi` writes the OpenAPI document generated from the route schemas to openapi/openapi.json;
 * with `--check` it only compares, and fails when the committed copy has drifted from the code.
 */
const DOCUMENT = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))

// The document depends only on the routes, so a throwaway in-memory database serves to build the app.
const database = await openPgliteDatabase(new PGlite({ extensions: PGLITE_EXTENSIONS }), () => undefined)
const app = await buildApp({ config: { ...loadConfig({}), migrateOnStart: false }, database, logger: false })
await app.ready()
const generated = `${JSON.stringify(app.swagger(), null, 2)}\n`
await app.close()

if (process.argv.includes('--check')) {
  const committed = await readFile(DOCUMENT, 'utf8').catch(() => '')
  if (committed !== generated) {
    console.error('openapi/openapi.json is out of date with the route schemas: run `npm run openapi` and commit it')
    process.exit(1)
  }
  console.log('openapi/openapi.json matches the route schemas')
} else {
  await writeFile(DOCUMENT, generated)
  console.log('wrote openapi/openapi.json')
}
