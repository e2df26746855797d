import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort, startProjectProcess } from './project-process.js'

export const SEED_SCRIPT = 'src/cli/seed-example.ts'
export const KEYS_SCRIPT = 'src/cli/keys.ts'

/** The `sh` code blocks of a Markdown document, between two headings (the end one excluded), in order. */
export function shellBlocks(path: string, from: string, to?: string): string[] {
  const text = readFileSync(new URL(path, new URL('../../', import.meta.url)), 'utf8')
  const start = text.indexOf(from)
  if (start < 0) throw new Error(`${path} has no ${from}`)
  const end = to === undefined ? text.length : text.indexOf(to, start)
  return [...text.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')
}

/**
 * Seeds the demo data set, makes an API key and starts the service as the documents tell a reader to
 * (`npm run seed:example`, `npm run keys -- create`, then `npm start`), with the key's token in COUNTERCLAIM_KEY (and an admin key's in COUNTERCLAIM_ADMIN_KEY), on the embedded database in a directory of the test's own and on a free port; then runs each
 * block of commands as written, with `localhost:3000` pointing at that server, in an empty directory of the
 * test's own, as a reader would in a scratch directory (files the commands write land there, in `workDir`).
 * Returns what each block printed. A block that fails fails the test, with its stderr.
 */
export async function runDocumentedCommands(
  t: Test,
  blocks: string[],
): Promise<{ outputs: string[]; workDir: string }> {
  const root = t.testdir()
  const workDir = join(root, 'work')
  mkdirSync(workDir)
  const env = { DATABASE_URL: '', DATA_DIR: join(root, 'data'), LOG_LEVEL: 'warn' }
  const seed = startProjectProcess(t, SEED_SCRIPT, env)
  t.same(await seed.exited, { code: 0, signal: null }, `the data set loads\n${seed.stderr()}`)
  t.match(seed.stdout(), /claims: 15 created/)
  // `export COUNTERCLAIM_KEY=$(npm run --silent keys -- create --name "my first key")`: its token for the blocks.
  const keys = startProjectProcess(t, KEYS_SCRIPT, env, ['create', '--name', 'my first key'])
  t.same(await keys.exited, { code: 0, signal: null }, `a key is made\n${keys.stderr()}`)
  const token = keys.stdout().trim()
  t.match(token, /^cck_[\w-]{43}$/, 'the key command prints the token alone')
  // `export COUNTERCLAIM_ADMIN_KEY=$(… --name "legal desk" --scope admin)`: the cookbook's erasure needs one.
  const adminKeys = startProjectProcess(t, KEYS_SCRIPT, env, ['create', '--name', 'legal desk', '--scope', 'admin'])
  t.same(await adminKeys.exited, { code: 0, signal: null }, `an admin key is made\n${adminKeys.stderr()}`)
  const adminToken = adminKeys.stdout().trim()

  const port = await freePort()
  const server = startProjectProcess(t, 'src/server.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' })
  let ready = false
  for (let attempt = 0; attempt < 240 && !ready && server.child.exitCode === null; attempt++) {
    ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 250))
  }
  if (!ready) throw new Error(`the server did not become ready: ${server.stderr()}`)

  const outputs: string[] = []
  for (const block of blocks) {
    const script = `set -euo pipefail\n${block.replaceAll('localhost:3000', `127.0.0.1:${port}`)}`
    const run = spawnSync('bash', ['-c', script], {
      encoding: 'utf8',
      cwd: workDir,
      env: { ...process.env, COUNTERCLAIM_KEY: token, COUNTERCLAIM_ADMIN_KEY: adminToken },
    })
    t.equal(run.status, 0, `runs: ${block.split('\n')[0]}\n${run.stderr}`)
    outputs.push(run.stdout)
  }
  server.child.kill('SIGTERM')
  t.same((await server.exited).code, 0, 'the server stops cleanly')
  return { outputs, workDir }
}
