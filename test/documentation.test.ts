import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { configurationTable, withConfigurationTable } from '../src/config-table.js'
import { SETTING_LIST } from '../src/config.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

t.test('the configuration table of docs/operations.md is the one the settings schema gives', async (t) => {
  const committed = read('docs/operations.md')
  t.equal(committed, withConfigurationTable(committed), 'run `npm run docs:config` and commit docs/operations.md')
  const table = configurationTable()
  for (const { variable } of SETTING_LIST) t.match(table, `| \`${variable}\` `, `${variable} is documented`)
  t.equal(table.split('\n').length, SETTING_LIST.length + 2, 'one row per setting')
})
