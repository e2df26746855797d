import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import GithubSlugger from 'github-slugger'
import { marked, type Token } from 'marked'
import t from 'tap'
import { configurationTable, GENERATED_TABLES, withConfigurationTable } from '../src/config-table.js'
import { SETTING_LIST } from '../src/config.js'
import { PROBLEMS } from '../src/errors/problems.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

/** The project's own documents: the README, CONTRIBUTING.md and the manual in docs/. */
const DOCUMENTS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]

/** Every token of a Markdown document, nested ones (links inside paragraphs, tables, lists) included. */
function tokensOf(markdown: string): Token[] {
  const all: Token[] = []
  marked.walkTokens(marked.lexer(markdown), (token) => {
    all.push(token)
  })
  return all
}

/** The anchors GitHub gives the headings of a document. */
function anchorsOf(markdown: string): Set<string> {
  const slugger = new GithubSlugger()
  return new Set(
    tokensOf(markdown)
      .filter((token) => token.type === 'heading')
      .map((token) => slugger.slug((token as { text: string }).text.replaceAll('`', ''))),
  )
}

t.test('the tables of settings in the documents are the ones the settings schema gives', async (t) => {
  for (const table of GENERATED_TABLES) {
    const committed = read(table.document)
    t.equal(
      committed,
      withConfigurationTable(committed, table),
      `run \`npm run docs:config\` and commit ${table.document}`,
    )
  }
  const full = configurationTable()
  for (const { variable } of SETTING_LIST) t.match(full, `| \`${variable}\` `, `${variable} is documented`)
  t.equal(full.split('\n').length, SETTING_LIST.length + 2, 'one row per setting')
  t.throws(() => configurationTable(['NO_SUCH_SETTING']), /no such setting: NO_SUCH_SETTING/)
})

t.test('docs/errors.md documents every code of the catalogue, with its status and title, and no other', async (t) => {
  const rows = [...read('docs/errors.md').matchAll(/^\| `([a-z-]+)` +\| (\d{3}) +\| ([^|]+?) +\|/gm)]
  const documented = Object.fromEntries(
    rows.map(([, code, status, title]) => [code, { status: Number(status), title }]),
  )
  t.equal(rows.length, Object.keys(documented).length, 'each code once')
  t.same(documented, PROBLEMS)
})

t.test('every relative link of the documents points at a file that exists, and at one of its headings', async (t) => {
  for (const document of DOCUMENTS) {
    const links = tokensOf(read(document))
      .filter((token) => token.type === 'link')
      .map((token) => (token as { href: string }).href)
      .filter((href) => !/^[a-z][a-z+.-]*:/i.test(href))
    for (const href of links) {
      const [path = '', anchor] = href.split('#')
      const target = path === '' ? join(ROOT, document) : join(ROOT, dirname(document), decodeURIComponent(path))
      const name = relative(ROOT, target)
      if (!existsSync(target)) {
        t.fail(`${document}: ${href} points at ${name}, which does not exist`)
        continue
      }
      if (anchor === undefined) {
        t.pass(`${document}: ${href}`)
        continue
      }
      t.ok(statSync(target).isFile() && name.endsWith('.md'), `${document}: ${href} names a heading of a document`)
      t.ok(anchorsOf(readFileSync(target, 'utf8')).has(anchor), `${document}: ${name} has the heading #${anchor}`)
    }
  }
})

t.test('the statements docs/scaling.md checks against Citus are named after functions that exist', async (t) => {
  const scaling = read('docs/scaling.md')
  const section = scaling.slice(scaling.indexOf('### Every statement, checked'), scaling.indexOf('### References'))
  t.ok(section.length > 0, 'the section is there')
  // Function names are the camelCase identifiers in code spans; column and setting names are snake_case.
  const named = new Set(
    tokensOf(section)
      .filter((token) => token.type === 'codespan')
      .map((token) => (token as { text: string }).text)
      .filter((text) => /^[a-z]+[A-Z][A-Za-z]*$/.test(text)),
  )
  t.ok(named.size >= 50, `${named.size} functions named`)
  const sources = ['src/repositories', 'src/db', 'src/services']
    .flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)),
    )
    .filter((file) => file.endsWith('.ts'))
    .map(read)
    .join('\n')
  for (const name of named) {
    t.ok(new RegExp(`(function|const|let) ${name}\\b`).test(sources), `${name} is defined in src/`)
  }
})
