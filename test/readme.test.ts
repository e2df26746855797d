import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { freePort, startProjectProcess } from './helpers/project-process.js'

/**
 * The README's curl walk-through, run as written against a live server (on the embedded database, on a free
 * port), so that the documentation cannot drift from what the service does.
 */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const section = readme.slice(
  readme.indexOf('## A walk through the API with curl'),
  readme.indexOf('## The HTTP contract'),
)
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')

t.test('every command of the README walk-through works against a live server', async (t) => {
  t.ok(blocks.length >= 5, `the walk-through has its command blocks (${blocks.length})`)
  const port = await freePort()
  const server = startProjectProcess(t, 'src/server.ts', {
    DATABASE_URL: '',
    DATA_DIR: t.testdir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  })
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
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
    t.equal(run.status, 0, `runs: ${block.split('\n')[0]}\n${run.stderr}`)
    outputs.push(run.stdout)
  }
  const all = outputs.join('\n')
  t.match(
    all,
    /"slug":"az-defence-ministry".*"side":\{"id":"[^"]+","slug":"azerbaijan"/,
    'the ministry speaks for its state',
  )
  t.match(all, /"text":"Armenian Armed Forces launched a missile attack/, 'the claim was recorded')
  t.match(all, /"quote":"another lie, which primarily seeks/, 'the answer keeps its words')
  t.match(all, /\{"data":\[\{"version":2,/, 'the edit made version 2, and history shows it first')
  t.match(all, /[}\n]200\n/, 'If-None-Match with the old tag is no longer a 304')
  t.match(all, /"code":"validation-failed"/, 'the bad request is a validation problem')

  server.child.kill('SIGTERM')
  t.same((await server.exited).code, 0, 'the server stops cleanly')
})
