import { spawnSync } from 'node:child_process'
import { appendFileSync, cpSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import packageJson from '../package.json' with { type: 'json' }
import { ENGINE_INDEPENDENT } from './helpers/engine-passes.js'

/**
 * `npm start` builds only when a source changed since the last build, so that a restart does not wait for tsc and
 * Vite. Run on a copy of the project, whose dist/ no other test reads.
 */
const ROOT = new URL('..', import.meta.url).pathname
const COPIED = [
  'src',
  'clients/typescript/src',
  'explorer/src',
  'explorer/index.html',
  'explorer/tsconfig.json',
  'explorer/vite.config.ts',
]
const COPIED_FILES = [
  'clients/typescript/package.json',
  'clients/typescript/tsconfig.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
  'scripts',
]

t.test(
  'a start after a build compiles nothing until a source changes',
  { skip: ENGINE_INDEPENDENT, timeout: 300_000 },
  async (t) => {
    t.match(packageJson.scripts.start, /^node scripts\/build\.mjs --if-changed && node dist\/server\.js$/)
    const copy = mkdtempSync(join(tmpdir(), 'counterclaim-build-'))
    t.teardown(() => rmSync(copy, { recursive: true, force: true }))
    for (const path of [...COPIED, ...COPIED_FILES]) cpSync(join(ROOT, path), join(copy, path), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'))
    const server = join(copy, 'dist', 'server.js')
    const explorer = join(copy, 'explorer', 'dist', 'index.html')
    const buildIfChanged = () => {
      const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-changed'], { cwd: copy, encoding: 'utf8' })
      t.equal(build.status, 0, `the build ran: ${build.stderr.slice(-500)}`)
      return { server: statSync(server).mtimeMs, explorer: statSync(explorer).mtimeMs }
    }

    const first = buildIfChanged()
    t.same(buildIfChanged(), first, 'nothing changed: neither the service nor the explorer is built again')

    const source = join(copy, 'src', 'server.ts')
    const later = new Date(Date.now() + 60_000)
    utimesSync(source, later, later)
    t.same(buildIfChanged(), first, 'a source touched but not changed (a checkout) builds nothing either')

    appendFileSync(source, '\n// changed\n')
    const rebuilt = buildIfChanged()
    t.ok(rebuilt.server > first.server, 'a changed source builds the service again')
    t.ok(rebuilt.explorer > first.explorer, 'and the explorer, as one build')

    appendFileSync(join(copy, 'explorer', 'src', 'main.tsx'), '\n// changed\n')
    const explorerChanged = buildIfChanged()
    t.ok(explorerChanged.explorer > rebuilt.explorer, 'so does a change to the explorer alone')

    rmSync(explorer)
    buildIfChanged()
    t.ok(statSync(explorer).isFile(), 'a build whose output went missing is made again')
  },
)
