import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort } from '../test/helpers/project-process.js'

/**
 * How long a restart of the embedded service takes: `npm start` on a data directory that exists, timed from the
 * command to the first 200 from /readyz, after one start that builds what needs building and creates the database.
 * `node dist/server.js` is timed the same way, to tell npm's share from the service's. Prints a Markdown section.
 *
 *   npm run bench:restart -- [--runs 7] [--seed]
 */

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    // Restarts on the demo data set rather than an empty database.
    seed: { type: 'boolean', default: false },
  },
})
const runs = Number(options.runs)
const ROOT = new URL('..', import.meta.url).pathname

/** The environment of a project process: the embedded database in `dataDir`, on `port`, quiet. */
function environment(dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  return env
}

async function ready(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it was ready`)
    const answer = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
    if (answer?.status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Starts `command` in its own process group, waits until it is ready, stops it; the milliseconds to ready. */
async function timeStart(command: string[], dataDir: string): Promise<number> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: environment(dataDir, port),
    stdio: 'ignore',
    detached: true,
  })
  try {
    await ready(port, child)
    return performance.now() - started
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM')
    await exited
  }
}

function run(command: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env, stdio: 'inherit' })
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')}: ${code}`))))
  })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const ms = (value: number) => Math.round(value).toLocaleString('en')

const load = os.loadavg().map((value) => value.toFixed(2))
const dataDir = await mkdtemp(join(os.tmpdir(), 'counterclaim-restart-'))
try {
  const first = await timeStart(['npm', 'start'], dataDir)
  if (options.seed) await run(['npm', 'run', '--silent', 'seed:example'], environment(dataDir, 0))
  const measured: Record<string, number[]> = { 'npm start': [], 'node dist/server.js': [] }
  for (let i = 0; i < runs; i++) {
    measured['npm start']!.push(await timeStart(['npm', 'start'], dataDir))
    measured['node dist/server.js']!.push(await timeStart(['node', 'dist/server.js'], dataDir))
  }
  console.log(
    `Run ${new Date().toISOString()}: \`npm run bench:restart -- --runs ${runs}${options.seed ? ' --seed' : ''}\``,
  )
  console.log(`(load average ${load.join(', ')} when it started; Node.js ${process.version})\n`)
  console.log(`First start (builds if a source changed, creates the database): ${ms(first)} ms.\n`)
  console.log('| Restart on the existing data directory | median ms | min–max ms |')
  console.log('| --- | ---: | ---: |')
  for (const [command, times] of Object.entries(measured)) {
    console.log(`| \`${command}\` | ${ms(median(times))} | ${ms(Math.min(...times))}–${ms(Math.max(...times))} |`)
  }
} finally {
  await rm(dataDir, { recursive: true, force: true })
}
