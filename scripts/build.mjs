// Builds the service (tsc into dist/) and the explorer (Vite into explorer/dist/). With --if-changed it builds only
// when a source differs from the last build's, so that `npm start` restarts without compiling when nothing changed.
// A hash of the sources' contents, not their times: a checkout that touches files without changing them rebuilds
// nothing, and an edit is never missed because two times compare equal.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** What the build reads besides its tools: a change to any of these makes the next start rebuild. */
const INPUTS = [
  'src',
  'explorer',
  // The typed client, which the explorer bundles, with the settings its sources are read with.
  'clients/typescript/src',
  'clients/typescript/package.json',
  'clients/typescript/tsconfig.json',
  // The module format tsc gives every file, and the version the OpenAPI document states.
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build.mjs',
]
const SKIPPED = new Set([join(ROOT, 'explorer', 'dist'), join(ROOT, 'explorer', 'node_modules')])
/** Written last, so that a build cut off half way is never taken for a finished one. */
const STAMP = join(ROOT, 'dist', '.sources-hash')
const OUTPUTS = [join(ROOT, 'dist', 'server.js'), join(ROOT, 'explorer', 'dist', 'index.html')]

function filesUnder(path) {
  if (SKIPPED.has(path) || !existsSync(path)) return []
  try {
    return readdirSync(path, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((entry) => filesUnder(join(path, entry.name)))
  } catch (error) {
    if (error.code === 'ENOTDIR') return [path]
    throw error
  }
}

function sourcesHash() {
  const hash = createHash('sha256')
  for (const file of INPUTS.flatMap((input) => filesUnder(join(ROOT, input)))) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  return hash.digest('hex')
}

function run(command, args) {
  execFileSync(command, args, { cwd: ROOT, stdio: 'inherit' })
}

const hash = sourcesHash()
const upToDate =
  OUTPUTS.every((output) => existsSync(output)) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash
if (process.argv.includes('--if-changed') && upToDate) process.exit(0)

rmSync(join(ROOT, 'dist'), { recursive: true, force: true })
const bin = (name) => join(ROOT, 'node_modules', '.bin', name)
run(bin('tsc'), ['-p', 'tsconfig.build.json'])
run(bin('vite'), ['build', '--config', 'explorer/vite.config.ts'])
writeFileSync(STAMP, hash)
