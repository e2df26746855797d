import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface ProjectProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * Runs one of the project's TypeScript entry points (`src/server.ts`, `src/cli/migrate.ts`) as its own process,
 * the way it runs outside the tests: without tap's NODE_OPTIONS loaders and TAP_* settings, with `env` on top of
 * this process's environment. The process is killed when the test ends, if it still runs.
 */
export function startProjectProcess(
  t: Teardown,
  script: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): ProjectProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/.test(name)),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    // Metrics off unless a test asks: processes of tests that run at once would all want the default port.
    env: { ...inherited, METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** A TCP port on the loopback interface that is free right now, for a server the test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export interface ServerProcess extends ProjectProcess {
  port: number
  /** `http://127.0.0.1:<port>` */
  base: string
}

/**
 * Starts `src/server.ts` on a free loopback port with `env` (a database from `prepareServerDatabase`, and the
 * test's own settings) and resolves once `/readyz` answers 200. Overload shedding on event-loop delay is off: a
 * busy test machine must not have requests refused as an overload.
 */
export async function startServerProcess(t: Teardown, env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const port = await freePort()
  const server = startProjectProcess(t, 'src/server.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  })
  const base = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    const ready = await fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    )
    if (ready) return { ...server, port, base }
    if (attempt > 240 || server.child.exitCode !== null) throw new Error(`the server did not start: ${server.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
