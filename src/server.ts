import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig } from './config.js'
import { DataDirLockedError } from './db/data-dir-lock.js'
import { openDatabaseEarly } from './db/database.js'

/** Starts the service and stops it cleanly: SIGTERM/SIGINT let in-flight requests finish, then the process exits. */
async function main() {
  const config = loadConfig()
  // The database opens while the rest of the service loads, which is why that is imported only now.
  const openingDatabase = openDatabaseEarly(config)
  const { app, serveMetrics } = await (async () => {
    try {
      const [{ buildApp }, { serveMetrics }] = await Promise.all([
        import('./app.js'),
        import('./plugins/metrics.plugin.js'),
      ])
      return { app: await buildApp({ config, openingDatabase }), serveMetrics }
    } catch (error) {
      // Closed before the process exits, which could otherwise cut off a first start creating the database.
      await openingDatabase.abandon()
      throw error
    }
  })()
  const metrics = config.metrics.port === 0 ? undefined : await serveMetrics(app.metricsRegistry, config.metrics)

  // Not ready but still serving first, so that a load balancer's health checks move the traffic elsewhere before the
  // port closes; the grace period then starts, and close-with-grace counts both from the signal.
  closeWithGrace({ delay: config.shutdownDrainMs + config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an unexpected error')
    else app.log.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down')
    if (err === undefined && config.shutdownDrainMs > 0) {
      app.startDraining()
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
    }
    metrics?.close()
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
  void app.schemasOnFirstUse.compileRest((error, schema) =>
    app.log.error({ err: error, ...schema }, 'a route schema does not compile: its requests are answered 500'),
  )
}

main().catch((error: unknown) => {
  // Configuration and lock problems are the user's to fix: say what is wrong, without a stack trace.
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(`counterclaim: ${error.message}`)
  } else {
    console.error('counterclaim: failed to start', error)
  }
  process.exit(1)
})
