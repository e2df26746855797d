import { readFile, writeFile } from 'node:fs/promises'
import { GENERATED_TABLES, withConfigurationTable } from '../config-table.js'

/**
 * `npm run docs:config` writes the tables of settings, generated from the schema in src/config.ts, into the
 * documents that hold them; with `--check` it only compares, and fails when a committed table has drifted.
 */
const check = process.argv.includes('--check')
let drifted = false
for (const table of GENERATED_TABLES) {
  const path = new URL(`../../${table.document}`, import.meta.url)
  const committed = await readFile(path, 'utf8')
  const generated = withConfigurationTable(committed, table)
  if (committed === generated) {
    console.log(`${table.document}: up to date`)
  } else if (check) {
    console.error(`${table.document} is out of date with src/config.ts: run \`npm run docs:config\` and commit it`)
    drifted = true
  } else {
    await writeFile(path, generated)
    console.log(`${table.document}: table written`)
  }
}
if (drifted) process.exit(1)
