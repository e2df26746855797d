import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { withConfigurationTable } from '../config-table.js'

/**
 * `npm run docs:config` writes the table of settings, generated from the schema in src/config.ts, into
 * docs/operations.md; with `--check` it only compares, and fails when the committed table has drifted.
 */
const DOCUMENT = fileURLToPath(new URL('../../docs/operations.md', import.meta.url))

const committed = await readFile(DOCUMENT, 'utf8')
const generated = withConfigurationTable(committed)
if (process.argv.includes('--check')) {
  if (committed !== generated) {
    console.error('docs/operations.md is out of date with src/config.ts: run `npm run docs:config` and commit it')
    process.exit(1)
  }
  console.log('docs/operations.md matches src/config.ts')
} else {
  await writeFile(DOCUMENT, generated)
  console.log('wrote the configuration table of docs/operations.md')
}
