import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import packageJson from '../package.json' with { type: 'json' }
import { freePort, startProjectProcess } from './helpers/project-process.js'

const SEED_SCRIPT = 'src/cli/seed-example.ts'

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
  // The first block seeds the demo data set and starts the service: done here as npm would run it, on a data
  // directory of the test's own, and on a free port.
  const [setup = '', ...commands] = blocks
  t.match(setup, /^npm run seed:example\b.*\nnpm start\b/, 'the walk-through starts by seeding, then starting')
  t.equal(packageJson.scripts['seed:example'], `tsx ${SEED_SCRIPT}`, 'npm run seed:example runs the seed script')
  const env = { DATABASE_URL: '', DATA_DIR: t.testdir(), LOG_LEVEL: 'warn' }
  const seed = startProjectProcess(t, SEED_SCRIPT, env)
  t.same(await seed.exited, { code: 0, signal: null }, `the data set loads\n${seed.stderr()}`)
  t.match(seed.stdout(), /claims: 15 created/)

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
  for (const block of commands) {
    const script = `set -euo pipefail\n${block.replaceAll('localhost:3000', `127.0.0.1:${port}`)}`
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
    t.equal(run.status, 0, `runs: ${block.split('\n')[0]}\n${run.stderr}`)
    outputs.push(run.stdout)
  }
  const all = outputs.join('\n')
  const [disputes = ''] = outputs
  t.match(
    disputes,
    /^\{"data":\[\{"claim":\{"id":"5eed0000-0000-4000-8000-000000000001","party":\{[^}]*"slug":"az-defence-ministry"/,
    'the pipeline claim is the first dispute',
  )
  t.match(disputes, /"status":"disputed".*"rebutted_by":\[\{"id":"[^"]+","slug":"am-foreign-ministry"/)
  t.match(disputes, /"latest_rebuttals":\[\{"link_id":"[^"]+","note":"[^"]*\\"another lie\\"/, 'with the denial')
  t.match(all, /"responses":\[\{"depth":1,"link":\{[^}]*"kind":"rebuts"/, 'the thread shows the rebuttal')
  t.match(
    all,
    /"by":"side","cells":\[\{"claimant":\{[^}]*"slug":"azerbaijan"[^}]*\},"rebutter":\{[^}]*"slug":"armenia"/,
  )
  t.match(all, /\{"link":\{[^}]*"from_party":\{[^}]*"slug":"az-defence-ministry"/, 'the counter-claim is linked')
  t.match(all, /\{"data":\[\{"claim":\{"id":"5eed0000-0000-4000-8000-000000000002"/, 'the denial is disputed')
  t.match(all, /"code":"unprocessable-entity".*different parties/, 'a same-party link is refused')
  t.match(all, /\{"data":\[\{"version":2,/, 'the edit made version 2, and history shows it first')
  t.match(all, /[}\n]200\n/, 'If-None-Match with the old tag is no longer a 304')
  t.match(all, /"code":"validation-failed"/, 'the bad request is a validation problem')

  server.child.kill('SIGTERM')
  t.same((await server.exited).code, 0, 'the server stops cleanly')
})
