import { BENCH_SWITCHES, type BenchSwitch, buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

/**
 * The service as `dist/server.js` runs it, less the parts named in BENCH_WITHOUT (comma-separated, from
 * BENCH_SWITCHES, or `logger` to run without a logger): what the benchmark's breakdown measures each part's cost
 * with. Every arm of the breakdown, the full service among them, runs this same file.
 */
const names = (process.env.BENCH_WITHOUT ?? '').split(',').filter((name) => name !== '')
const unknown = names.filter((name) => name !== 'logger' && !(BENCH_SWITCHES as readonly string[]).includes(name))
if (unknown.length > 0) throw new Error(`BENCH_WITHOUT: unknown parts ${unknown.join(', ')}`)
const without = new Set(names.filter((name): name is BenchSwitch => name !== 'logger'))

const config = loadConfig()
const app = await buildApp({ config, without, ...(names.includes('logger') ? { logger: false } : {}) })
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
await app.listen({ port: config.port, host: config.host })
